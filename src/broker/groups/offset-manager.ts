// Committed offsets (Kafka's OffsetMetadataManager): commit validation against the group's
// generation, durable commits, fetches, deletion of offsets and of whole groups, and expiry.
// Memory changes only after the store took the records, in append order, so what a fetch
// sees is always what a restart would load.
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { Logger } from "../../util/logger.ts";
import type { GroupCoordinatorConfig } from "./group-config.ts";
import type { ClassicGroup } from "./group.ts";
import type { GroupManager } from "./group-manager.ts";
import type { GroupRecord, GroupWriter, TxnProducer } from "./group-store.ts";
import { OffsetTable, expiryBase, isOffsetExpired, type CommittedOffset } from "./offsets.ts";
import type { Clock } from "./timers.ts";
import { offsetWriteErrorCode } from "./write-errors.ts";

export interface CommitParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2-4 only; -1 = the broker's retention. */
  retentionTimeMs: number;
  apiVersion: number;
  partitions: readonly CommitPartition[];
}

/** A TxnOffsetCommit: offsets that take effect when the producer's transaction commits. */
export interface TxnCommitParams {
  groupId: string;
  producer: TxnProducer;
  /** v3+; -1, "" and null skip the member checks, as for a consumer without group management. */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  partitions: readonly CommitPartition[];
}

/** Offsets of one producer's open transaction: group → "topic\u0000partition" → offset. */
type PendingTxnOffsets = Map<
  string,
  Map<string, { topic: string; partition: number; value: CommittedOffset }>
>;

export interface CommitPartition {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  /** OffsetCommit v1 only; -1 = now. */
  commitTimestampMs: number;
  metadata: string | null;
}

export interface PartitionError {
  topic: string;
  partition: number;
  errorCode: number;
}

export interface FetchedTopic {
  name: string;
  partitions: {
    partitionIndex: number;
    committedOffset: bigint;
    committedLeaderEpoch: number;
    metadata: string | null;
    errorCode: number;
  }[];
}

export interface OffsetManagerDeps {
  config: GroupCoordinatorConfig;
  clock: Clock;
  writer: GroupWriter;
  groups: GroupManager;
  logger: Logger;
}

export class OffsetManager {
  readonly table = new OffsetTable();
  /** Transactional offsets written but not yet committed or aborted, by producer id (Kafka's pendingTransactionalOffsetCommits). */
  readonly #pendingTxn = new Map<number, PendingTxnOffsets>();
  readonly #config: GroupCoordinatorConfig;
  readonly #clock: Clock;
  readonly #writer: GroupWriter;
  readonly #groups: GroupManager;
  readonly #log: Logger;

  constructor(deps: OffsetManagerDeps) {
    this.#config = deps.config;
    this.#clock = deps.clock;
    this.#writer = deps.writer;
    this.#groups = deps.groups;
    this.#log = deps.logger;
  }

  /** Applies a stored or just-written offset record. */
  replay(groupId: string, topic: string, partition: number, value: CommittedOffset | null): void {
    if (value === null) {
      this.table.delete(groupId, topic, partition);
      return;
    }
    // Offsets without a group are a "simple" group's: an Empty group with no protocol type.
    this.#groups.getOrCreate(groupId);
    this.table.put(groupId, topic, partition, value);
  }

  /** Applies a stored or just-written transactional offset record: it waits for the producer's marker. */
  replayTransactional(
    producerId: number,
    groupId: string,
    topic: string,
    partition: number,
    value: CommittedOffset | null,
  ): void {
    if (value === null) return;
    let byGroup = this.#pendingTxn.get(producerId);
    if (byGroup === undefined) {
      byGroup = new Map();
      this.#pendingTxn.set(producerId, byGroup);
    }
    let offsets = byGroup.get(groupId);
    if (offsets === undefined) {
      offsets = new Map();
      byGroup.set(groupId, offsets);
    }
    offsets.set(`${topic}\u0000${partition}`, { topic, partition, value });
  }

