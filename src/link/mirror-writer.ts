// Mirror mode: appends fetched batches to the target's mirror topics at their source offsets
// through Ferry's FerryMirrorAppend API, bytes untouched, many partitions per request.
import { mirrorAppend } from "../client/mirror-append.ts";
import type { ChunkWriter, FetchedChunk } from "./fetched-chunk.ts";
import type { LinkContext } from "./link-context.ts";

export class MirrorWriter implements ChunkWriter {
  readonly #ctx: LinkContext;

  constructor(ctx: LinkContext) {
    this.#ctx = ctx;
  }

  async write(chunks: readonly FetchedChunk[]): Promise<void> {
    const live = chunks.filter((c) => c.generation === c.replica.generation && !c.replica.removed);
    if (live.length === 0) return;
    let results;
    try {
      results = await mirrorAppend(
        this.#ctx.target,
        live.map((c) => ({
          topic: c.replica.targetTopic,
          partition: c.replica.partition,
          sourceLogStartOffset: BigInt(c.sourceLogStart),
          records: c.records,
        })),
      );
    } catch (e) {
      this.#ctx.metrics.errors++;
      for (const c of live)
        c.replica.fail(
          `mirror append failed: ${(e as Error).message}`,
          undefined,
          this.#ctx.tuning.errorBackoffMs,
        );
      this.#ctx.logger.warn("mirror append failed", { error: (e as Error).message });
      return;
    }
    this.#ctx.metrics.writes++;
    const now = Date.now();
    live.forEach((c, i) => {
      const r = c.replica;
      const res = results[i];
      if (res === undefined || res.error !== undefined) {
        this.#ctx.metrics.errors++;
        const message = res?.error?.message ?? "no answer";
        r.fail(
          `mirror append to ${r.targetTopic}-${r.partition} failed: ${message}`,
          res?.error?.code,
          this.#ctx.tuning.errorBackoffMs,
        );
        this.#ctx.logger.warn("mirror append refused", {
          topic: r.targetTopic,
          partition: r.partition,
          error: message,
        });
        return;
      }
      const end = Number(res.logEndOffset);
      if (end < c.plan.nextOffset) {
        r.fail(
          `the mirror ends at ${end} after an append up to ${c.plan.nextOffset}`,
          undefined,
          this.#ctx.tuning.errorBackoffMs,
        );
        return;
      }
      let records = 0;
      for (const b of c.plan.batches) {
        records += b.recordCount;
        this.#ctx.metrics.latency.observe(now - b.maxTimestamp);
      }
      r.writtenOffset = Math.max(r.writtenOffset, end);
      r.recordsCopied += records;
      r.bytesCopied += c.records.length;
      r.batchesCopied += c.plan.batches.length;
      r.lastError = undefined;
      if (r.writtenOffset >= r.fetchOffset) r.pendingSince = -1;
      if (r.writtenOffset >= r.sourceEnd) r.caughtUpAt = now;
    });
  }
}
