// The per-partition settings the storage engine obeys, named after Kafka's topic configs
// (comments give the Kafka name). The broker maps topic and broker configs onto this shape;
// the log only reads it, and takes a new one at runtime through PartitionLog.setConfig.
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";

/** Kafka's Long.MAX_VALUE settings ("never", "no limit") as the largest exact JS number. */
export const LONG_MAX = Number.MAX_SAFE_INTEGER;

export interface LogConfig {
  /** segment.bytes: roll the active segment before it would exceed this size. */
  segmentBytes: number;
  /** segment.ms: roll when the active segment's data spans more than this much time. */
  segmentMs: number;
  /** retention.ms: delete segments whose newest record is older than this (-1 = forever). */
  retentionMs: number;
  /** retention.bytes: delete the oldest segments while the log is larger (-1 = no limit). */
  retentionBytes: number;
  /** max.message.bytes: the largest record batch accepted. */
  maxMessageBytes: number;
  /** index.interval.bytes: bytes of log between two offset index entries. */
  indexIntervalBytes: number;
  /** segment.index.bytes: the largest index file; a full index rolls the segment. */
  segmentIndexBytes: number;
  /** flush.messages: fsync after this many records (LONG_MAX = leave it to the OS). */
  flushMessages: number;
  /** flush.ms: fsync data older than this (LONG_MAX = leave it to the OS). */
  flushMs: number;
  /** message.timestamp.type. */
  messageTimestampType: "CreateTime" | "LogAppendTime";
  /** file.delete.delay.ms: how long deleted segment files stay readable by in-flight fetches. */
  fileDeleteDelayMs: number;
  // Optional: left out, they take the Kafka 4.x defaults below.
  /** message.timestamp.before.max.ms: oldest CreateTime accepted, relative to now. */
  messageTimestampBeforeMaxMs?: number;
  /** message.timestamp.after.max.ms: newest CreateTime accepted (Kafka 4.0 default: 1 hour). */
  messageTimestampAfterMaxMs?: number;
  /**
   * cleanup.policy. "compact" makes records without a key invalid, turns time/size retention
   * off and lets the log cleaner (cleaner.ts) keep only the latest record per key;
   * "compact,delete" does both.
   */
  cleanupPolicy?: "delete" | "compact" | "compact,delete";
  /** min.cleanable.dirty.ratio: the cleaner takes a log once dirty bytes reach this share of it. */
  minCleanableDirtyRatio?: number;
  /** min.compaction.lag.ms: records younger than this are not compacted. */
  minCompactionLagMs?: number;
  /** max.compaction.lag.ms: dirty records older than this are compacted whatever the dirty ratio. */
  maxCompactionLagMs?: number;
  /** delete.retention.ms: how long tombstones and transaction markers outlive the cleaning that first saw them. */
  deleteRetentionMs?: number;
  /** producer.id.expiration.ms (a broker config): idle producers' state is dropped after this. */
  producerIdExpirationMs?: number;
}

/** A LogConfig with every optional setting filled in. */
export type FullLogConfig = Required<LogConfig>;

/** Kafka 4.x defaults. */
export const DEFAULT_LOG_CONFIG: Readonly<FullLogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  maxMessageBytes: 1048588,
  indexIntervalBytes: 4096,
  segmentIndexBytes: 10 * 1024 * 1024,
  flushMessages: LONG_MAX,
  flushMs: LONG_MAX,
  messageTimestampType: "CreateTime",
  fileDeleteDelayMs: 60_000,
  messageTimestampBeforeMaxMs: LONG_MAX,
  messageTimestampAfterMaxMs: 60 * 60 * 1000,
  cleanupPolicy: "delete",
  producerIdExpirationMs: 24 * 60 * 60 * 1000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: LONG_MAX,
  deleteRetentionMs: 24 * 60 * 60 * 1000,
});

/** A config with some fields changed from the defaults. */
export function logConfig(overrides: Partial<LogConfig> = {}): FullLogConfig {
  return completeLogConfig({ ...DEFAULT_LOG_CONFIG, ...overrides });
}