  /**
   * A transaction marker for the producer reached the offsets log: its pending offsets
   * become committed offsets (COMMIT) or are dropped (ABORT). Returns how many took effect.
   */
  completeTransaction(producerId: number, commit: boolean): number {
    const byGroup = this.#pendingTxn.get(producerId);
    if (byGroup === undefined) return 0;
    this.#pendingTxn.delete(producerId);
    if (!commit) return 0;
    let n = 0;
    for (const [groupId, offsets] of byGroup)
      for (const o of offsets.values()) {
        this.replay(groupId, o.topic, o.partition, o.value);
        n++;
      }
    return n;
  }

  /** Whether a transaction still open holds an offset for the partition (OffsetFetch's requireStable). */
  hasPendingOffset(groupId: string, topic: string, partition: number): boolean {
    for (const byGroup of this.#pendingTxn.values())
      if (byGroup.get(groupId)?.has(`${topic}\u0000${partition}`) === true) return true;
    return false;
  }

  /** Whether any open transaction holds offsets of the group. */
  hasPendingOffsets(groupId: string): boolean {
    for (const byGroup of this.#pendingTxn.values()) if (byGroup.has(groupId)) return true;
    return false;
  }

  /**
   * TxnOffsetCommit: validates the member as Kafka's validateTransactionalOffsetCommit does
   * (only when a member id or generation is given), then writes the offsets as the
   * producer's transactional records. They take effect at the COMMIT marker.
   */
  commitTransactional(p: TxnCommitParams): Promise<PartitionError[]> {
    const fail = (code: number): Promise<PartitionError[]> =>
      Promise.resolve(p.partitions.map((x) => ({ topic: x.topic, partition: x.partition, errorCode: code })));
    const group = this.#groups.groups.get(p.groupId);
    if (group === undefined) {
      if (p.generationId >= 0) return fail(ErrorCode.ILLEGAL_GENERATION);
    } else {
      if (group.is("Dead")) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      if (p.generationId >= 0 || p.memberId !== "" || p.groupInstanceId !== null) {
        const error = group.validateMember(p.memberId, p.groupInstanceId);
        if (error !== ErrorCode.NONE) return fail(error);
        if (p.generationId >= 0 && p.generationId !== group.generationId)
          return fail(ErrorCode.ILLEGAL_GENERATION);
      }
    }
    const now = this.#clock.now();
    const { results, written, records } = this.#offsetRecords(p.groupId, p.partitions, () => now, null);
    if (records.length === 0) return Promise.resolve(results);
    return this.#writer.write(
      records,
      (err) => {
        if (err !== null) {
          const code = offsetWriteErrorCode(err);
          for (const r of written) r.errorCode = code;
        } else {
          for (const r of records)
            if (r.kind === "offset")
              this.replayTransactional(p.producer.producerId, r.groupId, r.topic, r.partition, r.value);
        }
        return results;
      },
      p.producer,
    );
  }

  /** The error for the whole commit, or NONE (Kafka's validateOffsetCommit). */
  #validateCommit(p: CommitParams): number {
    const group = this.#groups.groups.get(p.groupId);
    if (group === undefined) {
      // generation -1: the admin client or a consumer without group management.
      if (p.generationId < 0) return ErrorCode.NONE;
      return p.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
    }
    if (group.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (p.generationId < 0 && group.is("Empty")) return ErrorCode.NONE;
    if (p.generationId >= 0 || p.memberId !== "" || p.groupInstanceId !== null) {
      const error = group.validateMember(p.memberId, p.groupInstanceId);
      if (error !== ErrorCode.NONE) return error;
      if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!group.is("Empty")) {
      // Anonymous commits (v0 style) are only for groups nobody is a member of.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    // The member has its new generation but not its assignment yet: it must not commit now.
    if (group.is("CompletingRebalance")) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /** Commits; resolves once the offsets are durable, with one error code per partition. */
  commit(p: CommitParams): Promise<PartitionError[]> {
    const error = this.#validateCommit(p);
    if (error !== ErrorCode.NONE)
      return Promise.resolve(
        p.partitions.map((x) => ({ topic: x.topic, partition: x.partition, errorCode: error })),
      );
    const group = this.#groups.groups.get(p.groupId);
    // A commit proves the member alive (Kafka keeps the session of Stable and rebalancing groups).
    if (
      group !== undefined &&
      (group.is("Stable") || group.is("PreparingRebalance")) &&
      group.has(p.memberId)
    )
      this.#groups.touch(group, p.memberId);

    const now = this.#clock.now();
    const expireTimestampMs = p.retentionTimeMs === -1 ? null : now + p.retentionTimeMs;
    const { results, written, records } = this.#offsetRecords(
      p.groupId,
      p.partitions,
      (x) => (x.commitTimestampMs === -1 ? now : x.commitTimestampMs),
      expireTimestampMs,
    );
    if (records.length === 0) return Promise.resolve(results);
    return this.#writer.write(records, (err) => {
      if (err !== null) {
        const code = offsetWriteErrorCode(err);
        for (const r of written) r.errorCode = code;
      } else {
        this.#apply(records);
      }
      return results;
    });
  }

