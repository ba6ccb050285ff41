// Reads the source for a set of partitions (those led by one source broker, in one mode) and
// hands whole batches to a writer. One fetch is in flight while the previous answer is being
// written, so reading and writing overlap; per partition, batches reach the writer in order.
import { fetchRaw, IsolationLevel, type FetchedPartition } from "../client/consumer.ts";
import { listOffsets, OffsetSpec } from "../client/offsets.ts";
import { sleep } from "../client/retry.ts";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { planChunk } from "./batch-plan.ts";
import type { ChunkWriter, FetchedChunk } from "./fetched-chunk.ts";
import type { LinkContext } from "./link-context.ts";
import type { LoopGuard } from "./loop-guard.ts";
import type { PartitionReplica, ReplicaMode } from "./partition-replica.ts";

export interface FetchLoopOptions {
  mode: ReplicaMode;
  /** The replicas this loop serves right now (re-evaluated every round). */
  select: () => PartitionReplica[];
  writer: ChunkWriter;
  loopGuard: LoopGuard | undefined;
  /** Called before a translation replica that needs it is fetched again. */
  resync?: (r: PartitionReplica) => Promise<void>;
}

/** Runs until the link's signal aborts. */
export async function runFetchLoop(ctx: LinkContext, options: FetchLoopOptions): Promise<void> {
  const translate = options.mode === "translate";
  let writing: Promise<void> = Promise.resolve();
  while (!ctx.signal.aborted) {
    const now = Date.now();
    const all = options.select();
    const replicas: PartitionReplica[] = [];
    for (const r of all) {
      if (!r.ready || r.paused || ctx.paused || r.removed || r.retryAt > now) continue;
      if (r.needsResync) {
        await writing;
        if (options.resync === undefined) continue;
        try {
          await options.resync(r);
          r.lastError = undefined;
        } catch (e) {
          r.fail(
            `resync failed: ${(e as Error).message}`,
            e instanceof KafkaError ? e.code : undefined,
            ctx.tuning.errorBackoffMs * 5,
          );
          r.needsResync = true;
          ctx.logger.error("resync failed", {
            topic: r.sourceTopic,
            partition: r.partition,
            error: (e as Error).message,
          });
          continue;
        }
      }
      replicas.push(r);
    }
    if (replicas.length === 0) {
      await writing;
      await sleep(all.length === 0 ? 200 : 50);
      continue;
    }
    const generations = replicas.map((r) => r.generation);
    const offsets = replicas.map((r) => r.fetchOffset);
    let answers: FetchedPartition[];
    try {
      answers = await fetchRaw(
        ctx.source,
        replicas.map((r) => ({
          topic: r.sourceTopic,
          partition: r.partition,
          offset: BigInt(r.fetchOffset),
        })),
        {
          maxWaitMs: ctx.tuning.fetchMaxWaitMs,
          maxBytes: ctx.tuning.fetchMaxBytes,
          partitionMaxBytes: ctx.tuning.partitionMaxBytes,
          isolationLevel: translate ? IsolationLevel.READ_COMMITTED : IsolationLevel.READ_UNCOMMITTED,
        },
      );
      ctx.metrics.fetches++;
    } catch (e) {
      if (ctx.signal.aborted) break;
      ctx.metrics.errors++;
      ctx.logger.warn("fetch from the source failed", { error: (e as Error).message });
      for (const r of replicas) {
        r.lastError = { message: `fetch failed: ${(e as Error).message}`, at: Date.now() };
      }
      await sleep(ctx.tuning.errorBackoffMs);
      continue;
    }
    const chunks: FetchedChunk[] = [];
    for (let i = 0; i < replicas.length; i++) {
      const r = replicas[i] as PartitionReplica;
      const a = answers[i];
      if (a === undefined || r.generation !== generations[i]) continue;
      const fetchOffset = offsets[i] as number;
      if (a.error !== undefined) {
        await handleFetchError(ctx, r, a, fetchOffset);
        continue;
      }
      r.sourceEnd = Number(translate ? a.lastStableOffset : a.highWatermark);
      const logStart = Number(a.logStartOffset);
      const logStartMoved = logStart > r.sourceLogStart;
      r.sourceLogStart = Math.max(r.sourceLogStart, logStart);
      if (a.records.length === 0 && !(logStartMoved && !translate)) {
        if (r.writtenOffset >= r.sourceEnd) r.caughtUpAt = now;
        continue;
      }
      try {
        if (translate && options.loopGuard !== undefined) await options.loopGuard.prepare(a.records);
        const plan = planChunk(a.records, fetchOffset, {
          translate,
          abortedTransactions: a.abortedTransactions,
          ...(options.loopGuard === undefined
            ? {}
            : { isLinkWrite: (id: bigint) => options.loopGuard?.isLinkWrite(id) === true }),
        });
        if (plan.batches.length === 0 && !(logStartMoved && !translate)) continue;
        if (r.generation !== generations[i]) continue;
        if (r.pendingSince < 0 && plan.batches[0] !== undefined)
          r.pendingSince = plan.batches[0].maxTimestamp;
        r.fetchOffset = Math.max(r.fetchOffset, plan.nextOffset);
        chunks.push({
          replica: r,
          generation: r.generation,
          fetchOffset,
          records: a.records.subarray(0, plan.wholeBytes),
          plan,
          sourceLogStart: r.sourceLogStart,
        });
      } catch (e) {
        r.fail(
          `cannot read batches at offset ${fetchOffset}: ${(e as Error).message}`,
          e instanceof KafkaError ? e.code : undefined,
          ctx.tuning.errorBackoffMs * 5,
        );
        ctx.logger.error("unreadable source batches", {
          topic: r.sourceTopic,
          partition: r.partition,
          error: (e as Error).message,
        });
      }
    }
    await writing;
    // The answer's buffer (all partitions' records are views of it) can be reused once the
    // writer is done with every chunk: a mirror append has then been answered or its
    // connection closed, so no byte of it is still to be sent. A translation writer's producer
    // may hold batches longer, so those buffers are left to the GC.
    const frame = answers.find((a) => a.records.length > 0)?.records;
    const giveBack = (): void => {
      if (frame !== undefined && !translate) ctx.framePool.give(frame);
    };
    if (chunks.length > 0) {
      writing = options.writer.write(chunks).then(
        () => {
          giveBack();
          ctx.onCopied?.();
        },
        (e: unknown) => {
          giveBack();
          ctx.metrics.errors++;
          ctx.logger.error("writer failed", { error: (e as Error).message });
          for (const c of chunks)
            c.replica.fail(`write failed: ${(e as Error).message}`, undefined, ctx.tuning.errorBackoffMs);
        },
      );
    } else {
      giveBack();
    }
  }
  await writing;
}

