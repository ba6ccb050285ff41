// A member of a classic-protocol consumer group: JoinGroup/SyncGroup (the leader runs the
// assignor), a heartbeat loop that rejoins when the group rebalances, commits in the member's
// generation, and LeaveGroup on close. Link workers use it to share partitions.
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from "../protocol/consumer-protocol.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { ApiKey } from "../protocol/generated/index.ts";
import { rangeAssignor, type Assignor, type AssignorMember } from "./assignors.ts";
import type { BrokerConnection } from "./broker-connection.ts";
import type { Cluster } from "./cluster.ts";
import { BrokerError, ClientClosedError } from "./errors.ts";
import { commitOffsets, withCoordinator, type OffsetToCommit } from "./group-offsets.ts";

/** The member's partitions: topic → partition numbers (sorted). */
export type MemberAssignment = ReadonlyMap<string, readonly number[]>;

export interface GroupMemberOptions {
  groupId: string;
  /** Topics this member subscribes to. */
  topics: readonly string[];
  /** Assignors offered in preference order (Kafka's partition.assignment.strategy); default range. */
  assignors?: readonly Assignor[];
  /** Kafka's session.timeout.ms (default 45000). */
  sessionTimeoutMs?: number;
  /** How long the group waits for members to rejoin (Kafka's max.poll.interval.ms; default 60000). */
  rebalanceTimeoutMs?: number;
  /** Kafka's heartbeat.interval.ms (default a third of the session timeout). */
  heartbeatIntervalMs?: number;
  /** Kafka's group.instance.id for a static member; default none. */
  groupInstanceId?: string | null;
  /** Runs after each completed rebalance with the new assignment. */
  onAssigned?: (assignment: MemberAssignment) => void | Promise<void>;
  /** Runs before rejoining and before leaving, with the assignment given up. */
  onRevoked?: (assignment: MemberAssignment) => void | Promise<void>;
  /**
   * Gets errors of the background work (heartbeats, rejoins, callbacks); the member stops.
   * Without it such an error is rethrown as an uncaught exception, like an unhandled 'error' event.
   */
  onError?: (error: unknown) => void;
}

type State = "idle" | "joining" | "stable" | "failed" | "closed";

// Heartbeat and commit answers that mean the group moved on without us: rejoin.
const REJOIN_CODES: ReadonlySet<number> = new Set([
  ErrorCode.REBALANCE_IN_PROGRESS,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.UNKNOWN_MEMBER_ID,
]);

// Codes withCoordinator must see thrown so that it looks the coordinator up again.
const COORDINATOR_CODES: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

// A rebalance normally takes two or three JoinGroup rounds; far more means something is wrong.
const MAX_JOIN_ROUNDS = 20;
const SUBSCRIPTION_VERSION = 0;
const ASSIGNMENT_VERSION = 0;
const EMPTY_ASSIGNMENT: MemberAssignment = new Map();

/** One member of a consumer group on a Cluster it does not own. */
export class GroupMember {
  readonly groupId: string;
  readonly #cluster: Cluster;
  readonly #topics: readonly string[];
  readonly #assignors: readonly Assignor[];
  readonly #sessionTimeoutMs: number;
  readonly #rebalanceTimeoutMs: number;
  readonly #heartbeatIntervalMs: number;
  readonly #groupInstanceId: string | null;
  readonly #options: GroupMemberOptions;
  #state: State = "idle";
  #memberId = "";
  #generationId = -1;
  #leader = "";
  #assignment: MemberAssignment = EMPTY_ASSIGNMENT;
  #timer: NodeJS.Timeout | undefined;
  // JoinGroup and SyncGroup are parked by the coordinator: they get a connection of their own.
  #connection: BrokerConnection | undefined;
  // Rebalances and heartbeat-triggered rejoins run one after another on this chain.
  #task: Promise<void> = Promise.resolve();

