// Group membership (Kafka's classic-group half of GroupMetadataManager): JoinGroup, SyncGroup,
// Heartbeat and LeaveGroup, static member replacement, and groups restored from the store.
// Answers are internal outcomes; the coordinator shapes them per API version; the rebalance
// phases and deadlines are in rebalance.ts.
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { Logger } from "../../util/logger.ts";
import { ClassicGroup } from "./group.ts";
import type { GroupCoordinatorConfig } from "./group-config.ts";
import { groupFromStored, storedGroup } from "./group-records.ts";
import type { GroupRecord, GroupWriter, StoredGroup } from "./group-store.ts";
import {
  ClassicGroupMember,
  EMPTY_BYTES,
  joinError,
  syncError,
  type JoinOutcome,
  type Protocol,
  type SyncOutcome,
} from "./member.ts";
import { generationOutcome, Rebalancer, type RebalanceDeps } from "./rebalance.ts";
import { replaceStaticMember, type StaticMemberDeps } from "./static-members.ts";
import type { Clock } from "./timers.ts";
import { groupWriteErrorCode } from "./write-errors.ts";

export interface JoinParams {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: readonly Protocol[];
  /** JoinGroup v4+: a new dynamic member first gets MEMBER_ID_REQUIRED and its id. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: a rejoining static leader may be told to skip the assignment. */
  supportSkippingAssignment: boolean;
  clientId: string;
  clientHost: string;
  reason: string | null;
}

export interface SyncParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: readonly { memberId: string; assignment: Buffer }[];
}

export interface LeavingMember {
  memberId: string;
  groupInstanceId: string | null;
  reason: string | null;
}

export interface LeaveOutcome {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export class GroupManager {
  readonly groups = new Map<string, ClassicGroup>();
  readonly #config: GroupCoordinatorConfig;
  readonly #clock: Clock;
  readonly #writer: GroupWriter;
  readonly #log: Logger;
  readonly #rebalance: Rebalancer;
  readonly #staticDeps: StaticMemberDeps;

  constructor(deps: RebalanceDeps) {
    this.#config = deps.config;
    this.#clock = deps.clock;
    this.#writer = deps.writer;
    this.#log = deps.logger;
    this.#rebalance = new Rebalancer(this.groups, deps);
    this.#staticDeps = { rebalance: this.#rebalance, writer: deps.writer, logger: deps.logger };
  }

  getOrCreate(groupId: string): ClassicGroup {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = new ClassicGroup(groupId, this.#clock.now());
      this.groups.set(groupId, group);
    }
    return group;
  }

