// The rebalance machinery of classic groups (Kafka's GroupMetadataManager internals): the join
// phase with its initial delay and rebalance timeout, the sync deadline, session deadlines,
// and handing out assignments. Deadline callbacks look their group up by id, since a group
// may be deleted or recreated before they fire.
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { Logger } from "../../util/logger.ts";
import type { ClassicGroup } from "./group.ts";
import type { GroupCoordinatorConfig } from "./group-config.ts";
import { storedGroup } from "./group-records.ts";
import type { GroupRecord, GroupWriter } from "./group-store.ts";
import { EMPTY_BYTES, type ClassicGroupMember, type JoinOutcome } from "./member.ts";
import type { Clock, KeyedTimers } from "./timers.ts";

export interface RebalanceDeps {
  config: GroupCoordinatorConfig;
  clock: Clock;
  timers: KeyedTimers;
  writer: GroupWriter;
  logger: Logger;
}

const joinKey = (groupId: string): string => JSON.stringify(["join", groupId]);
const syncKey = (groupId: string): string => JSON.stringify(["sync", groupId]);
const heartbeatKey = (groupId: string, memberId: string): string => JSON.stringify(["hb", groupId, memberId]);

/** The current generation as a member's JoinGroup answer (the leader gets all metadata). */
export function generationOutcome(
  group: ClassicGroup,
  member: ClassicGroupMember,
  withMembers: boolean,
  skipAssignment = false,
): JoinOutcome {
  return {
    errorCode: ErrorCode.NONE,
    memberId: member.memberId,
    generationId: group.generationId,
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    leader: group.leaderId ?? "",
    skipAssignment,
    members: withMembers ? group.currentMemberMetadata() : [],
  };
}

export class Rebalancer {
  readonly #groups: ReadonlyMap<string, ClassicGroup>;
  readonly #config: GroupCoordinatorConfig;
  readonly #clock: Clock;
  readonly #timers: KeyedTimers;
  readonly #writer: GroupWriter;
  readonly #log: Logger;

  constructor(groups: ReadonlyMap<string, ClassicGroup>, deps: RebalanceDeps) {
    this.#groups = groups;
    this.#config = deps.config;
    this.#clock = deps.clock;
    this.#timers = deps.timers;
    this.#writer = deps.writer;
    this.#log = deps.logger;
  }

  maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
    else this.maybeCompleteJoinPhase(group);
  }

  /** Starts a join phase: members are told (by heartbeat answers) to rejoin. */
  prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is("CompletingRebalance"))
      this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    group.clearPendingSyncMembers();
    this.#timers.cancel(syncKey(group.groupId));
    const initial = group.is("Empty");
    if (initial) {
      // A new group waits a little for more members, so a starting fleet does not cause a
      // rebalance per member (group.initial.rebalance.delay.ms).
      const delay = this.#config.initialRebalanceDelayMs;
      const remaining = Math.max(group.rebalanceTimeoutMs() - delay, 0);
      this.#timers.schedule(joinKey(group.groupId), delay, () =>
        this.#completeInitialRebalance(group.groupId, delay, remaining),
      );
    }
    group.transitionTo("PreparingRebalance", this.#clock.now());
    this.#log.info("preparing to rebalance group", {
      group: group.groupId,
      generation: group.generationId,
      reason,
    });
    if (initial) return;
    if (group.hasAllMembersJoined()) return this.#completeJoin(group);
    this.#timers.schedule(joinKey(group.groupId), group.rebalanceTimeoutMs(), () =>
      this.#completeJoinById(group.groupId),
    );
  }

  /** Each member joining during the initial delay extends it, up to the rebalance timeout. */
  #completeInitialRebalance(groupId: string, delayMs: number, remainingMs: number): void {
    const group = this.#groups.get(groupId);
    if (group === undefined || !group.is("PreparingRebalance")) return;
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const next = Math.min(this.#config.initialRebalanceDelayMs, remainingMs);
      const rest = Math.max(remainingMs - delayMs, 0);
      this.#timers.schedule(joinKey(groupId), next, () =>
        this.#completeInitialRebalance(groupId, next, rest),
      );
    } else {
      this.#completeJoin(group);
    }
  }

  /** Ends the join phase early once everyone rejoined (never the initial one: it waits). */
  maybeCompleteJoinPhase(group: ClassicGroup): void {
    if (group.is("PreparingRebalance") && group.previousState !== "Empty" && group.hasAllMembersJoined())
      this.#completeJoin(group);
  }

  #completeJoinById(groupId: string): void {
    const group = this.#groups.get(groupId);
    if (group !== undefined && group.is("PreparingRebalance")) this.#completeJoin(group);
  }

  /** Ends the join phase: drops dynamic members that did not rejoin and starts a generation. */
  #completeJoin(group: ClassicGroup): void {
    this.#timers.cancel(joinKey(group.groupId));
    for (const m of group.notYetRejoinedMembers()) {
      if (m.isStatic) continue; // static members keep their place across a missed rebalance
      group.remove(m.memberId);
      this.cancelHeartbeat(group.groupId, m.memberId);
    }
    if (group.is("Dead")) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Nobody rejoined: wait again; session timeouts will remove the silent members.
      this.#timers.schedule(joinKey(group.groupId), group.rebalanceTimeoutMs(), () =>
        this.#completeJoinById(group.groupId),
      );
      return;
    }
    group.initNextGeneration(this.#clock.now());
    if (group.is("Empty")) {
      const record: GroupRecord = {
        kind: "group",
        groupId: group.groupId,
        value: storedGroup(group, new Map()),
      };
      void this.#writer.write([record], (err) => {
        // Harmless if lost: the older generation on disk has no live members either.
        if (err !== null)
          this.#log.warn("could not persist empty group", { group: group.groupId, error: err.message });
      });
      return;
    }
    this.#log.info("group joined", {
      group: group.groupId,
      generation: group.generationId,
      members: group.size,
    });
    for (const m of group.members()) {
      group.completeJoin(m, generationOutcome(group, m, group.isLeader(m.memberId)));
      this.scheduleHeartbeat(group.groupId, m.memberId, m.sessionTimeoutMs);
      m.isNew = false;
      group.addPendingSyncMember(m.memberId);
    }
    const generation = group.generationId;
    this.#timers.schedule(syncKey(group.groupId), group.rebalanceTimeoutMs(), () =>
      this.#expirePendingSync(group.groupId, generation),
    );
  }

  /** Members that got their JoinGroup answer but never sent SyncGroup are removed. */
  #expirePendingSync(groupId: string, generationId: number): void {
    const group = this.#groups.get(groupId);
    if (group === undefined || group.generationId !== generationId) return;
    if (!group.is("CompletingRebalance") && !group.is("Stable")) return;
    const pending = group.pendingSyncMembers();
    if (pending.length === 0) return;
    for (const id of pending) {
      group.remove(id);
      this.cancelHeartbeat(groupId, id);
    }
    this.prepareRebalance(group, `members ${pending.join(", ")} did not sync in time`);
  }

  resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members()) m.assignment = EMPTY_BYTES;
    this.propagateAssignment(group, errorCode);
  }

  /** Answers every parked SyncGroup with the member's assignment (or the error). */
  propagateAssignment(group: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    for (const m of group.members()) {
      const answered = group.completeSync(m, {
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: m.assignment,
      });
      // Deadlines that passed while the member waited were ignored; start a fresh one.
      if (answered) this.scheduleHeartbeat(group.groupId, m.memberId, m.sessionTimeoutMs);
    }
  }

  // ---- session deadlines ----

  scheduleHeartbeat(groupId: string, memberId: string, timeoutMs: number): void {
    this.#timers.schedule(heartbeatKey(groupId, memberId), timeoutMs, () =>
      this.#expireHeartbeat(groupId, memberId),
    );
  }

  cancelHeartbeat(groupId: string, memberId: string): void {
    this.#timers.cancel(heartbeatKey(groupId, memberId));
  }

  /** Cancels every deadline of a group that is going away. */
  cancelGroup(group: ClassicGroup): void {
    for (const m of group.members()) this.cancelHeartbeat(group.groupId, m.memberId);
    this.#timers.cancel(joinKey(group.groupId));
    this.#timers.cancel(syncKey(group.groupId));
  }

  #expireHeartbeat(groupId: string, memberId: string): void {
    const group = this.#groups.get(groupId);
    if (group === undefined || group.is("Dead")) return;
    if (group.isPendingMember(memberId)) {
      group.remove(memberId);
      if (group.is("PreparingRebalance") && group.hasAllMembersJoined()) this.#completeJoin(group);
      return;
    }
    if (!group.has(memberId)) return;
    if (group.member(memberId).hasSatisfiedHeartbeat()) return;
    this.#log.info("member session expired", { group: groupId, member: memberId });
    group.remove(memberId);
    if (group.is("Stable") || group.is("CompletingRebalance"))
      this.maybePrepareRebalanceOrCompleteJoin(group, `member ${memberId} session expired`);
    else if (group.is("PreparingRebalance") && group.hasAllMembersJoined()) this.#completeJoin(group);
  }
}