  constructor(cluster: Cluster, options: GroupMemberOptions) {
    this.#cluster = cluster;
    this.#options = options;
    this.groupId = options.groupId;
    this.#topics = [...new Set(options.topics)];
    this.#assignors = options.assignors ?? [rangeAssignor];
    if (this.#assignors.length === 0) throw new RangeError("a group member needs at least one assignor");
    this.#sessionTimeoutMs = options.sessionTimeoutMs ?? 45_000;
    this.#rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 60_000;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ?? Math.floor(this.#sessionTimeoutMs / 3);
    this.#groupInstanceId = options.groupInstanceId ?? null;
  }

  get memberId(): string {
    return this.#memberId;
  }

  get generationId(): number {
    return this.#generationId;
  }

  /** Whether this member was the leader (ran the assignor) in the current generation. */
  get isLeader(): boolean {
    return this.#leader !== "" && this.#leader === this.#memberId;
  }

  /** The partitions assigned in the current generation (empty while rebalancing). */
  get assignment(): MemberAssignment {
    return this.#assignment;
  }

  /** Joins the group and resolves with the first assignment; heartbeats start then. */
  join(): Promise<MemberAssignment> {
    if (this.#state !== "idle") return Promise.reject(new Error(`group member is ${this.#state}, not idle`));
    this.#state = "joining";
    // A failed first join goes to the caller, not to onError.
    return this.#runTask(() => this.#rebalance()).then(
      () => this.#assignment,
      (e: unknown) => {
        if (this.#state !== "closed") this.#state = "failed";
        throw e;
      },
    );
  }

  /** Commits offsets in the member's current generation; a rebalance makes it fail (typed). */
  commit(offsets: readonly OffsetToCommit[]): Promise<void> {
    if (this.#state === "closed") return Promise.reject(new ClientClosedError(`member of ${this.groupId}`));
    return commitOffsets(this.#cluster, this.groupId, offsets, {
      generationId: this.#generationId,
      memberId: this.#memberId,
      groupInstanceId: this.#groupInstanceId,
    });
  }

  /** Stops heartbeats, revokes the assignment and leaves the group (LeaveGroup). */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const wasActive = this.#state !== "idle" && this.#state !== "failed";
    this.#state = "closed";
    this.#stopHeartbeats();
    await this.#revoke();
    // Static members stay in the group through restarts: Kafka's consumer does not leave for them.
    try {
      // LeaveGroup goes on the shared connection: our own may hold a parked JoinGroup.
      if (wasActive && this.#memberId !== "" && this.#groupInstanceId === null) await this.#leave();
    } finally {
      if (this.#connection !== undefined) await this.#cluster.closeDedicated(this.#connection);
      this.#connection = undefined;
    }
    this.#memberId = "";
    this.#generationId = -1;
  }

  #runTask(work: () => Promise<void>): Promise<void> {
    const run = this.#task.then(work);
    this.#task = run.catch(() => undefined);
    return run;
  }

  /** Revokes the current assignment, then JoinGroup/SyncGroup rounds until a generation is stable. */
  async #rebalance(): Promise<void> {
    await this.#revoke();
    for (let round = 1; ; round++) {
      if (this.#state === "closed") throw new ClientClosedError(`member of ${this.groupId}`);
      if (round > MAX_JOIN_ROUNDS) {
        throw new BrokerError(
          ErrorCode.REBALANCE_IN_PROGRESS,
          `no stable generation after ${MAX_JOIN_ROUNDS} JoinGroup rounds`,
          { group: this.groupId },
        );
      }
      const joined = await this.#joinGroup();
      if (joined === undefined) continue;
      const assignment = await this.#syncGroup(joined);
      if (assignment === undefined) continue;
      // close() may have run while SyncGroup was out.
      if (this.#closed()) return;
      this.#assignment = assignment;
      this.#state = "stable";
      this.#scheduleHeartbeat();
      await this.#options.onAssigned?.(assignment);
      return;
    }
  }

  /** One JoinGroup; undefined when the answer asks for another round. */
  async #joinGroup(): Promise<
    { members: AssignorMember[]; protocol: string; skipAssignment: boolean } | undefined
  > {
    const { body } = await this.#withOwnConnection((coordinator) =>
      this.#checked(coordinator, "JoinGroup", () =>
        coordinator.send(
          ApiKey.JoinGroup,
          (v) => ({
            groupId: this.groupId,
            sessionTimeoutMs: this.#sessionTimeoutMs,
            rebalanceTimeoutMs: this.#rebalanceTimeoutMs,
            memberId: this.#memberId,
            groupInstanceId: v >= 5 ? this.#groupInstanceId : null,
            protocolType: "consumer",
            protocols: this.#assignors.map((a) => ({
              name: a.name,
              metadata: encodeSubscription(SUBSCRIPTION_VERSION, { topics: this.#topics, userData: null }),
            })),
            reason: null,
          }),
          // The coordinator parks JoinGroup until every member rejoined, up to the rebalance timeout.
          { timeoutMs: this.#rebalanceTimeoutMs + 5_000 },
        ),
      ),
    );
    switch (body.errorCode) {
      case ErrorCode.NONE:
        break;
      case ErrorCode.MEMBER_ID_REQUIRED:
        this.#memberId = body.memberId;
        return undefined;
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.#memberId = "";
        return undefined;
      case ErrorCode.REBALANCE_IN_PROGRESS:
      case ErrorCode.ILLEGAL_GENERATION:
        return undefined;
      default:
        throw new BrokerError(body.errorCode, `JoinGroup for group ${this.groupId}`, { group: this.groupId });
    }
    this.#memberId = body.memberId;
    this.#generationId = body.generationId;
    this.#leader = body.leader;
    const members = body.members.map((m) => ({
      memberId: m.memberId,
      topics: decodeSubscription(m.metadata).value.topics,
    }));
    return { members, protocol: body.protocolName ?? "", skipAssignment: body.skipAssignment };
  }

  /** One SyncGroup (the leader sends the assignment); undefined when the group must rejoin. */
  async #syncGroup(joined: {
    members: AssignorMember[];
    protocol: string;
    skipAssignment: boolean;
  }): Promise<MemberAssignment | undefined> {
    const assignments =
      this.isLeader && !joined.skipAssignment ? await this.#assign(joined.members, joined.protocol) : [];
    const generationId = this.#generationId;
    const { body } = await this.#withOwnConnection((coordinator) =>
      this.#checked(coordinator, "SyncGroup", () =>
        coordinator.send(
          ApiKey.SyncGroup,
          () => ({
            groupId: this.groupId,
            generationId,
            memberId: this.#memberId,
            groupInstanceId: this.#groupInstanceId,
            protocolType: "consumer",
            protocolName: joined.protocol,
            assignments,
          }),
          { timeoutMs: this.#rebalanceTimeoutMs + 5_000 },
        ),
      ),
    );
    if (body.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.#memberId = "";
    if (REJOIN_CODES.has(body.errorCode)) return undefined;
    // librdkafka's mock cluster marks its group Up as soon as the leader's SyncGroup lands and
    // then answers a follower's later SyncGroup with INVALID_REQUEST; librdkafka rejoins on
    // it, and so does this member (bounded by MAX_JOIN_ROUNDS), instead of failing.
    if (body.errorCode === ErrorCode.INVALID_REQUEST && !this.isLeader) return undefined;
    if (body.errorCode !== 0) {
      throw new BrokerError(body.errorCode, `SyncGroup for group ${this.groupId}`, { group: this.groupId });
    }
    const out = new Map<string, number[]>();
    // An empty assignment (no partitions for us) may come as zero bytes.
    if (body.assignment.length === 0) return out;
    for (const tp of decodeAssignment(body.assignment).value.assignedPartitions) {
      out.set(
        tp.topic,
        [...(out.get(tp.topic) ?? []), ...tp.partitions].sort((a, b) => a - b),
      );
    }
    return out;
  }

  /** The leader's work: run the chosen assignor over the members and the topics' partition counts. */
  async #assign(
    members: readonly AssignorMember[],
    protocol: string,
  ): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.#assignors.find((a) => a.name === protocol);
    if (assignor === undefined) {
      throw new BrokerError(
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        `the group chose assignor "${protocol}", which this member lacks`,
        { group: this.groupId },
      );
    }
    const topics = [...new Set(members.flatMap((m) => m.topics))];
    const metadata = await this.#cluster.withRetries(() => this.#cluster.refreshMetadata(topics));
    const counts = new Map<string, number>();
    // Like Kafka's leader, topics that do not exist (yet) get no partitions; members keep them subscribed.
    for (const name of topics) {
      const t = metadata.topics.get(name);
      if (t !== undefined && t.errorCode === 0) counts.set(name, t.partitions.length);
    }
    const assignment = assignor.assign(members, counts);
    return members.map((m) => ({
      memberId: m.memberId,
      assignment: encodeAssignment(ASSIGNMENT_VERSION, {
        assignedPartitions: [...(assignment.get(m.memberId) ?? [])].map(([topic, partitions]) => ({
          topic,
          partitions,
        })),
        userData: null,
      }),
    }));
  }

  /** Sends a group request; a coordinator-moved code is thrown so withCoordinator finds it again. */
  async #checked<T extends { body: { errorCode: number } }>(
    coordinator: BrokerConnection,
    what: string,
    send: () => Promise<T>,
  ): Promise<T> {
    const answer = await send();
    if (COORDINATOR_CODES.has(answer.body.errorCode)) {
      throw new BrokerError(answer.body.errorCode, `${what} for group ${this.groupId}`, {
        broker: coordinator.nodeId,
        group: this.groupId,
      });
    }
    return answer;
  }

  /** withCoordinator on the member's own connection to the coordinator, for parked requests. */
  #withOwnConnection<T>(request: (coordinator: BrokerConnection) => Promise<T>): Promise<T> {
    return withCoordinator(this.#cluster, this.groupId, request, (shared) => {
      const own = this.#connection;
      if (
        own !== undefined &&
        own.nodeId === shared.nodeId &&
        own.host === shared.host &&
        own.port === shared.port
      ) {
        return own;
      }
      if (own !== undefined) void this.#cluster.closeDedicated(own);
      this.#connection = this.#cluster.dedicatedConnection(shared.nodeId);
      return this.#connection;
    });
  }

  #scheduleHeartbeat(): void {
    this.#stopHeartbeats();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#runTask(() => this.#heartbeat()).catch((e: unknown) => this.#fail(e));
    }, this.#heartbeatIntervalMs);
  }

  #stopHeartbeats(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #heartbeat(): Promise<void> {
    if (this.#state !== "stable") return;
    const generationId = this.#generationId;
    const memberId = this.#memberId;
    const { body } = await withCoordinator(this.#cluster, this.groupId, (coordinator) =>
      this.#checked(coordinator, "Heartbeat", () =>
        coordinator.send(ApiKey.Heartbeat, () => ({
          groupId: this.groupId,
          generationId,
          memberId,
          groupInstanceId: this.#groupInstanceId,
        })),
      ),
    );
    if (this.#state !== "stable") return;
    if (REJOIN_CODES.has(body.errorCode)) {
      if (body.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.#memberId = "";
      this.#state = "joining";
      await this.#rebalance();
      return;
    }
    if (body.errorCode !== 0) {
      throw new BrokerError(body.errorCode, `Heartbeat for group ${this.groupId}`, { group: this.groupId });
    }
    this.#scheduleHeartbeat();
  }

  async #revoke(): Promise<void> {
    const revoked = this.#assignment;
    this.#assignment = EMPTY_ASSIGNMENT;
    if (revoked.size > 0) await this.#options.onRevoked?.(revoked);
  }

  async #leave(): Promise<void> {
    const memberId = this.#memberId;
    const { version, body } = await withCoordinator(this.#cluster, this.groupId, (coordinator) =>
      this.#checked(coordinator, "LeaveGroup", () =>
        coordinator.send(ApiKey.LeaveGroup, (v) =>
          v >= 3
            ? { groupId: this.groupId, members: [{ memberId, groupInstanceId: null, reason: null }] }
            : { groupId: this.groupId, memberId },
        ),
      ),
    );
    const code = version >= 3 && body.errorCode === 0 ? (body.members[0]?.errorCode ?? 0) : body.errorCode;
    // UNKNOWN_MEMBER_ID: the coordinator already dropped us (session expired), which is what leaving wants.
    if (code !== 0 && code !== ErrorCode.UNKNOWN_MEMBER_ID) {
      throw new BrokerError(code, `LeaveGroup for group ${this.groupId}`, { group: this.groupId });
    }
  }

  #closed(): boolean {
    return this.#state === "closed";
  }

  #fail(error: unknown): void {
    // close() abandoned the background work (a parked JoinGroup, say): nobody waits for its outcome.
    if (this.#state === "closed") return;
    this.#state = "failed";
    this.#stopHeartbeats();
    const onError = this.#options.onError;
    if (onError !== undefined) onError(error);
    else
      queueMicrotask(() => {
        throw error;
      });
  }
}