  /** Marks a group Dead and forgets it, with its deadlines (deletion and expiry). */
  forget(group: ClassicGroup): void {
    this.#rebalance.cancelGroup(group);
    group.transitionTo("Dead", this.#clock.now());
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  /**
   * Puts back an Empty group forgotten for a deletion the store then refused, unless a new
   * group took its id meanwhile. Its Empty-since time restarts, which only delays expiry.
   */
  revive(dead: ClassicGroup): void {
    if (this.groups.has(dead.groupId)) return;
    const group = new ClassicGroup(dead.groupId, this.#clock.now());
    group.protocolType = dead.protocolType;
    group.generationId = dead.generationId;
    group.subscribedTopics = group.computeSubscribedTopics();
    this.groups.set(group.groupId, group);
  }

  // ---- JoinGroup ----

  /** Resolves when the member may proceed: at once, or when the join phase ends (long poll). */
  join(p: JoinParams): Promise<JoinOutcome> {
    return new Promise((resolve) => this.#join(p, resolve));
  }

  #join(p: JoinParams, resolve: (o: JoinOutcome) => void): void {
    const isNewMember = p.memberId === "";
    let group = this.groups.get(p.groupId);
    if (group === undefined) {
      // Only a member without an id may create a group; anyone else belonged to a lost one.
      if (!isNewMember) return resolve(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = this.getOrCreate(p.groupId);
    }
    if (!this.#acceptJoiningMember(group, p.memberId)) {
      group.remove(p.memberId);
      return resolve(joinError("", ErrorCode.GROUP_MAX_SIZE_REACHED));
    }
    const names = p.protocols.map((x) => x.name);
    if (group.is("Dead")) return resolve(joinError(p.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(p.protocolType, names))
      return resolve(joinError(p.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    if (isNewMember) this.#joinNewMember(group, p, resolve);
    else this.#joinExistingMember(group, p, resolve);
  }

  #acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.#config.maxSize;
    switch (group.state) {
      case "Empty":
      case "Dead":
        return true;
      case "PreparingRebalance":
        // Counting members already parked (not all members) lets the last rejoiners of a group
        // that is over a lowered max size be the ones turned away.
        return (
          (group.has(memberId) && group.member(memberId).awaitingJoin !== null) ||
          group.awaitingJoinCount < max
        );
      case "CompletingRebalance":
      case "Stable":
        return group.has(memberId) || group.size < max;
    }
  }

  #joinNewMember(group: ClassicGroup, p: JoinParams, resolve: (o: JoinOutcome) => void): void {
    const newMemberId = group.generateMemberId(p.clientId, p.groupInstanceId);
    if (p.groupInstanceId !== null) {
      const existing = group.staticMemberId(p.groupInstanceId);
      if (existing !== null)
        replaceStaticMember(this.#staticDeps, group, p, { oldMemberId: existing, newMemberId }, resolve);
      else this.#addMemberThenRebalanceOrCompleteJoin(group, p, newMemberId, resolve);
    } else if (p.requireKnownMemberId) {
      // The member must come back with this id; until then it holds a place in the rebalance.
      group.addPendingMember(newMemberId);
      this.#rebalance.scheduleHeartbeat(group.groupId, newMemberId, p.sessionTimeoutMs);
      resolve(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    } else {
      this.#addMemberThenRebalanceOrCompleteJoin(group, p, newMemberId, resolve);
    }
  }

  #joinExistingMember(group: ClassicGroup, p: JoinParams, resolve: (o: JoinOutcome) => void): void {
    if (group.isPendingMember(p.memberId)) {
      // A pending member is always dynamic: static members never get MEMBER_ID_REQUIRED
      // (Kafka fails such a request with an internal error too).
      if (p.groupInstanceId !== null) return resolve(joinError(p.memberId, ErrorCode.UNKNOWN_SERVER_ERROR));
      return this.#addMemberThenRebalanceOrCompleteJoin(group, p, p.memberId, resolve);
    }
    const error = group.validateMember(p.memberId, p.groupInstanceId);
    if (error !== ErrorCode.NONE) return resolve(joinError(p.memberId, error));
    const member = group.member(p.memberId);
    switch (group.state) {
      case "PreparingRebalance":
        return this.#updateMemberThenRebalanceOrCompleteJoin(group, member, p, resolve);
      case "CompletingRebalance":
        // The same metadata again: the member lost our answer, so repeat it.
        if (member.matches(p.protocols))
          return resolve(generationOutcome(group, member, group.isLeader(member.memberId)));
        return this.#updateMemberThenRebalanceOrCompleteJoin(group, member, p, resolve);
      case "Stable":
        // A leader's rejoin forces a rebalance: it is how the leader reacts to changes the
        // member metadata does not show (new partitions of a subscribed topic).
        if (group.isLeader(member.memberId) || !member.matches(p.protocols))
          return this.#updateMemberThenRebalanceOrCompleteJoin(group, member, p, resolve);
        return resolve(generationOutcome(group, member, false));
      case "Empty":
      case "Dead":
        return resolve(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  #addMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    p: JoinParams,
    memberId: string,
    resolve: (o: JoinOutcome) => void,
  ): void {
    const member = new ClassicGroupMember({
      memberId,
      groupInstanceId: p.groupInstanceId,
      clientId: p.clientId,
      clientHost: p.clientHost,
      rebalanceTimeoutMs: p.rebalanceTimeoutMs,
      sessionTimeoutMs: p.sessionTimeoutMs,
      protocolType: p.protocolType,
      protocols: p.protocols,
    });
    member.isNew = true;
    if (group.is("PreparingRebalance") && group.previousState === "Empty") group.newMemberAdded = true;
    group.add(member, resolve);
    // A parked new member cannot heartbeat and a dropped connection goes unnoticed, so its
    // join gets its own, longer deadline; a client still there simply retries.
    this.#rebalance.scheduleHeartbeat(group.groupId, memberId, this.#config.newMemberJoinTimeoutMs);
    this.#rebalance.maybePrepareRebalanceOrCompleteJoin(group, `new member ${memberId} joined${because(p)}`);
  }

  #updateMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    member: ClassicGroupMember,
    p: JoinParams,
    resolve: (o: JoinOutcome) => void,
  ): void {
    group.updateMember(member, p.protocols, p.rebalanceTimeoutMs, p.sessionTimeoutMs, resolve);
    this.#rebalance.maybePrepareRebalanceOrCompleteJoin(
      group,
      `member ${member.memberId} rejoined${because(p)}`,
    );
  }

  // ---- SyncGroup ----

  /** Resolves with the member's assignment: at once if known, else when the leader's arrives. */
  sync(p: SyncParams): Promise<SyncOutcome> {
    return new Promise((resolve) => this.#sync(p, resolve));
  }

  #sync(p: SyncParams, resolve: (o: SyncOutcome) => void): void {
    const group = this.groups.get(p.groupId);
    if (group === undefined || group.is("Empty")) return resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.is("Dead")) return resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    const error = group.validateMember(p.memberId, p.groupInstanceId);
    if (error !== ErrorCode.NONE) return resolve(syncError(error));
    if (p.generationId !== group.generationId) return resolve(syncError(ErrorCode.ILLEGAL_GENERATION));
    if (inconsistent(p.protocolType, group.protocolType) || inconsistent(p.protocolName, group.protocolName))
      return resolve(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    const member = group.member(p.memberId);
    if (group.is("PreparingRebalance")) return resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    if (group.is("Stable")) {
      group.removePendingSyncMember(p.memberId);
      this.#rebalance.scheduleHeartbeat(group.groupId, member.memberId, member.sessionTimeoutMs);
      return resolve({
        errorCode: ErrorCode.NONE,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        assignment: member.assignment,
      });
    }
    // CompletingRebalance: park until the leader's assignment is stored.
    const superseded = member.awaitingSync;
    if (superseded !== null) superseded(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    member.awaitingSync = resolve;
    group.removePendingSyncMember(p.memberId);
    if (group.isLeader(p.memberId)) this.#storeAssignment(group, p);
  }

  /** Persists the leader's assignment; members get it only once it is durable. */
  #storeAssignment(group: ClassicGroup, p: SyncParams): void {
    const assignments = new Map<string, Buffer>();
    for (const a of p.assignments) assignments.set(a.memberId, a.assignment);
    const record: GroupRecord = {
      kind: "group",
      groupId: group.groupId,
      value: storedGroup(group, assignments),
    };
    void this.#writer.write([record], (err) => {
      // A member may have joined meanwhile: then this generation is over and so is this sync.
      if (!group.is("CompletingRebalance") || group.generationId !== p.generationId) return;
      if (err !== null) {
        this.#rebalance.resetAndPropagateAssignmentError(group, groupWriteErrorCode(err));
        this.#rebalance.maybePrepareRebalanceOrCompleteJoin(group, "could not persist the assignment");
        return;
      }
      for (const m of group.members()) m.assignment = assignments.get(m.memberId) ?? EMPTY_BYTES;
      this.#rebalance.propagateAssignment(group, ErrorCode.NONE);
      group.transitionTo("Stable", this.#clock.now());
      this.#log.info("group stable", { group: group.groupId, generation: group.generationId });
    });
  }

  // ---- Heartbeat and LeaveGroup ----

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const group = this.groups.get(groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const error = group.validateMember(memberId, groupInstanceId);
    if (error !== ErrorCode.NONE) return error;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (group.is("Empty")) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.touch(group, memberId);
    // The heartbeat answer is how members learn that they must rejoin.
    return group.is("PreparingRebalance") ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  /** Pushes a member's session deadline forward (heartbeats, and commits of Stable groups). */
  touch(group: ClassicGroup, memberId: string): void {
    this.#rebalance.scheduleHeartbeat(group.groupId, memberId, group.member(memberId).sessionTimeoutMs);
  }

  leave(groupId: string, leaving: readonly LeavingMember[]): LeaveOutcome {
    const group = this.groups.get(groupId);
    const answer = (m: LeavingMember, errorCode: number): LeaveOutcome["members"][number] => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode,
    });
    if (group === undefined)
      return {
        errorCode: ErrorCode.NONE,
        members: leaving.map((m) => answer(m, ErrorCode.UNKNOWN_MEMBER_ID)),
      };
    if (group.is("Dead")) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = leaving.map((m) => {
      if (m.memberId === "") {
        // Administrative removal of a static member by its instance id alone.
        const current = m.groupInstanceId === null ? null : group.staticMemberId(m.groupInstanceId);
        if (current === null) return answer(m, ErrorCode.UNKNOWN_MEMBER_ID);
        this.#removeMember(group, current);
        return answer(m, ErrorCode.NONE);
      }
      if (group.isPendingMember(m.memberId)) {
        group.remove(m.memberId);
        this.#rebalance.cancelHeartbeat(groupId, m.memberId);
        return answer(m, ErrorCode.NONE);
      }
      const error = group.validateMember(m.memberId, m.groupInstanceId);
      if (error === ErrorCode.NONE) this.#removeMember(group, m.memberId);
      return answer(m, error);
    });
    if (members.some((m) => m.errorCode === ErrorCode.NONE)) {
      if (group.is("Stable") || group.is("CompletingRebalance"))
        this.#rebalance.maybePrepareRebalanceOrCompleteJoin(group, "members left");
      else this.#rebalance.maybeCompleteJoinPhase(group);
    }
    return { errorCode: ErrorCode.NONE, members };
  }

  #removeMember(group: ClassicGroup, memberId: string): void {
    this.#rebalance.cancelHeartbeat(group.groupId, memberId);
    group.remove(memberId);
  }

  // ---- load and shutdown ----

  /** Rebuilds a group from its stored record: Stable with its members, or Empty. */
  restore(groupId: string, stored: StoredGroup): void {
    this.groups.set(groupId, groupFromStored(groupId, stored, this.#clock.now()));
  }

  /**
   * After a load: restored members keep their place only if they keep heartbeating (so a
   * broker restart does not force a rebalance), and an over-size group rebalances.
   */
  onLoaded(): void {
    for (const group of this.groups.values()) {
      for (const m of group.members())
        this.#rebalance.scheduleHeartbeat(group.groupId, m.memberId, m.sessionTimeoutMs);
      if (group.size > this.#config.maxSize)
        this.#rebalance.prepareRebalance(group, "loaded group is over group.max.size");
    }
  }

  /** Answers every parked request NOT_COORDINATOR, as Kafka does when it unloads a group. */
  shutdown(): void {
    for (const group of this.groups.values()) {
      for (const m of group.members()) {
        group.completeJoin(m, joinError(m.memberId, ErrorCode.NOT_COORDINATOR));
        group.completeSync(m, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }
}

function inconsistent(requested: string | null, current: string | null): boolean {
  return requested !== null && current !== null && requested !== current;
}

/** The client's own reason for joining (JoinGroup v8+), for the rebalance log line. */
function because(p: JoinParams): string {
  return p.reason === null || p.reason === "" ? "" : `; client reason: ${p.reason}`;
}
