// Persists translation replicas' checkpoints and the offset-map runs that changed, in one
// batch (so a checkpoint and its runs are written together or not at all), and prunes runs
// the source no longer has records for.
import type { LinkContext } from "./link-context.ts";
import { checkpointKey, runKey } from "./link-registry.ts";
import type { StateWrite } from "./link-state-store.ts";

/** Writes what changed since the last call; resolves once the target acknowledged it. */
export async function flushCheckpoints(ctx: LinkContext): Promise<void> {
  const writes: StateWrite[] = [];
  const flushed = [];
  for (const r of ctx.replicas.values()) {
    if (r.mode !== "translate" || !r.ready || r.needsResync) continue;
    if (!r.dirty && r.dirtyRuns.size === 0) continue;
    for (const run of r.dirtyRuns) {
      writes.push({
        key: runKey(ctx.name, r.sourceTopic, r.partition, run.src),
        value: { tgt: run.tgt, len: run.len },
      });
    }
    // Keep at least the last run: it locates the next record for consumers at the end.
    if (r.sourceLogStart > 0 && r.offsetMap.runs.length > 1) {
      const last = r.offsetMap.last;
      for (const run of r.offsetMap.pruneBelow(r.sourceLogStart)) {
        if (run === last) continue;
        writes.push({ key: runKey(ctx.name, r.sourceTopic, r.partition, run.src), value: null });
      }
    }
    writes.push({
      key: checkpointKey(ctx.name, r.sourceTopic, r.partition),
      value: { src: r.writtenOffset, tgt: r.targetNext },
    });
    flushed.push({ r, runs: [...r.dirtyRuns] });
  }
  if (writes.length === 0) return;
  await ctx.state.write(writes);
  for (const { r, runs } of flushed) {
    r.dirty = false;
    for (const run of runs) r.dirtyRuns.delete(run);
  }
}
