// Every API the broker serves. This list is the single source of truth: the dispatcher
// routes by it and ApiVersions answers from it.
import type { AnyApiHandler } from "./api.ts";
import { createAcls, deleteAcls, describeAcls } from "./acl-apis.ts";
import { addOffsetsToTxn } from "./add-offsets-to-txn.ts";
import { addPartitionsToTxn } from "./add-partitions-to-txn.ts";
import { alterConfigs } from "./alter-configs.ts";
import { apiVersions } from "./api-versions.ts";
import { createPartitions } from "./create-partitions.ts";
import { createTopics } from "./create-topics.ts";
import { deleteGroups } from "./delete-groups.ts";
import { deleteRecords } from "./delete-records.ts";
import { deleteTopics } from "./delete-topics.ts";
import { describeCluster } from "./describe-cluster.ts";
import { describeConfigs } from "./describe-configs.ts";
import { describeGroups } from "./describe-groups.ts";
import { describeTransactions } from "./describe-transactions.ts";
import { endTxn } from "./end-txn.ts";
import { fetch } from "./fetch.ts";
import { ferryMirrorAppend } from "./ferry-mirror-append.ts";
import { findCoordinator } from "./find-coordinator.ts";
import { heartbeat } from "./heartbeat.ts";
import { incrementalAlterConfigs } from "./incremental-alter-configs.ts";
import { initProducerId } from "./init-producer-id.ts";
import { joinGroup } from "./join-group.ts";
import { leaveGroup } from "./leave-group.ts";
import { listGroups } from "./list-groups.ts";
import { listOffsets } from "./list-offsets.ts";
import { listTransactions } from "./list-transactions.ts";
import { metadata } from "./metadata.ts";
import { offsetCommit } from "./offset-commit.ts";
import { offsetDelete } from "./offset-delete.ts";
import { offsetFetch } from "./offset-fetch.ts";
import { offsetForLeaderEpoch } from "./offset-for-leader-epoch.ts";
import { produce } from "./produce.ts";
import { saslAuthenticate } from "./sasl-authenticate.ts";
import { saslHandshake } from "./sasl-handshake.ts";
import { alterUserScramCredentials, describeUserScramCredentials } from "./scram-credential-apis.ts";
import { syncGroup } from "./sync-group.ts";
import { txnOffsetCommit } from "./txn-offset-commit.ts";

export const API_HANDLERS: readonly AnyApiHandler[] = [
  produce,
  fetch,
  listOffsets,
  metadata,
  offsetCommit,
  offsetFetch,
  findCoordinator,
  joinGroup,
  heartbeat,
  leaveGroup,
  syncGroup,
  describeGroups,
  listGroups,
  saslHandshake,
  apiVersions,
  createTopics,
  deleteTopics,
  deleteRecords,
  initProducerId,
  offsetForLeaderEpoch,
  addPartitionsToTxn,
  addOffsetsToTxn,
  endTxn,
  txnOffsetCommit,
  describeAcls,
  createAcls,
  deleteAcls,
  describeConfigs,
  alterConfigs,
  createPartitions,
  deleteGroups,
  saslAuthenticate,
  incrementalAlterConfigs,
  offsetDelete,
  describeCluster,
  describeTransactions,
  describeUserScramCredentials,
  alterUserScramCredentials,
  listTransactions,
  // Ferry's own extensions (keys 32000+).
  ferryMirrorAppend,
];
