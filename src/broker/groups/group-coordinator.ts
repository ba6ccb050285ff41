// The classic group coordinator of a single-node broker: takes decoded group API requests at
// their version and returns response bodies, so the API handlers stay thin. Request checks
// that Kafka makes before its coordinator (group ids, session timeout bounds, unknown topics)
// live here with the per-version response shapes; membership is in group-manager.ts, offsets
// in offset-manager.ts, and all durable state goes through a GroupStore.
import type { Input } from "../../protocol/codec-runtime.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { DecodeError } from "../../protocol/errors.ts";
import type { DeleteGroupsRequest } from "../../protocol/generated/delete-groups-request.ts";
import type { DeleteGroupsResponse } from "../../protocol/generated/delete-groups-response.ts";
import type { DescribeGroupsRequest } from "../../protocol/generated/describe-groups-request.ts";
import type {
  DescribeGroupsResponse,
  DescribedGroup,
} from "../../protocol/generated/describe-groups-response.ts";
import type { HeartbeatRequest } from "../../protocol/generated/heartbeat-request.ts";
import type { HeartbeatResponse } from "../../protocol/generated/heartbeat-response.ts";
import type { JoinGroupRequest } from "../../protocol/generated/join-group-request.ts";
import type { JoinGroupResponse } from "../../protocol/generated/join-group-response.ts";
import type { LeaveGroupRequest } from "../../protocol/generated/leave-group-request.ts";
import type { LeaveGroupResponse } from "../../protocol/generated/leave-group-response.ts";
import type { ListGroupsRequest } from "../../protocol/generated/list-groups-request.ts";
import type { ListGroupsResponse } from "../../protocol/generated/list-groups-response.ts";
import type { OffsetCommitRequest } from "../../protocol/generated/offset-commit-request.ts";
import type { OffsetCommitResponse } from "../../protocol/generated/offset-commit-response.ts";
import type { OffsetDeleteRequest } from "../../protocol/generated/offset-delete-request.ts";
import type { OffsetDeleteResponse } from "../../protocol/generated/offset-delete-response.ts";
import type { OffsetFetchRequest } from "../../protocol/generated/offset-fetch-request.ts";
import type { OffsetFetchResponse } from "../../protocol/generated/offset-fetch-response.ts";
import type { SyncGroupRequest } from "../../protocol/generated/sync-group-request.ts";
import type { SyncGroupResponse } from "../../protocol/generated/sync-group-response.ts";
import type { TxnOffsetCommitRequest } from "../../protocol/generated/txn-offset-commit-request.ts";
import type { TxnOffsetCommitResponse } from "../../protocol/generated/txn-offset-commit-response.ts";
import { silentLogger, type Logger } from "../../util/logger.ts";
import { joinError, syncError, type JoinOutcome, type SyncOutcome } from "./member.ts";
import { DEFAULT_GROUP_COORDINATOR_CONFIG, type GroupCoordinatorConfig } from "./group-config.ts";
import { GroupManager } from "./group-manager.ts";
import {
  GroupWriter,
  decodeGroupRecord,
  isTxnMarker,
  type GroupRecord,
  type GroupStore,
  type TxnProducer,
} from "./group-store.ts";
import { OffsetManager, type CommitPartition, type PartitionError } from "./offset-manager.ts";
import { KeyedTimers, systemClock, systemTimers, type Clock, type TimerScheduler } from "./timers.ts";
import {
  describedGroup,
  groupedByTopic,
  joinResponse,
  offsetFetchResponse,
  syncResponse,
} from "./responses.ts";

export interface GroupCoordinatorOptions {
  store: GroupStore;
  config?: Partial<GroupCoordinatorConfig>;
  clock?: Clock;
  timers?: TimerScheduler;
  logger?: Logger;
  /**
   * Whether a partition exists. Commits and offset deletions for others are answered
   * UNKNOWN_TOPIC_OR_PARTITION without reaching the group, as Kafka's request handler does.
   */
  partitionExists?: (topic: string, partition: number) => boolean;
}

type Phase = "new" | "loading" | "active" | "closed";