/** Fills in the optional settings and validates the result. */
export function completeLogConfig(config: LogConfig): FullLogConfig {
  const full: FullLogConfig = {
    ...config,
    messageTimestampBeforeMaxMs:
      config.messageTimestampBeforeMaxMs ?? DEFAULT_LOG_CONFIG.messageTimestampBeforeMaxMs,
    messageTimestampAfterMaxMs:
      config.messageTimestampAfterMaxMs ?? DEFAULT_LOG_CONFIG.messageTimestampAfterMaxMs,
    cleanupPolicy: config.cleanupPolicy ?? DEFAULT_LOG_CONFIG.cleanupPolicy,
    producerIdExpirationMs: config.producerIdExpirationMs ?? DEFAULT_LOG_CONFIG.producerIdExpirationMs,
    minCleanableDirtyRatio: config.minCleanableDirtyRatio ?? DEFAULT_LOG_CONFIG.minCleanableDirtyRatio,
    minCompactionLagMs: config.minCompactionLagMs ?? DEFAULT_LOG_CONFIG.minCompactionLagMs,
    maxCompactionLagMs: config.maxCompactionLagMs ?? DEFAULT_LOG_CONFIG.maxCompactionLagMs,
    deleteRetentionMs: config.deleteRetentionMs ?? DEFAULT_LOG_CONFIG.deleteRetentionMs,
  };
  validateLogConfig(full);
  return full;
}

/**
 * Throws INVALID_CONFIG for values the storage engine cannot work with. Kafka's stricter
 * minimums (segment.bytes >= 1 MiB since 4.0) are the broker's to enforce; tests need small
 * segments, so only what would break the log is refused here.
 */
export function validateLogConfig(config: FullLogConfig): void {
  const positive: (keyof FullLogConfig)[] = ["segmentBytes", "segmentMs", "flushMessages", "flushMs"];
  for (const key of positive) {
    const v = config[key];
    if (typeof v !== "number" || !(v >= 1)) invalid(`${key} must be >= 1, got ${String(v)}`);
  }
  const nonNegative: (keyof FullLogConfig)[] = [
    "maxMessageBytes",
    "indexIntervalBytes",
    "fileDeleteDelayMs",
    "messageTimestampBeforeMaxMs",
    "messageTimestampAfterMaxMs",
    "producerIdExpirationMs",
    "minCleanableDirtyRatio",
    "minCompactionLagMs",
    "deleteRetentionMs",
  ];
  for (const key of nonNegative) {
    const v = config[key];
    if (typeof v !== "number" || !(v >= 0)) invalid(`${key} must be >= 0, got ${String(v)}`);
  }
  if (!(config.maxCompactionLagMs >= 1))
    invalid(`maxCompactionLagMs must be >= 1, got ${config.maxCompactionLagMs}`);
  if (!(config.retentionMs >= -1)) invalid(`retentionMs must be >= -1, got ${config.retentionMs}`);
  if (!(config.retentionBytes >= -1)) invalid(`retentionBytes must be >= -1, got ${config.retentionBytes}`);
  // An index must hold at least one entry of either kind (offset 8 bytes, time 12).
  if (!(config.segmentIndexBytes >= 12))
    invalid(`segmentIndexBytes must be >= 12, got ${config.segmentIndexBytes}`);
  if (config.messageTimestampType !== "CreateTime" && config.messageTimestampType !== "LogAppendTime") {
    invalid(
      `messageTimestampType must be CreateTime or LogAppendTime, got ${String(config.messageTimestampType)}`,
    );
  }
  if (!["delete", "compact", "compact,delete"].includes(config.cleanupPolicy)) {
    invalid(`cleanupPolicy must be delete, compact or compact,delete, got ${String(config.cleanupPolicy)}`);
  }
}

/** Whether time and size retention apply (cleanup.policy contains "delete"). */
export function deletesByRetention(config: FullLogConfig): boolean {
  return config.cleanupPolicy !== "compact";
}

/** Whether records must carry a key (cleanup.policy contains "compact"). */
export function isCompacted(config: FullLogConfig): boolean {
  return config.cleanupPolicy !== "delete";
}

function invalid(message: string): never {
  throw new KafkaError(ErrorCode.INVALID_CONFIG, message);
}
