// Effective topic settings: a topic's overrides over the broker's defaults, validation of
// changes, and the LogConfig the storage engine runs with.
import { KafkaError, ErrorCode } from "../protocol/error-codes.ts";
import type { BrokerConfig } from "./config/broker-config.ts";
import { invalidReason, longValue, TOPIC_CONFIGS, topicConfigDef } from "./config/config-defs.ts";
import type { LogConfig } from "./log/log-config.ts";

/** Where a setting's value comes from, with Kafka's DescribeConfigs source codes. */
export const ConfigSource = {
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

export interface EffectiveConfig {
  name: string;
  value: string;
  source: number;
  /** The broker setting behind a topic default, for DescribeConfigs synonyms. */
  synonym: string | null;
}

/** Checks topic config overrides; throws INVALID_CONFIG naming the setting. */
export function validateTopicConfigs(configs: Record<string, string | null>): void {
  for (const [name, value] of Object.entries(configs)) {
    const def = topicConfigDef(name);
    if (def === undefined) throw new KafkaError(ErrorCode.INVALID_CONFIG, `unknown topic config '${name}'`);
    if (value === null) continue;
    const reason = invalidReason(def, value);
    if (reason !== null) throw new KafkaError(ErrorCode.INVALID_CONFIG, reason);
  }
}

/** Every topic setting with its effective value and source. */
export function effectiveTopicConfigs(
  overrides: Record<string, string>,
  broker: BrokerConfig,
): EffectiveConfig[] {
  return TOPIC_CONFIGS.flatMap((def): EffectiveConfig[] => {
    const own = overrides[def.name];
    if (own !== undefined)
      return [{ name: def.name, value: own, source: ConfigSource.TOPIC_CONFIG, synonym: def.synonym }];
    // Ferry's own settings (no broker default) are listed only where set.
    if (def.synonym === null) return [];
    const brokerValue = broker.get(def.synonym);
    const source = broker.isExplicit(def.synonym)
      ? ConfigSource.STATIC_BROKER_CONFIG
      : ConfigSource.DEFAULT_CONFIG;
    return [{ name: def.name, value: brokerValue, source, synonym: def.synonym }];
  });
}

/** The storage engine's settings for a topic. */
export function logConfigFor(overrides: Record<string, string>, broker: BrokerConfig): LogConfig {
  const v = (name: string): string => overrides[name] ?? broker.topicDefault(name);
  // A compact-only topic keeps its records until the cleaner replaces them: time and size
  // retention apply only with the delete policy.
  const deletes = v("cleanup.policy").split(",").includes("delete");
  return {
    segmentBytes: Number(v("segment.bytes")),
    segmentMs: longValue(v("segment.ms")),
    retentionMs: deletes ? longValue(v("retention.ms")) : -1,
    retentionBytes: deletes ? longValue(v("retention.bytes")) : -1,
    maxMessageBytes: Number(v("max.message.bytes")),
    indexIntervalBytes: Number(v("index.interval.bytes")),
    segmentIndexBytes: Number(v("segment.index.bytes")),
    flushMessages: longValue(v("flush.messages")),
    flushMs: longValue(v("flush.ms")),
    messageTimestampType: v("message.timestamp.type") === "LogAppendTime" ? "LogAppendTime" : "CreateTime",
    fileDeleteDelayMs: longValue(v("file.delete.delay.ms")),
    cleanupPolicy: deletes
      ? v("cleanup.policy").includes("compact")
        ? "compact,delete"
        : "delete"
      : "compact",
    messageTimestampBeforeMaxMs: longValue(v("message.timestamp.before.max.ms")),
    messageTimestampAfterMaxMs: longValue(v("message.timestamp.after.max.ms")),
    minCleanableDirtyRatio: Number(v("min.cleanable.dirty.ratio")),
    minCompactionLagMs: longValue(v("min.compaction.lag.ms")),
    maxCompactionLagMs: longValue(v("max.compaction.lag.ms")),
    deleteRetentionMs: longValue(v("delete.retention.ms")),
  };
}
