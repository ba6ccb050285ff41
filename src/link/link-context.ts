// What the parts of a running link share: both clusters, its replicas, state stores, options,
// logger and metrics. Built by Link; the other modules take it instead of importing Link.
import type { Admin } from "../client/admin.ts";
import type { Cluster } from "../client/cluster.ts";
import type { FramePool } from "../net/frame-pool.ts";
import type { Logger } from "../util/logger.ts";
import type { LinkMetrics } from "./link-metrics.ts";
import type { LinkRegistration } from "./link-registry.ts";
import type { LinkStateStore } from "./link-state-store.ts";
import type { LoopGuard } from "./loop-guard.ts";
import type { PartitionReplica } from "./partition-replica.ts";
import type { TopicFilter } from "./topic-filter.ts";

export interface LinkTuning {
  /** How often source topics are listed (new topics, partition increases). */
  topicsIntervalMs: number;
  /** How often consumer group offsets are polled (the backstop of the __consumer_offsets stream). */
  groupsIntervalMs: number;
  /** How often topic configs are compared and synced. */
  configsIntervalMs: number;
  /** How often translation checkpoints and offset-map runs are persisted. */
  checkpointIntervalMs: number;
  /** Fetch long-poll time. */
  fetchMaxWaitMs: number;
  fetchMaxBytes: number;
  partitionMaxBytes: number;
  /** Back-off of a partition after an error. */
  errorBackoffMs: number;
  /** Fetch/write pipelines per source broker and mode (partitions are split among them). */
  lanes: number;
}

export const DEFAULT_TUNING: LinkTuning = {
  topicsIntervalMs: 2_000,
  groupsIntervalMs: 5_000,
  configsIntervalMs: 30_000,
  checkpointIntervalMs: 1_000,
  fetchMaxWaitMs: 500,
  fetchMaxBytes: 16 << 20,
  partitionMaxBytes: 4 << 20,
  errorBackoffMs: 1_000,
  lanes: 4,
};

export interface LinkContext {
  readonly name: string;
  /** The source's large fetch answers land here; a fetch loop gives each back once written. */
  readonly framePool: FramePool;
  readonly source: Cluster;
  readonly target: Cluster;
  readonly sourceAdmin: Admin;
  readonly targetAdmin: Admin;
  readonly sourceClusterId: string;
  readonly targetClusterId: string;
  readonly prefix: string;
  /** Removed from source topic names before `prefix` is added ("" for none). */
  readonly stripPrefix: string;
  readonly tuning: LinkTuning;
  readonly logger: Logger;
  readonly metrics: LinkMetrics;
  /** By "sourceTopic/partition". */
  readonly replicas: Map<string, PartitionReplica>;
  /** This link's state on the target. */
  readonly state: LinkStateStore;
  /** The source cluster's link state (links writing into the source), for loop prevention. */
  readonly sourceState: LinkStateStore;
  /** What the link records about itself on the target (producer ids are added per producer). */
  readonly registration: Omit<LinkRegistration, "producerIds">;
  readonly loopGuard: LoopGuard;
  readonly signal: AbortSignal;
  filter: TopicFilter;
  paused: boolean;
  /** Called after the data path wrote to the target: offset commits waiting for those records may go. */
  onCopied: (() => void) | undefined;
}
