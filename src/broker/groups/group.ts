// One classic consumer group in memory: its members, state machine, generation, leader and
// protocol votes (Kafka's ClassicGroup). No timers and no I/O here: the group manager and the
// rebalancer drive the transitions and keep the deadlines.
import { randomUUID } from "node:crypto";
import { decodeSubscription } from "../../protocol/consumer-protocol.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { ClassicGroupMember } from "./member.ts";
import { joinError, syncError, type JoinOutcome, type Protocol, type SyncOutcome } from "./member.ts";

/** Kafka's classic group states, spelled as DescribeGroups and ListGroups report them. */
export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

/** The states a group may enter each state from (Kafka's validPreviousStates). */
const VALID_PREVIOUS: Record<GroupState, readonly GroupState[]> = {
  Empty: ["PreparingRebalance"],
  PreparingRebalance: ["Stable", "CompletingRebalance", "Empty"],
  CompletingRebalance: ["PreparingRebalance"],
  Stable: ["CompletingRebalance"],
  Dead: ["Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead"],
};

export const CONSUMER_PROTOCOL_TYPE = "consumer";

export class ClassicGroup {
  readonly groupId: string;
  #state: GroupState;
  #previousState: GroupState;
  /** When the group last changed state; drives offset expiry of Empty groups. */
  stateTimestampMs: number | null;
  protocolType: string | null = null;
  protocolName: string | null = null;
  generationId = 0;
  leaderId: string | null = null;
  /** Set when a member joins during the initial delayed rebalance, to extend the delay. */
  newMemberAdded = false;
  /** Topics the members subscribe to (consumer protocol only; null when unknown). */
  subscribedTopics: ReadonlySet<string> | null = null;

  readonly #members = new Map<string, ClassicGroupMember>();
  /** group.instance.id → member id */
  readonly #staticMembers = new Map<string, string>();
  /** Members told MEMBER_ID_REQUIRED that have not rejoined yet. */
  readonly #pendingJoin = new Set<string>();
  /** Members that got their JoinGroup answer and owe a SyncGroup. */
  readonly #pendingSync = new Set<string>();
  readonly #protocolVotes = new Map<string, number>();
  #awaitingJoin = 0;

  constructor(groupId: string, nowMs: number, state: GroupState = "Empty") {
    this.groupId = groupId;
    this.#state = state;
    this.#previousState = state;
    this.stateTimestampMs = nowMs;
  }

  get state(): GroupState {
    return this.#state;
  }

  get previousState(): GroupState {
    return this.#previousState;
  }

  is(state: GroupState): boolean {
    return this.#state === state;
  }

