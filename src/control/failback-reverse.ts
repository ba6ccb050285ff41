// How a failback makes the old primary the reverse link's target. Mirror topics (Ferry brokers
// on both sides) become mirrors again: in place where nothing diverged, else recreated empty and
// copied back in full. Every other topic is copied back in translation mode: the reverse link's
// checkpoint starts at the current primary's first record of its own and lands after the old
// primary's end, and its offset map is the failed-over link's map inverted, so committed offsets
// translate exactly in both directions.
import { ConfigOp, ResourceType, type Admin } from "../client/admin.ts";
import type { Cluster } from "../client/cluster.ts";
import { MIRROR_LINK_CONFIG, MIRROR_SOURCE_CONFIG, mirrorSourceValue } from "../link/config-policy.ts";
import { createTopic } from "../link/create-topic.ts";
import { checkpointKey, readRuns, runKey } from "../link/link-registry.ts";
import type { LinkStateStore, StateWrite } from "../link/link-state-store.ts";
import type { OffsetRun } from "../link/offset-map.ts";

/** One partition as the failback found it. */
export interface ReversedPartition {
  /** The topic on the old primary (the failed-over link's source topic). */
  oldTopic: string;
  /** The topic on the current primary (the failed-over link's target topic). */
  currentTopic: string;
  partition: number;
  /** How the failed-over link copied it. */
  mode: "mirror" | "translate";
  /** Source offset: everything below reached the current primary. */
  divergencePoint: number;
  /** Target offset: the current primary's first record that did not come from the old one. */
  currentFrom: number;
  /** The old primary's log start and end when it came back. */
  oldStart: number;
  oldEnd: number;
}

/** The topics turned back into mirrors: in place, or recreated because they had diverged. */
export interface MirrorReversal {
  remirrored: string[];
  recreated: string[];
}

/** Makes the old primary's mirror-mode topics mirrors of the current primary's, owned by the reverse link. */
export async function reverseMirrors(
  old: Cluster,
  oldAdmin: Admin,
  currentClusterId: string,
  reverseLink: string,
  parts: readonly ReversedPartition[],
): Promise<MirrorReversal> {
  const out: MirrorReversal = { remirrored: [], recreated: [] };
  const topics = new Map<string, ReversedPartition[]>();
  for (const p of parts) topics.set(p.oldTopic, [...(topics.get(p.oldTopic) ?? []), p]);
  for (const [topic, ps] of topics) {
    const value = mirrorSourceValue(currentClusterId, (ps[0] as ReversedPartition).currentTopic);
    if (ps.every((p) => p.oldEnd <= p.divergencePoint)) {
      await oldAdmin.incrementalAlterConfigs(ResourceType.TOPIC, topic, [
        { name: MIRROR_SOURCE_CONFIG, value, op: ConfigOp.SET },
        { name: MIRROR_LINK_CONFIG, value: reverseLink, op: ConfigOp.SET },
      ]);
      out.remirrored.push(topic);
      continue;
    }
    // A Ferry broker cannot cut a log's tail: the diverged topic starts again as an empty mirror.
    await oldAdmin.deleteTopics([topic]);
    await createTopic(old, oldAdmin, {
      name: topic,
      numPartitions: Math.max(...ps.map((p) => p.partition)) + 1,
      replicationFactor: -1,
      configs: { [MIRROR_SOURCE_CONFIG]: value, [MIRROR_LINK_CONFIG]: reverseLink },
    });
    out.recreated.push(topic);
  }
  return out;
}

/** Tombstones for a link's checkpoints and offset-map runs: what an earlier era of it left. */
export function forgetCopyState(store: LinkStateStore, link: string): StateWrite[] {
  const out: StateWrite[] = [];
  for (const prefix of [`ckpt/${link}/`, `run/${link}/`])
    for (const [key] of store.entries(prefix)) out.push({ key, value: null });
  return out;
}

/**
 * The reverse link's state for partitions copied back in translation mode: per partition a
 * checkpoint (resume at the current primary's first own record, land at the old primary's end)
 * and the failed-over link's offset map inverted (mirror mode: the identity over the old
 * primary's records below the divergence point).
 */
export function reverseTranslationState(
  forwardState: LinkStateStore,
  forward: string,
  reverse: string,
  parts: readonly ReversedPartition[],
): StateWrite[] {
  const out: StateWrite[] = [];
  for (const p of parts) {
    const runs: OffsetRun[] =
      p.mode === "mirror"
        ? p.oldStart < p.divergencePoint
          ? [{ src: p.oldStart, tgt: p.oldStart, len: p.divergencePoint - p.oldStart }]
          : []
        : readRuns(forwardState, forward, p.oldTopic, p.partition);
    for (const run of runs) {
      // Only what reached the current primary; a run is monotonic on both sides, so its inverse is too.
      const len = Math.min(run.len, p.divergencePoint - run.src);
      if (len <= 0) continue;
      out.push({
        key: runKey(reverse, p.currentTopic, p.partition, run.tgt),
        value: { tgt: run.src, len },
      });
    }
    out.push({
      key: checkpointKey(reverse, p.currentTopic, p.partition),
      value: { src: p.currentFrom, tgt: p.oldEnd },
    });
  }
  return out;
}

/** The source offset of the last record the failed-over link copied below the divergence point (-1: none). */
export function lastReplicatedOffset(
  forwardState: LinkStateStore,
  forward: string,
  p: ReversedPartition,
): number {
  if (p.mode === "mirror") return p.divergencePoint - 1;
  let last = -1;
  for (const run of readRuns(forwardState, forward, p.oldTopic, p.partition)) {
    if (run.src >= p.divergencePoint) break;
    last = Math.min(run.src + run.len, p.divergencePoint) - 1;
  }
  return last;
}
