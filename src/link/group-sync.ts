// Consumer group offset sync: committed offsets of the selected source groups are translated
// exactly (mirror: the same offset; translation: through the offset map) and committed on the
// target only while the group has no active members there, never moving an offset backwards.
// An offset the link has not copied up to yet waits for the next round; target offsets ahead of
// the translated ones are reported as conflicts, not overwritten.
import { fetchCommittedOffsets, commitOffsets, type OffsetToCommit } from "../client/group-offsets.ts";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import type { LinkContext } from "./link-context.ts";
import type { PartitionReplica } from "./partition-replica.ts";

export interface GroupSyncStatus {
  group: string;
  /** The target group's state when last looked at. */
  targetState: string;
  /** Partitions whose target offset equals the translated source offset after the last round. */
  inSync: number;
  /** Partitions committed on the target in the last round. */
  committed: number;
  /** Partitions whose source offset is beyond what the link has copied. */
  waiting: number;
  /** Partitions where the target's committed offset is ahead of the translated one. */
  conflicts: { topic: string; partition: number; source: number; translated: number; target: number }[];
  lastSyncAt: number;
  error?: string;
}

const IDLE_STATES = new Set(["Empty", "Dead", ""]);
/** What a coordinator answers an outside commit to a group that has members. */
const ACTIVE_GROUP_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.REBALANCE_IN_PROGRESS,
]);

/** The target offset for a committed source offset, or undefined when it is not copied yet. */
export function translateOffset(r: PartitionReplica, offset: number): number | undefined {
  if (r.mode === "mirror") return offset <= r.writtenOffset ? offset : undefined;
  return r.offsetMap.translate(offset, r.writtenOffset, r.targetNext);
}

/** One round over every selected group; returns each group's status. */
export async function syncGroups(ctx: LinkContext): Promise<GroupSyncStatus[]> {
  const groups = (await ctx.sourceAdmin.listGroups()).filter(
    (g) => ctx.filter.matchesGroup(g.groupId) && (g.protocolType === "consumer" || g.protocolType === ""),
  );
  const out: GroupSyncStatus[] = [];
  for (const g of groups) {
    if (ctx.signal.aborted) break;
    const status: GroupSyncStatus = {
      group: g.groupId,
      targetState: "",
      inSync: 0,
      committed: 0,
      waiting: 0,
      conflicts: [],
      lastSyncAt: Date.now(),
    };
    out.push(status);
    try {
      await syncGroup(ctx, g.groupId, status);
    } catch (e) {
      status.error = (e as Error).message;
      ctx.metrics.errors++;
    }
  }
  return out;
}

async function syncGroup(ctx: LinkContext, groupId: string, status: GroupSyncStatus): Promise<void> {
  const committed = await fetchCommittedOffsets(ctx.source, groupId);
  const wanted: (OffsetToCommit & { source: number })[] = [];
  for (const c of committed) {
    if (c.offset < 0n) continue;
    const r = ctx.replicas.get(`${c.topic}/${c.partition}`);
    if (r === undefined || !r.ready) continue;
    const t = translateOffset(r, Number(c.offset));
    if (t === undefined) {
      status.waiting++;
      continue;
    }
    wanted.push({
      topic: r.targetTopic,
      partition: r.partition,
      offset: BigInt(t),
      metadata: c.metadata ?? null,
      source: Number(c.offset),
    });
  }
  if (wanted.length === 0) return;
  try {
    const [description] = await ctx.targetAdmin.describeGroups([groupId]);
    status.targetState = description?.state ?? "";
    if (!IDLE_STATES.has(status.targetState)) return;
  } catch (e) {
    // Without DescribeGroups the coordinator still refuses outside commits to a group with members.
    if (!(e instanceof KafkaError && e.code === ErrorCode.UNSUPPORTED_VERSION)) throw e;
    status.targetState = "unknown";
  }
  const current = new Map<string, bigint>();
  for (const c of await fetchCommittedOffsets(ctx.target, groupId, wanted))
    current.set(`${c.topic}/${c.partition}`, c.offset);
  const toCommit: OffsetToCommit[] = [];
  for (const w of wanted) {
    const have = current.get(`${w.topic}/${w.partition}`) ?? -1n;
    if (have === w.offset) {
      status.inSync++;
    } else if (have < w.offset) {
      toCommit.push({
        topic: w.topic,
        partition: w.partition,
        offset: w.offset,
        metadata: w.metadata ?? null,
      });
    } else {
      status.conflicts.push({
        topic: w.topic,
        partition: w.partition,
        source: w.source,
        translated: Number(w.offset),
        target: Number(have),
      });
    }
  }
  if (toCommit.length === 0) return;
  try {
    await commitOffsets(ctx.target, groupId, toCommit);
  } catch (e) {
    if (e instanceof KafkaError && ACTIVE_GROUP_ERRORS.has(e.code)) {
      status.targetState = "active";
      return;
    }
    throw e;
  }
  status.committed = toCommit.length;
  status.inSync += toCommit.length;
  ctx.metrics.groupCommits += toCommit.length;
}