  transitionTo(state: GroupState, nowMs: number): void {
    if (!VALID_PREVIOUS[state].includes(this.#state))
      throw new Error(`group ${this.groupId}: cannot move from ${this.#state} to ${state}`);
    this.#previousState = this.#state;
    this.#state = state;
    this.stateTimestampMs = nowMs;
  }

  /** Whether a rebalance may start from the current state. */
  canRebalance(): boolean {
    return VALID_PREVIOUS.PreparingRebalance.includes(this.#state);
  }

  get size(): number {
    return this.#members.size;
  }

  members(): ClassicGroupMember[] {
    return [...this.#members.values()];
  }

  has(memberId: string): boolean {
    return this.#members.has(memberId);
  }

  member(memberId: string): ClassicGroupMember {
    const m = this.#members.get(memberId);
    if (m === undefined) throw new Error(`group ${this.groupId} has no member ${memberId}`);
    return m;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  staticMemberId(groupInstanceId: string): string | null {
    return this.#staticMembers.get(groupInstanceId) ?? null;
  }

  staticMemberCount(): number {
    return this.#staticMembers.size;
  }

  get awaitingJoinCount(): number {
    return this.#awaitingJoin;
  }

  /** The longest rebalance timeout among the members: how long a join phase may wait. */
  rebalanceTimeoutMs(): number {
    let t = 0;
    for (const m of this.#members.values()) t = Math.max(t, m.rebalanceTimeoutMs);
    return t;
  }

  /** Member ids are `clientId-uuid`, or `instanceId-uuid` for static members (as Kafka). */
  generateMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${randomUUID()}`;
  }

  add(member: ClassicGroupMember, onJoin: ((o: JoinOutcome) => void) | null): void {
    if (member.groupInstanceId !== null) {
      if (this.#staticMembers.has(member.groupInstanceId))
        throw new Error(`group ${this.groupId} already has static member ${member.groupInstanceId}`);
      this.#staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.#members.size === 0) this.protocolType = member.protocolType;
    this.leaderId ??= member.memberId;
    this.#members.set(member.memberId, member);
    for (const p of member.protocols)
      this.#protocolVotes.set(p.name, (this.#protocolVotes.get(p.name) ?? 0) + 1);
    member.awaitingJoin = onJoin;
    if (onJoin !== null) this.#awaitingJoin++;
    this.#pendingJoin.delete(member.memberId);
  }

  /**
   * Removes a member. A request it still has parked is answered UNKNOWN_MEMBER_ID (Kafka does
   * this for a parked JoinGroup; a parked SyncGroup would otherwise hang until the client's
   * own timeout, with the same outcome).
   */
  remove(memberId: string): void {
    const m = this.#members.get(memberId);
    if (m !== undefined) {
      this.completeJoin(m, joinError("", ErrorCode.UNKNOWN_MEMBER_ID));
      this.completeSync(m, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      this.#members.delete(memberId);
      this.#unvote(m);
      if (m.groupInstanceId !== null) this.#staticMembers.delete(m.groupInstanceId);
    }
    if (this.isLeader(memberId)) {
      const next = this.#members.keys().next();
      this.leaderId = next.done === true ? null : next.value;
    }
    this.#pendingJoin.delete(memberId);
    this.#pendingSync.delete(memberId);
  }

  /** Replaces a member's protocols and timeouts on rejoin; `onJoin` parks its new JoinGroup. */
  updateMember(
    member: ClassicGroupMember,
    protocols: readonly Protocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    onJoin: ((o: JoinOutcome) => void) | null,
  ): void {
    this.#unvote(member);
    member.protocols = protocols;
    for (const p of protocols) this.#protocolVotes.set(p.name, (this.#protocolVotes.get(p.name) ?? 0) + 1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    // A JoinGroup parked earlier and now superseded (the client gave up on it and retried)
    // gets an answer rather than hanging: it is told to rejoin.
    const superseded = member.awaitingJoin;
    if (superseded !== null && onJoin !== null && superseded !== onJoin)
      superseded(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    if (onJoin !== null && member.awaitingJoin === null) this.#awaitingJoin++;
    else if (onJoin === null && member.awaitingJoin !== null) this.#awaitingJoin--;
    member.awaitingJoin = onJoin;
  }

  #unvote(member: ClassicGroupMember): void {
    for (const p of member.protocols)
      this.#protocolVotes.set(p.name, (this.#protocolVotes.get(p.name) ?? 1) - 1);
  }

  /**
   * Static membership: the member keeps its place (and assignment) under a new member id. A
   * request still parked under the old id is answered FENCED_INSTANCE_ID.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): ClassicGroupMember {
    const m = this.member(oldMemberId);
    this.#members.delete(oldMemberId);
    this.completeJoin(m, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    this.completeSync(m, syncError(ErrorCode.FENCED_INSTANCE_ID));
    m.memberId = newMemberId;
    this.#members.set(newMemberId, m);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    this.#staticMembers.set(groupInstanceId, newMemberId);
    return m;
  }

  /** Answers the member's parked JoinGroup, if any. */
  completeJoin(member: ClassicGroupMember, outcome: JoinOutcome): boolean {
    const resolve = member.awaitingJoin;
    if (resolve === null) return false;
    member.awaitingJoin = null;
    this.#awaitingJoin--;
    resolve(outcome);
    return true;
  }

  /** Answers the member's parked SyncGroup, if any. */
  completeSync(member: ClassicGroupMember, outcome: SyncOutcome): boolean {
    const resolve = member.awaitingSync;
    if (resolve === null) return false;
    member.awaitingSync = null;
    resolve(outcome);
    return true;
  }

  isPendingMember(memberId: string): boolean {
    return this.#pendingJoin.has(memberId);
  }

  addPendingMember(memberId: string): void {
    if (this.has(memberId)) throw new Error(`member ${memberId} is already in group ${this.groupId}`);
    this.#pendingJoin.add(memberId);
  }

  addPendingSyncMember(memberId: string): void {
    this.#pendingSync.add(memberId);
  }

  removePendingSyncMember(memberId: string): void {
    this.#pendingSync.delete(memberId);
  }

  pendingSyncMembers(): string[] {
    return [...this.#pendingSync];
  }

  clearPendingSyncMembers(): void {
    this.#pendingSync.clear();
  }

  /** Every known member is parked in JoinGroup and no MEMBER_ID_REQUIRED member is outstanding. */
  hasAllMembersJoined(): boolean {
    return this.#members.size === this.#awaitingJoin && this.#pendingJoin.size === 0;
  }

  notYetRejoinedMembers(): ClassicGroupMember[] {
    return this.members().filter((m) => m.awaitingJoin === null);
  }

  /**
   * Keeps the leader if it rejoined, else picks any member that did. False when nobody
   * rejoined (or the group has no leader), so the join phase cannot end yet.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.#members.get(this.leaderId);
    if (leader !== undefined && leader.awaitingJoin !== null) return true;
    const joined = this.members().find((m) => m.awaitingJoin !== null);
    if (joined === undefined) return false;
    this.leaderId = joined.memberId;
    return true;
  }

  /** Starts the next generation: CompletingRebalance with a voted protocol, or Empty. */
  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.#members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo("CompletingRebalance", nowMs);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo("Empty", nowMs);
    }
    this.clearPendingSyncMembers();
  }

  /** Each member votes for its most preferred protocol that all members support; most votes win. */
  selectProtocol(): string {
    const n = this.#members.size;
    const candidates = new Set<string>();
    for (const [name, count] of this.#protocolVotes) if (count === n) candidates.add(name);
    const votes = new Map<string, number>();
    let best = "";
    let bestVotes = 0;
    for (const m of this.#members.values()) {
      const v = m.vote(candidates);
      const c = (votes.get(v) ?? 0) + 1;
      votes.set(v, c);
      if (c > bestVotes) {
        best = v;
        bestVotes = c;
      }
    }
    if (bestVotes === 0) throw new Error(`group ${this.groupId}: cannot select a protocol without members`);
    return best;
  }

  /** Whether a member with these protocols may join: same type and one protocol all support. */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.is("Empty")) return protocolType !== "" && protocolNames.length > 0;
    return (
      this.protocolType === protocolType &&
      protocolNames.some((name) => (this.#protocolVotes.get(name) ?? 0) === this.#members.size)
    );
  }

  /** The members with their metadata for the selected protocol: the leader's JoinGroup answer. */
  currentMemberMetadata(): JoinOutcome["members"] {
    const protocol = this.protocolName;
    if (protocol === null) throw new Error(`group ${this.groupId} has no selected protocol`);
    return this.members().map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata(protocol),
    }));
  }

  /** The error for a request naming this member (and instance id), or NONE. */
  validateMember(memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const current = this.staticMemberId(groupInstanceId);
      if (current === null) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return this.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  usesConsumerProtocol(): boolean {
    return this.protocolType === CONSUMER_PROTOCOL_TYPE;
  }

  /**
   * The union of the members' subscribed topics, read from their consumer protocol metadata.
   * Null when the group is not a consumer group or a subscription does not parse.
   */
  computeSubscribedTopics(): ReadonlySet<string> | null {
    if (!this.usesConsumerProtocol()) return null;
    if (this.#members.size === 0) return new Set();
    const protocol = this.protocolName;
    if (protocol === null) return null;
    const topics = new Set<string>();
    try {
      for (const m of this.#members.values()) {
        for (const t of decodeSubscription(m.metadata(protocol)).value.topics) topics.add(t);
      }
    } catch {
      // Kafka's rule: metadata that does not parse means "subscriptions unknown".
      return null;
    }
    return topics;
  }

  /** True when unsure: a consumer group whose subscriptions are unknown may use any topic. */
  isSubscribedToTopic(topic: string): boolean {
    if (this.subscribedTopics === null) return this.usesConsumerProtocol();
    return this.subscribedTopics.has(topic);
  }
}
