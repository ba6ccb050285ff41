// Consumer group offset sync by polling: every round, the committed offsets of the selected
// source groups are read (OffsetFetch), translated exactly (mirror: the same offset; translation:
// through the offset map) and committed on the target through the GroupCommitter's rules. An
// offset the link has not copied up to yet waits for the next round; target offsets ahead of the
// translated ones are reported as conflicts, not overwritten. The __consumer_offsets stream
// (offset-stream.ts) copies commits as they happen; this round is its start and its backstop.
import { fetchCommittedOffsets } from "../client/group-offsets.ts";
import type { GroupCommitter, TranslatedOffset } from "./group-commit.ts";
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

/** The target offset for a committed source offset, or undefined when it is not copied yet. */
export function translateOffset(r: PartitionReplica, offset: number): number | undefined {
  if (r.mode === "mirror") return offset <= r.writtenOffset ? offset : undefined;
  return r.offsetMap.translate(offset, r.writtenOffset, r.targetNext);
}

/** One round over every selected group; returns each group's status. */
export async function syncGroups(ctx: LinkContext, committer: GroupCommitter): Promise<GroupSyncStatus[]> {
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
      await syncGroup(ctx, committer, g.groupId, status);
    } catch (e) {
      status.error = (e as Error).message;
      ctx.metrics.errors++;
    }
  }
  return out;
}

async function syncGroup(
  ctx: LinkContext,
  committer: GroupCommitter,
  groupId: string,
  status: GroupSyncStatus,
): Promise<void> {
  const committed = await fetchCommittedOffsets(ctx.source, groupId);
  const wanted: TranslatedOffset[] = [];
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
      sourceTopic: r.sourceTopic,
      targetTopic: r.targetTopic,
      partition: r.partition,
      source: Number(c.offset),
      target: t,
      metadata: c.metadata ?? null,
    });
  }
  if (wanted.length === 0) return;
  const outcome = await committer.commit(groupId, wanted);
  status.targetState = outcome.targetState;
  status.inSync = outcome.inSync.length + outcome.committed.length;
  status.committed = outcome.committed.length;
  status.conflicts = outcome.ahead.map(({ offset, target }) => ({
    topic: offset.targetTopic,
    partition: offset.partition,
    source: offset.source,
    translated: offset.target,
    target,
  }));
}