  /** The offset records to write for committed partitions; oversized metadata is refused per partition. */
  #offsetRecords(
    groupId: string,
    partitions: readonly CommitPartition[],
    commitTimestampMs: (x: CommitPartition) => number,
    expireTimestampMs: number | null,
  ): { results: PartitionError[]; written: PartitionError[]; records: GroupRecord[] } {
    const results: PartitionError[] = [];
    const written: PartitionError[] = [];
    const records: GroupRecord[] = [];
    for (const x of partitions) {
      const result: PartitionError = { topic: x.topic, partition: x.partition, errorCode: ErrorCode.NONE };
      results.push(result);
      if (x.metadata !== null && x.metadata.length > this.#config.offsetMetadataMaxBytes) {
        result.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        continue;
      }
      written.push(result);
      records.push({
        kind: "offset",
        groupId,
        topic: x.topic,
        partition: x.partition,
        value: {
          offset: x.offset,
          leaderEpoch: x.leaderEpoch < 0 ? -1 : x.leaderEpoch,
          metadata: x.metadata ?? "",
          commitTimestampMs: commitTimestampMs(x),
          expireTimestampMs,
        },
      });
    }
    return { results, written, records };
  }

  #apply(records: readonly GroupRecord[]): void {
    for (const r of records) if (r.kind === "offset") this.replay(r.groupId, r.topic, r.partition, r.value);
  }

  /**
   * The committed offsets of the given partitions (-1 where there is none), or of every
   * partition when `topics` is null. A group that does not exist simply has no offsets.
   */
  fetch(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
  ): FetchedTopic[] {
    const group = this.#groups.groups.get(groupId);
    const known = group !== undefined && !group.is("Dead");
    const entry = (
      partitionIndex: number,
      o: CommittedOffset | undefined,
    ): FetchedTopic["partitions"][number] => ({
      partitionIndex,
      committedOffset: o?.offset ?? -1n,
      committedLeaderEpoch: o?.leaderEpoch ?? -1,
      metadata: o?.metadata ?? "",
      errorCode: ErrorCode.NONE,
    });
    if (topics !== null) {
      return topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((i) =>
          entry(i, known ? this.table.get(groupId, t.name, i) : undefined),
        ),
      }));
    }
    const byTopic = new Map<string, FetchedTopic>();
    if (!known) return [];
    for (const e of this.table.entries(groupId)) {
      let t = byTopic.get(e.topic);
      if (t === undefined) byTopic.set(e.topic, (t = { name: e.topic, partitions: [] }));
      t.partitions.push(entry(e.partition, e.value));
    }
    return [...byTopic.values()];
  }

  /**
   * OffsetDelete: removes offsets of topics the group does not consume. Resolves with a
   * group-level error, or per-partition errors.
   */
  deleteOffsets(
    groupId: string,
    topics: readonly { name: string; partitions: readonly number[] }[],
  ): Promise<{ errorCode: number; partitions: PartitionError[] }> {
    const group = this.#groups.groups.get(groupId);
    if (group === undefined || group.is("Dead"))
      return Promise.resolve({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] });
    if (!group.is("Empty") && !group.usesConsumerProtocol())
      return Promise.resolve({ errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] });
    const partitions: PartitionError[] = [];
    const records: GroupRecord[] = [];
    for (const t of topics) {
      const subscribed = group.isSubscribedToTopic(t.name);
      for (const partition of t.partitions) {
        partitions.push({
          topic: t.name,
          partition,
          errorCode: subscribed ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE,
        });
        if (!subscribed && this.table.get(groupId, t.name, partition) !== undefined)
          records.push({ kind: "offset", groupId, topic: t.name, partition, value: null });
      }
    }
    return this.#writer.write(records, (err) => {
      if (err !== null) return { errorCode: offsetWriteErrorCode(err), partitions: [] };
      this.#apply(records);
      return { errorCode: ErrorCode.NONE, partitions };
    });
  }

  /** DeleteGroups: Empty groups go, with all their offsets; one error code per group. */
  deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    const results: { groupId: string; errorCode: number }[] = groupIds.map((groupId) => ({
      groupId,
      errorCode: ErrorCode.NONE,
    }));
    const deleted: { result: (typeof results)[number]; group: ClassicGroup }[] = [];
    const records: GroupRecord[] = [];
    for (const result of results) {
      const group = this.#groups.groups.get(result.groupId);
      if (group === undefined || group.is("Dead")) result.errorCode = ErrorCode.GROUP_ID_NOT_FOUND;
      else if (!group.is("Empty")) result.errorCode = ErrorCode.NON_EMPTY_GROUP;
      else {
        for (const e of this.table.entries(group.groupId))
          records.push({
            kind: "offset",
            groupId: group.groupId,
            topic: e.topic,
            partition: e.partition,
            value: null,
          });
        records.push({ kind: "group", groupId: group.groupId, value: null });
        deleted.push({ result, group });
      }
    }
    // Forgotten at once, so a JoinGroup meanwhile starts a new group (after the tombstones).
    for (const d of deleted) this.#groups.forget(d.group);
    return this.#writer.write(records, (err) => {
      if (err !== null) {
        const code = offsetWriteErrorCode(err);
        for (const d of deleted) {
          d.result.errorCode = code;
          this.#groups.revive(d.group);
        }
      } else {
        this.#apply(records);
      }
      return results;
    });
  }

  /** Removes the offsets of deleted topics from every group (Kafka's onPartitionsDeleted). */
  deleteTopics(topics: ReadonlySet<string>): Promise<number> {
    const records: GroupRecord[] = [];
    for (const groupId of this.table.groupIds())
      for (const e of this.table.entries(groupId))
        if (topics.has(e.topic))
          records.push({ kind: "offset", groupId, topic: e.topic, partition: e.partition, value: null });
    return this.#writer.write(records, (err) => {
      if (err !== null) throw err;
      this.#apply(records);
      return records.length;
    });
  }

  /**
   * Deletes offsets past offsets.retention.minutes, and Empty groups left without offsets.
   * Resolves with the number of offsets removed.
   */
  expire(): Promise<number> {
    const now = this.#clock.now();
    const records: GroupRecord[] = [];
    const emptied: ClassicGroup[] = [];
    for (const group of [...this.#groups.groups.values()]) {
      const base = expiryBase(group);
      let allExpired = true;
      for (const e of this.table.entries(group.groupId)) {
        if (
          base !== null &&
          !group.isSubscribedToTopic(e.topic) &&
          isOffsetExpired(e.value, base, now, this.#config.offsetsRetentionMs)
        )
          records.push({
            kind: "offset",
            groupId: group.groupId,
            topic: e.topic,
            partition: e.partition,
            value: null,
          });
        else allExpired = false;
      }
      if (allExpired && group.is("Empty")) {
        records.push({ kind: "group", groupId: group.groupId, value: null });
        emptied.push(group);
      }
    }
    for (const g of emptied) this.#groups.forget(g);
    const expiredOffsets = records.filter((r) => r.kind === "offset").length;
    return this.#writer.write(records, (err) => {
      if (err !== null) {
        for (const g of emptied) this.#groups.revive(g);
        throw err;
      }
      this.#apply(records);
      if (records.length > 0)
        this.#log.info("expired group metadata", { offsets: expiredOffsets, groups: emptied.length });
      return expiredOffsets;
    });
  }
}
