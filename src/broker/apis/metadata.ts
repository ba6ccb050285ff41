// Metadata (key 3). v1: null topics = all, controller id, rack, internal flag. v2: cluster
// id. v4: allow_auto_topic_creation. v5: offline replicas. v7: leader epoch. v8:
// authorized operations. v9: flexible. v10: topic ids. v11: no cluster operations. v12:
// topic names may be null when asking by id.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import type { MetadataResponseTopic } from "../../protocol/generated/metadata-response.ts";
import type { Input } from "../../protocol/codec-runtime.ts";
import { ZERO_UUID } from "../../protocol/codec-runtime.ts";
import { LEADER_EPOCH } from "../broker-context.ts";
import { invalidTopicName } from "../metadata/topic-names.ts";
import type { TopicRecord } from "../metadata/metadata-store.ts";
import { AclOperation, AclResourceType, CLUSTER_RESOURCE } from "../security/acls.ts";
import { defineApi } from "./api.ts";

/** Kafka's "authorized operations not requested" marker. */
const OPERATIONS_UNSET = -2147483648;

function describeTopic(topic: TopicRecord, nodeId: number): Input<MetadataResponseTopic> {
  const partitions = [];
  for (let p = 0; p < topic.partitions; p++) {
    partitions.push({
      errorCode: 0,
      partitionIndex: p,
      leaderId: nodeId,
      leaderEpoch: LEADER_EPOCH,
      replicaNodes: [nodeId],
      isrNodes: [nodeId],
      offlineReplicas: [],
    });
  }
  return {
    errorCode: 0,
    name: topic.name,
    topicId: topic.id,
    isInternal: topic.internal,
    partitions,
    topicAuthorizedOperations: OPERATIONS_UNSET,
  };
}

export const metadata = defineApi({
  key: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle(req, ctx) {
    const b = ctx.broker;
    const nodeId = b.meta.nodeId;
    // Clients are told the address of the listener they came in on (Kafka's per-listener metadata).
    const advertised = b.advertisedByListener.get(ctx.session.listener.name) ?? b.advertised;
    // v0 asks for every topic with an empty list; v1+ with null.
    const all = req.topics === null || (ctx.apiVersion === 0 && req.topics.length === 0);
    const autoCreate = ctx.apiVersion < 4 || req.allowAutoTopicCreation;
    const topics: Input<MetadataResponseTopic>[] = [];
    const mayDescribe = (name: string): boolean =>
      ctx.authorize(AclOperation.DESCRIBE, AclResourceType.TOPIC, name);
    const denied = (name: string | null, topicId?: string): Input<MetadataResponseTopic> => ({
      errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      name,
      ...(topicId !== undefined ? { topicId } : {}),
      partitions: [],
    });
    if (all) {
      // Topics the caller may not describe are left out, as Kafka does.
      for (const t of b.topics.topics()) if (mayDescribe(t.name)) topics.push(describeTopic(t, nodeId));
    } else {
      for (const wanted of req.topics ?? []) {
        const byId = wanted.name === null && wanted.topicId !== ZERO_UUID;
        if (byId) {
          const t = b.topics.topicById(wanted.topicId);
          if (t !== undefined && !mayDescribe(t.name)) {
            topics.push(denied(null, wanted.topicId));
            continue;
          }
          topics.push(
            t !== undefined
              ? describeTopic(t, nodeId)
              : {
                  errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
                  name: null,
                  topicId: wanted.topicId,
                  partitions: [],
                },
          );
          continue;
        }
        const name = wanted.name ?? "";
        if (invalidTopicName(name) !== null) {
          topics.push({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, name, partitions: [] });
          continue;
        }
        if (!mayDescribe(name)) {
          topics.push(denied(name));
          continue;
        }
        // Auto-creation also needs CREATE, on the cluster or on the topic.
        const mayCreate =
          autoCreate &&
          (ctx.authorize(AclOperation.CREATE, AclResourceType.CLUSTER, CLUSTER_RESOURCE) ||
            ctx.authorize(AclOperation.CREATE, AclResourceType.TOPIC, name));
        const t = b.topics.topic(name) ?? (mayCreate ? await b.topics.autoCreate(name) : undefined);
        topics.push(
          t !== undefined
            ? describeTopic(t, nodeId)
            : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, partitions: [] },
        );
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId, host: advertised.host, port: advertised.port, rack: null }],
      clusterId: b.meta.clusterId,
      controllerId: nodeId,
      topics,
      clusterAuthorizedOperations: OPERATIONS_UNSET,
    };
  },
});
