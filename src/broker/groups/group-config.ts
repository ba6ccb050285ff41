// The group coordinator's settings, with Kafka's names and defaults.

export interface GroupCoordinatorConfig {
  /** group.initial.rebalance.delay.ms: how long a new group waits for more members to join. */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms */
  minSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  maxSessionTimeoutMs: number;
  /** group.max.size */
  maxSize: number;
  /** offsets.retention.minutes, in milliseconds. */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms: how often expired offsets are cleaned up. */
  offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes (compared with the string's length, as Kafka does). */
  offsetMetadataMaxBytes: number;
  /** How long a brand-new member's JoinGroup may stay parked (Kafka: 5 minutes, fixed). */
  newMemberJoinTimeoutMs: number;
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: Readonly<GroupCoordinatorConfig> = Object.freeze({
  initialRebalanceDelayMs: 3000,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  maxSize: 0x7fffffff,
  offsetsRetentionMs: 7 * 24 * 60 * 60 * 1000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4096,
  newMemberJoinTimeoutMs: 5 * 60 * 1000,
});

/**
 * Builds the config from Kafka-named broker settings; `setting` returns undefined for a
 * name it does not have, which then takes Kafka's default.
 */
export function groupCoordinatorConfig(
  setting: (kafkaName: string) => number | undefined,
): GroupCoordinatorConfig {
  const d = DEFAULT_GROUP_COORDINATOR_CONFIG;
  const minutes = setting("offsets.retention.minutes");
  return {
    initialRebalanceDelayMs: setting("group.initial.rebalance.delay.ms") ?? d.initialRebalanceDelayMs,
    minSessionTimeoutMs: setting("group.min.session.timeout.ms") ?? d.minSessionTimeoutMs,
    maxSessionTimeoutMs: setting("group.max.session.timeout.ms") ?? d.maxSessionTimeoutMs,
    maxSize: setting("group.max.size") ?? d.maxSize,
    offsetsRetentionMs: minutes === undefined ? d.offsetsRetentionMs : minutes * 60_000,
    offsetsRetentionCheckIntervalMs:
      setting("offsets.retention.check.interval.ms") ?? d.offsetsRetentionCheckIntervalMs,
    offsetMetadataMaxBytes: setting("offset.metadata.max.bytes") ?? d.offsetMetadataMaxBytes,
    newMemberJoinTimeoutMs: d.newMemberJoinTimeoutMs,
  };
}
