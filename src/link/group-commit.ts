// Commits translated group offsets on the target, for both ways offsets reach the link (the
// periodic OffsetFetch round and the __consumer_offsets stream): one commit in flight per group,
// only while the target group has no active members, never moving an offset backwards.
import { isIdleGroupState } from "../client/admin.ts";
import { commitOffsets, fetchCommittedOffsets, type OffsetToCommit } from "../client/group-offsets.ts";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import type { LinkContext } from "./link-context.ts";

/** A source offset and its translation, for one partition of a group. */
export interface TranslatedOffset {
  sourceTopic: string;
  targetTopic: string;
  partition: number;
  source: number;
  target: number;
  metadata: string | null;
}

export interface GroupCommitOutcome {
  /** The target group's DescribeGroups state; "unknown" without DescribeGroups, "active" when a commit was refused. */
  targetState: string;
  /** False when the target group has members: nothing was committed. */
  idle: boolean;
  /** Partitions the target already held at the translated offset. */
  inSync: TranslatedOffset[];
  committed: TranslatedOffset[];
  /** Partitions whose target offset is ahead of the translation (left alone). */
  ahead: { offset: TranslatedOffset; target: number }[];
}

/** What a coordinator answers an outside commit to a group that has members. */
const ACTIVE_GROUP_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.REBALANCE_IN_PROGRESS,
]);

export class GroupCommitter {
  readonly #ctx: LinkContext;
  readonly #tails = new Map<string, Promise<unknown>>();
  /** Per group, "sourceTopic/partition" → the source offset the target holds the translation of. */
  readonly #synced = new Map<string, Map<string, number>>();

  constructor(ctx: LinkContext) {
    this.#ctx = ctx;
  }

  /** Commits the offsets the target lacks, after every earlier commit of the same group. */
  commit(groupId: string, offsets: readonly TranslatedOffset[]): Promise<GroupCommitOutcome> {
    const previous = this.#tails.get(groupId) ?? Promise.resolve();
    const run = previous.then(() => this.#commit(groupId, offsets));
    const tail = run.catch(() => undefined);
    this.#tails.set(groupId, tail);
    void tail.then(() => {
      if (this.#tails.get(groupId) === tail) this.#tails.delete(groupId);
    });
    return run;
  }

  /** The source offset whose translation the link last saw on the target (committed or in sync). */
  syncedSource(groupId: string, sourceTopic: string, partition: number): number | undefined {
    return this.#synced.get(groupId)?.get(`${sourceTopic}/${partition}`);
  }

  async #commit(groupId: string, offsets: readonly TranslatedOffset[]): Promise<GroupCommitOutcome> {
    const outcome: GroupCommitOutcome = { targetState: "", idle: true, inSync: [], committed: [], ahead: [] };
    if (offsets.length === 0) return outcome;
    const ctx = this.#ctx;
    try {
      const [description] = await ctx.targetAdmin.describeGroups([groupId]);
      outcome.targetState = description?.state ?? "";
      if (!isIdleGroupState(outcome.targetState)) {
        outcome.idle = false;
        return outcome;
      }
    } catch (e) {
      // Without DescribeGroups the coordinator still refuses outside commits to a group with members.
      if (!(e instanceof KafkaError && e.code === ErrorCode.UNSUPPORTED_VERSION)) throw e;
      outcome.targetState = "unknown";
    }
    const current = new Map<string, bigint>();
    const asked = offsets.map((o) => ({ topic: o.targetTopic, partition: o.partition }));
    for (const c of await fetchCommittedOffsets(ctx.target, groupId, asked))
      current.set(`${c.topic}/${c.partition}`, c.offset);
    const toCommit: TranslatedOffset[] = [];
    for (const o of offsets) {
      const have = current.get(`${o.targetTopic}/${o.partition}`) ?? -1n;
      if (have === BigInt(o.target)) outcome.inSync.push(o);
      else if (have < BigInt(o.target)) toCommit.push(o);
      else outcome.ahead.push({ offset: o, target: Number(have) });
    }
    this.#remember(groupId, outcome.inSync);
    if (toCommit.length === 0) return outcome;
    const commits: OffsetToCommit[] = toCommit.map((o) => ({
      topic: o.targetTopic,
      partition: o.partition,
      offset: BigInt(o.target),
      metadata: o.metadata,
    }));
    try {
      await commitOffsets(ctx.target, groupId, commits);
    } catch (e) {
      if (e instanceof KafkaError && ACTIVE_GROUP_ERRORS.has(e.code)) {
        outcome.targetState = "active";
        outcome.idle = false;
        return outcome;
      }
      throw e;
    }
    outcome.committed = toCommit;
    this.#remember(groupId, toCommit);
    ctx.metrics.groupCommits += toCommit.length;
    return outcome;
  }

  #remember(groupId: string, offsets: readonly TranslatedOffset[]): void {
    if (offsets.length === 0) return;
    let synced = this.#synced.get(groupId);
    if (synced === undefined) this.#synced.set(groupId, (synced = new Map<string, number>()));
    for (const o of offsets) synced.set(`${o.sourceTopic}/${o.partition}`, o.source);
  }
}