/**
 * OFFSET_OUT_OF_RANGE below the source's log start: the source deleted records before the
 * link copied them. Report the range loudly and continue at the log start. Above the log end:
 * the source lost records the target has (unclean election, restore); stop the partition.
 */
async function handleFetchError(
  ctx: LinkContext,
  r: PartitionReplica,
  a: FetchedPartition,
  fetchOffset: number,
): Promise<void> {
  const error = a.error;
  if (error === undefined) return;
  if (error.code !== ErrorCode.OFFSET_OUT_OF_RANGE) {
    r.fail(`fetch: ${error.message}`, error.code, ctx.tuning.errorBackoffMs);
    ctx.metrics.errors++;
    return;
  }
  const at = (timestamp: bigint) =>
    listOffsets(ctx.source, [{ topic: r.sourceTopic, partition: r.partition, timestamp }]).then(
      ([answer]) => answer,
      () => undefined,
    );
  const [earliest, latest] = await Promise.all([at(OffsetSpec.EARLIEST), at(OffsetSpec.LATEST)]);
  if (earliest === undefined || latest === undefined) {
    r.fail(
      "fetch: offset out of range, and the source's offsets are unavailable",
      error.code,
      ctx.tuning.errorBackoffMs,
    );
    return;
  }
  const start = Number(earliest.offset);
  const end = Number(latest.offset);
  if (fetchOffset < start) {
    const lost = { from: fetchOffset, to: start, at: Date.now() };
    r.lost.push(lost);
    if (r.lost.length > 100) r.lost.shift();
    r.lostRecords += start - fetchOffset;
    ctx.logger.error("source deleted records before the link copied them", {
      topic: r.sourceTopic,
      partition: r.partition,
      from: fetchOffset,
      to: start,
      records: start - fetchOffset,
    });
    r.sourceLogStart = Math.max(r.sourceLogStart, start);
    if (r.writtenOffset === fetchOffset) r.writtenOffset = start;
    r.fetchOffset = start;
    r.dirty = true;
    return;
  }
  r.fail(
    `the source partition ends at ${end} but the link has copied up to ${fetchOffset}: the source lost records the target has`,
    error.code,
    ctx.tuning.errorBackoffMs * 10,
  );
  ctx.logger.error("source is behind the target", {
    topic: r.sourceTopic,
    partition: r.partition,
    sourceEnd: end,
    copied: fetchOffset,
  });
}
