// Committed offsets of every group, by group → topic → partition, and the rule that decides
// when an offset has outlived offsets.retention.minutes (Kafka's OffsetExpirationCondition).
import type { OffsetCommitValue } from "../../protocol/consumer-offsets.ts";
import type { ClassicGroup } from "./group.ts";

/** A committed offset as __consumer_offsets stores it. */
export type CommittedOffset = OffsetCommitValue;

export interface OffsetEntry {
  readonly topic: string;
  readonly partition: number;
  readonly value: CommittedOffset;
}

export class OffsetTable {
  readonly #byGroup = new Map<string, Map<string, Map<number, CommittedOffset>>>();

  get(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.#byGroup.get(groupId)?.get(topic)?.get(partition);
  }

  put(groupId: string, topic: string, partition: number, value: CommittedOffset): void {
    let topics = this.#byGroup.get(groupId);
    if (topics === undefined)
      this.#byGroup.set(groupId, (topics = new Map<string, Map<number, CommittedOffset>>()));
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = new Map<number, CommittedOffset>()));
    partitions.set(partition, value);
  }

  delete(groupId: string, topic: string, partition: number): boolean {
    const topics = this.#byGroup.get(groupId);
    const partitions = topics?.get(topic);
    if (topics === undefined || partitions === undefined || !partitions.delete(partition)) return false;
    if (partitions.size === 0) topics.delete(topic);
    if (topics.size === 0) this.#byGroup.delete(groupId);
    return true;
  }

  hasOffsets(groupId: string): boolean {
    return this.#byGroup.has(groupId);
  }

  /** Every committed offset of a group, topic by topic. */
  entries(groupId: string): OffsetEntry[] {
    const out: OffsetEntry[] = [];
    const topics = this.#byGroup.get(groupId);
    if (topics === undefined) return out;
    for (const [topic, partitions] of topics)
      for (const [partition, value] of partitions) out.push({ topic, partition, value });
    return out;
  }

  groupIds(): string[] {
    return [...this.#byGroup.keys()];
  }
}

/**
 * The timestamp an offset's retention counts from, or null when the group's offsets must not
 * expire now. Empty groups count from when they became empty (so a consumer that stopped a
 * week ago loses its offsets a week later, not a week after its last commit); stable consumer
 * groups count from the commit, and only for topics nobody subscribes to; simple groups (no
 * protocol type, offsets only) count from the commit.
 */
export function expiryBase(group: ClassicGroup): ((o: CommittedOffset) => number) | null {
  if (group.protocolType === null) return (o) => o.commitTimestampMs;
  if (group.is("Empty")) {
    const since = group.stateTimestampMs;
    return (o) => since ?? o.commitTimestampMs;
  }
  if (group.usesConsumerProtocol() && group.subscribedTopics !== null && group.is("Stable"))
    return (o) => o.commitTimestampMs;
  return null;
}

export function isOffsetExpired(
  o: CommittedOffset,
  base: (o: CommittedOffset) => number,
  nowMs: number,
  retentionMs: number,
): boolean {
  if (o.expireTimestampMs !== null) return nowMs >= o.expireTimestampMs;
  return nowMs - base(o) >= retentionMs;
}