const CLEANUP_KEY = JSON.stringify(["cleanup"]);

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  readonly #store: GroupStore;
  readonly #timers: KeyedTimers;
  readonly #writer: GroupWriter;
  readonly #log: Logger;
  readonly #partitionExists: (topic: string, partition: number) => boolean;
  readonly #groups: GroupManager;
  readonly #offsets: OffsetManager;
  #phase: Phase = "new";

  constructor(opts: GroupCoordinatorOptions) {
    this.config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...opts.config };
    this.#store = opts.store;
    this.#timers = new KeyedTimers(opts.timers ?? systemTimers);
    this.#writer = new GroupWriter(opts.store);
    this.#log = opts.logger ?? silentLogger;
    this.#partitionExists = opts.partitionExists ?? (() => true);
    const clock = opts.clock ?? systemClock;
    const deps = {
      config: this.config,
      clock,
      timers: this.#timers,
      writer: this.#writer,
      logger: this.#log,
    };
    this.#groups = new GroupManager(deps);
    this.#offsets = new OffsetManager({ ...deps, groups: this.#groups });
  }

  /** Creates a coordinator and loads its state from the store. */
  static async start(opts: GroupCoordinatorOptions): Promise<GroupCoordinator> {
    const c = new GroupCoordinator(opts);
    await c.start();
    return c;
  }

  /**
   * Replays the store: committed offsets come back, and groups come back as last persisted
   * (Stable with their members, who stay only if they keep heartbeating; or Empty).
   */
  async start(): Promise<void> {
    if (this.#phase !== "new") throw new Error(`group coordinator cannot start: it is ${this.#phase}`);
    this.#phase = "loading";
    let n = 0;
    for await (const stored of this.#store.load()) {
      if (isTxnMarker(stored)) {
        this.#offsets.completeTransaction(stored.producerId, stored.marker === "commit");
        continue;
      }
      let r: GroupRecord;
      try {
        r = decodeGroupRecord(stored);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new DecodeError(`group store record ${n} (key ${stored.key.toString("hex")}): ${why}`);
      }
      if (r.kind === "offset" && stored.txn !== undefined)
        this.#offsets.replayTransactional(stored.txn.producerId, r.groupId, r.topic, r.partition, r.value);
      else if (r.kind === "offset") this.#offsets.replay(r.groupId, r.topic, r.partition, r.value);
      else if (r.value === null) this.#groups.groups.delete(r.groupId);
      else this.#groups.restore(r.groupId, r.value);
      n++;
    }
    this.#groups.onLoaded();
    this.#scheduleCleanup();
    this.#phase = "active";
    this.#log.info("group coordinator loaded", { records: n, groups: this.#groups.groups.size });
  }

  /** Answers parked requests NOT_COORDINATOR, stops all timers and waits for pending writes. */
  async close(): Promise<void> {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    this.#groups.shutdown();
    this.#timers.close();
    await this.#writer.drain();
  }

  /** COORDINATOR_LOAD_IN_PROGRESS while loading, COORDINATOR_NOT_AVAILABLE before or after. */
  #unavailable(): number | null {
    if (this.#phase === "active") return null;
    return this.#phase === "loading"
      ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
      : ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }

  #scheduleCleanup(): void {
    this.#timers.schedule(CLEANUP_KEY, this.config.offsetsRetentionCheckIntervalMs, () => {
      this.cleanupExpiredOffsets()
        .catch((e: unknown) => this.#log.error("offset expiry failed", { error: String(e) }))
        .finally(() => this.#scheduleCleanup());
    });
  }

  /**
   * JoinGroup v0-9. Long-polls: resolves when the join phase of the rebalance ends. v1 adds the
   * rebalance timeout (v0 uses the session timeout), v4 MEMBER_ID_REQUIRED, v5 static members,
   * v7 the protocol type in the answer (and a nullable name), v8 the reason, v9 skipAssignment.
   */
  async joinGroup(
    req: JoinGroupRequest,
    version: number,
    clientId: string | null,
    clientHost: string,
  ): Promise<Input<JoinGroupResponse>> {
    const unavailable = this.#unavailable();
    // v0 has no rebalance timeout: the session timeout serves for both, as in Kafka.
    const rebalanceTimeoutMs = version === 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs;
    let outcome: JoinOutcome;
    if (unavailable !== null) outcome = joinError(req.memberId, unavailable);
    else if (req.groupId === "") outcome = joinError(req.memberId, ErrorCode.INVALID_GROUP_ID);
    else if (
      req.sessionTimeoutMs < this.config.minSessionTimeoutMs ||
      req.sessionTimeoutMs > this.config.maxSessionTimeoutMs
    )
      outcome = joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT);
    else
      outcome = await this.#groups.join({
        groupId: req.groupId,
        memberId: req.memberId,
        groupInstanceId: version >= 5 ? req.groupInstanceId : null,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs,
        protocolType: req.protocolType,
        protocols: req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
        requireKnownMemberId: version >= 4,
        supportSkippingAssignment: version >= 9,
        clientId: clientId ?? "",
        clientHost,
        reason: version >= 8 ? req.reason : null,
      });
    return joinResponse(outcome, version);
  }

  /**
   * SyncGroup v0-5. Long-polls: followers wait for the leader's assignment. v3 adds static
   * members, v5 the protocol type and name (mandatory, checked against the group's).
   */
  async syncGroup(req: SyncGroupRequest, version: number): Promise<Input<SyncGroupResponse>> {
    const unavailable = this.#unavailable();
    let outcome: SyncOutcome;
    if (unavailable !== null) outcome = syncError(unavailable);
    else if (req.groupId === "") outcome = syncError(ErrorCode.INVALID_GROUP_ID);
    // From v5 both fields are mandatory (Kafka checks this before the coordinator).
    else if (version >= 5 && (req.protocolType === null || req.protocolName === null))
      outcome = syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    else
      outcome = await this.#groups.sync({
        groupId: req.groupId,
        generationId: req.generationId,
        memberId: req.memberId,
        groupInstanceId: version >= 3 ? req.groupInstanceId : null,
        protocolType: version >= 5 ? req.protocolType : null,
        protocolName: version >= 5 ? req.protocolName : null,
        assignments: req.assignments.map((a) => ({
          memberId: a.memberId,
          assignment: Buffer.from(a.assignment),
        })),
      });
    return syncResponse(outcome, version);
  }

  /** Heartbeat v0-4 (v3+ static members): REBALANCE_IN_PROGRESS tells a member to rejoin. */
  heartbeat(req: HeartbeatRequest, version: number): Promise<Input<HeartbeatResponse>> {
    const unavailable = this.#unavailable();
    const errorCode =
      unavailable ??
      (req.groupId === ""
        ? ErrorCode.INVALID_GROUP_ID
        : this.#groups.heartbeat(
            req.groupId,
            req.memberId,
            version >= 3 ? req.groupInstanceId : null,
            req.generationId,
          ));
    return Promise.resolve({ throttleTimeMs: 0, errorCode });
  }

  /** LeaveGroup v0-5: one member before v3, a batch with per-member errors from v3; v5 reasons. */
  leaveGroup(req: LeaveGroupRequest, version: number): Promise<Input<LeaveGroupResponse>> {
    const leaving =
      version >= 3
        ? req.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            reason: m.reason,
          }))
        : [{ memberId: req.memberId, groupInstanceId: null, reason: null }];
    const unavailable = this.#unavailable();
    const outcome =
      unavailable !== null
        ? { errorCode: unavailable, members: [] }
        : req.groupId === ""
          ? { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] }
          : this.#groups.leave(req.groupId, leaving);
    if (version >= 3)
      return Promise.resolve({ throttleTimeMs: 0, errorCode: outcome.errorCode, members: outcome.members });
    const memberError = outcome.members[0]?.errorCode ?? ErrorCode.NONE;
    return Promise.resolve({
      throttleTimeMs: 0,
      errorCode: outcome.errorCode !== ErrorCode.NONE ? outcome.errorCode : memberError,
    });
  }

  /**
   * A commit's partitions: those of unknown topics or partitions (UNKNOWN_TOPIC_OR_PARTITION)
   * and the rest, with the version-dependent fields `extra` reads. OffsetCommit and
   * TxnOffsetCommit share it.
   */
  #splitCommit<
    P extends { partitionIndex: number; committedOffset: bigint; committedMetadata: string | null },
  >(
    topics: readonly { name: string; partitions: readonly P[] }[],
    extra: (p: P) => { leaderEpoch: number; commitTimestampMs: number },
  ): { unknown: PartitionError[]; partitions: CommitPartition[] } {
    const unknown: PartitionError[] = [];
    const partitions: CommitPartition[] = [];
    for (const t of topics)
      for (const p of t.partitions) {
        if (!this.#partitionExists(t.name, p.partitionIndex))
          unknown.push({
            topic: t.name,
            partition: p.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          });
        else
          partitions.push({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            ...extra(p),
            metadata: p.committedMetadata,
          });
      }
    return { unknown, partitions };
  }

  /**
   * OffsetCommit v0-9, answered once the offsets are durable in the store. v0 has no
   * generation (a standalone commit), v1 a commit timestamp, v2-4 a retention time, v6 the
   * leader epoch, v7 static members, v9 GROUP_ID_NOT_FOUND instead of ILLEGAL_GENERATION.
   */
  async offsetCommit(req: OffsetCommitRequest, version: number): Promise<Input<OffsetCommitResponse>> {
    const { unknown, partitions } = this.#splitCommit(req.topics, (p) => ({
      leaderEpoch: version >= 6 ? p.committedLeaderEpoch : -1,
      commitTimestampMs: version === 1 ? Number(p.commitTimestamp) : -1,
    }));
    const unavailable = this.#unavailable();
    let results: PartitionError[];
    if (partitions.length === 0) results = [];
    else if (unavailable !== null)
      results = partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode: unavailable }));
    else
      results = await this.#offsets.commit({
        groupId: req.groupId,
        generationId: version >= 1 ? req.generationIdOrMemberEpoch : -1,
        memberId: version >= 1 ? req.memberId : "",
        groupInstanceId: version >= 7 ? req.groupInstanceId : null,
        retentionTimeMs: version >= 2 && version <= 4 ? Number(req.retentionTimeMs) : -1,
        apiVersion: version,
        partitions,
      });
    const layout = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => p.partitionIndex),
    }));
    const topics = groupedByTopic(layout, [...unknown, ...results]);
    return {
      throttleTimeMs: 0,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, errorCode: p.errorCode })),
      })),
    };
  }

  /**
   * TxnOffsetCommit v0-4: offsets written as the producer's transactional records, taking
   * effect when its transaction commits (completeTransaction). v2 adds the leader epoch, v3
   * the member checks. The transaction coordinator has checked the producer beforehand.
   */
  async txnOffsetCommit(
    req: TxnOffsetCommitRequest,
    version: number,
    producer: TxnProducer,
  ): Promise<Input<TxnOffsetCommitResponse>> {
    const { unknown, partitions } = this.#splitCommit(req.topics, (p) => ({
      leaderEpoch: version >= 2 ? p.committedLeaderEpoch : -1,
      commitTimestampMs: -1,
    }));
    const unavailable =
      this.#unavailable() ??
      (this.#store.transactional === true ? null : ErrorCode.COORDINATOR_NOT_AVAILABLE);
    let results: PartitionError[];
    if (partitions.length === 0) results = [];
    else if (unavailable !== null)
      results = partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode: unavailable }));
    else if (req.groupId === "")
      results = partitions.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        errorCode: ErrorCode.INVALID_GROUP_ID,
      }));
    else
      results = await this.#offsets.commitTransactional({
        groupId: req.groupId,
        producer,
        generationId: version >= 3 ? req.generationId : -1,
        memberId: version >= 3 ? req.memberId : "",
        groupInstanceId: version >= 3 ? req.groupInstanceId : null,
        partitions,
      });
    const layout = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => p.partitionIndex),
    }));
    return {
      throttleTimeMs: 0,
      topics: groupedByTopic(layout, [...unknown, ...results]).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, errorCode: p.errorCode })),
      })),
    };
  }

  /**
   * A COMMIT or ABORT marker for the producer is now in the offsets log: its transactional
   * offsets take effect or are dropped. Returns how many offsets took effect.
   */
  completeTransaction(producerId: number, commit: boolean): number {
    return this.#offsets.completeTransaction(producerId, commit);
  }

  /**
   * OffsetFetch v0-9: v2 adds the group-level error and null topics (= all), v5 the leader
   * epoch, v7 requireStable (here: wait for commits still being written), v8 several groups.
   * v9's member id and epoch belong to the new consumer protocol and are ignored.
   */
  async offsetFetch(req: OffsetFetchRequest, version: number): Promise<Input<OffsetFetchResponse>> {
    const wanted =
      version >= 8
        ? req.groups.map((g) => ({ groupId: g.groupId, topics: g.topics }))
        : [{ groupId: req.groupId, topics: version >= 2 ? req.topics : (req.topics ?? []) }];
    if (version >= 7 && req.requireStable) await this.#writer.drain();
    const unavailable = this.#unavailable();
    const stable = version >= 7 && req.requireStable;
    const groups = wanted.map((g) => {
      if (unavailable !== null) return { groupId: g.groupId, errorCode: unavailable, topics: [] };
      const topics = this.#offsets.fetch(g.groupId, g.topics);
      // requireStable: offsets an open transaction will change are not answered yet (Kafka's UNSTABLE_OFFSET_COMMIT).
      if (stable && this.#offsets.hasPendingOffsets(g.groupId))
        for (const t of topics)
          for (const p of t.partitions)
            if (this.#offsets.hasPendingOffset(g.groupId, t.name, p.partitionIndex)) {
              p.errorCode = ErrorCode.UNSTABLE_OFFSET_COMMIT;
              p.committedOffset = -1n;
            }
      return { groupId: g.groupId, errorCode: ErrorCode.NONE, topics };
    });
    return offsetFetchResponse(groups, wanted, version);
  }

  /**
   * DescribeGroups v0-5 (v4+ instance ids). An unknown group is described as Dead, without
   * error, as Kafka does. authorizedOperations (v3+) is left for the handler to fill.
   */
  describeGroups(req: DescribeGroupsRequest, version: number): Promise<Input<DescribeGroupsResponse>> {
    const unavailable = this.#unavailable();
    const describe = (groupId: string): Input<DescribedGroup> => {
      if (unavailable !== null) return { errorCode: unavailable, groupId };
      const g = this.#groups.groups.get(groupId);
      if (g === undefined || g.is("Dead"))
        return {
          errorCode: ErrorCode.NONE,
          groupId,
          groupState: "Dead",
          protocolType: "",
          protocolData: "",
          members: [],
        };
      return describedGroup(g, version);
    };
    return Promise.resolve({ throttleTimeMs: 0, groups: req.groups.map(describe) });
  }

  /** ListGroups v0-5 (v4+ states filter, v5+ types filter; every group here is "classic"). */
  listGroups(req: ListGroupsRequest, version: number): Promise<Input<ListGroupsResponse>> {
    const unavailable = this.#unavailable();
    if (unavailable !== null)
      return Promise.resolve({ throttleTimeMs: 0, errorCode: unavailable, groups: [] });
    const states = new Set((version >= 4 ? req.statesFilter : []).map((s) => s.trim().toLowerCase()));
    const types = version >= 5 ? req.typesFilter : [];
    const classic = types.length === 0 || types.some((t) => t.toLowerCase() === "classic");
    const groups = classic
      ? [...this.#groups.groups.values()].filter(
          (g) => states.size === 0 || states.has(g.state.toLowerCase()),
        )
      : [];
    return Promise.resolve({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      groups: groups.map((g) => ({
        groupId: g.groupId,
        protocolType: g.protocolType ?? "",
        groupState: g.state,
        groupType: "classic",
      })),
    });
  }

  /** DeleteGroups v0-2: only Empty groups; their offsets go with them. */
  async deleteGroups(req: DeleteGroupsRequest, _version: number): Promise<Input<DeleteGroupsResponse>> {
    const ids = [...new Set(req.groupsNames)];
    const unavailable = this.#unavailable();
    const results =
      unavailable !== null
        ? ids.map((groupId) => ({ groupId, errorCode: unavailable }))
        : await this.#offsets.deleteGroups(ids);
    return { throttleTimeMs: 0, results };
  }

  /** OffsetDelete v0: not for topics the group's members subscribe to. */
  async offsetDelete(req: OffsetDeleteRequest, _version: number): Promise<Input<OffsetDeleteResponse>> {
    const unknown: PartitionError[] = [];
    const known: { name: string; partitions: number[] }[] = [];
    for (const t of req.topics) {
      const partitions: number[] = [];
      for (const p of t.partitions) {
        if (this.#partitionExists(t.name, p.partitionIndex)) partitions.push(p.partitionIndex);
        else
          unknown.push({
            topic: t.name,
            partition: p.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          });
      }
      if (partitions.length > 0) known.push({ name: t.name, partitions });
    }
    const unavailable = this.#unavailable();
    const outcome =
      unavailable !== null
        ? { errorCode: unavailable, partitions: [] }
        : req.groupId === ""
          ? { errorCode: ErrorCode.INVALID_GROUP_ID, partitions: [] }
          : await this.#offsets.deleteOffsets(req.groupId, known);
    if (outcome.errorCode !== ErrorCode.NONE)
      return { errorCode: outcome.errorCode, throttleTimeMs: 0, topics: [] };
    const layout = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => p.partitionIndex),
    }));
    const topics = groupedByTopic(layout, [...unknown, ...outcome.partitions]);
    return {
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, errorCode: p.errorCode })),
      })),
    };
  }

  /** Expires offsets past offsets.retention.minutes now (also runs on its own schedule). */
  cleanupExpiredOffsets(): Promise<number> {
    return this.#offsets.expire();
  }

  /** Drops every group's offsets for topics that were deleted; resolves with how many. */
  deleteTopicOffsets(topics: Iterable<string>): Promise<number> {
    return this.#offsets.deleteTopics(new Set(topics));
  }
}
