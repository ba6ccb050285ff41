// Translation mode: writes fetched batches into any Kafka with an idempotent producer, one
// batch per partition per Produce request (Kafka takes no more), rewriting only header
// fields (offset, producer id/epoch/sequence, transactional bit) unless a batch must be
// re-encoded. Every acknowledged batch extends the partition's offset map. After a crash or a
// failed write, `resync` finds the link's own batches on the target past the checkpoint and
// pairs them with the source, so nothing is written twice.
import { fetchRaw, IsolationLevel } from "../client/consumer.ts";
import { listOffsets, OffsetSpec } from "../client/offsets.ts";
import { Producer } from "../client/producer.ts";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { decodeBatch, encodeBatch } from "../protocol/records/batch-codec.ts";
import {
  TimestampType,
  compressionOf,
  isControl,
  iterateBatches,
  readBatchHeader,
} from "../protocol/records/batch-header.ts";
import { rewriteBatchHeader } from "../protocol/records/batch-rewrite.ts";
import { BatchAction, planChunk, type PlannedBatch } from "./batch-plan.ts";
import type { FetchedChunk } from "./fetched-chunk.ts";
import type { LinkContext } from "./link-context.ts";
import { linkProducerIds, registrationWrite } from "./link-registry.ts";
import type { PartitionReplica } from "./partition-replica.ts";

/** One batch to produce and the source offsets of its records. */
interface OutBatch {
  replica: PartitionReplica;
  bytes: Buffer;
  /** Source offsets of the records, in order; null when they are srcBase, srcBase+1, ... */
  srcOffsets: number[] | null;
  srcBase: number;
  count: number;
  /** The source offset after this batch. */
  nextOffset: number;
  maxTimestamp: number;
}

export class TranslateWriter {
  readonly #ctx: LinkContext;
  #producer: Producer | undefined;

  constructor(ctx: LinkContext) {
    this.#ctx = ctx;
  }

  /** Whether a source batch was written into the source cluster by a Ferry link (a loop if copied). */
  isLinkWrite = (producerId: bigint): boolean => this.#ctx.loopGuard.isLinkWrite(producerId);

  /** Writes chunks; failures are recorded on their replicas, which then resync. */
  async write(chunks: readonly FetchedChunk[]): Promise<void> {
    const queues: OutBatch[][] = [];
    for (const chunk of chunks) {
      const r = chunk.replica;
      if (chunk.generation !== r.generation || r.removed || r.needsResync) continue;
      try {
        queues.push(buildOutput(chunk));
      } catch (e) {
        r.fail(
          `cannot copy batches at offset ${chunk.fetchOffset}: ${(e as Error).message}`,
          codeOf(e),
          this.#ctx.tuning.errorBackoffMs,
        );
        this.#ctx.logger.error("batch not copyable", {
          topic: r.sourceTopic,
          partition: r.partition,
          error: (e as Error).message,
        });
      }
    }
    const producer = await this.#ensureProducer();
    const failed = new Set<PartitionReplica>();
    for (let round = 0; ; round++) {
      const units: OutBatch[] = [];
      for (const q of queues) {
        const b = q[round];
        if (b !== undefined && !failed.has(b.replica)) units.push(b);
      }
      if (units.length === 0) break;
      let results;
      try {
        results = await producer.produceRawMany(
          units.map((u) => ({
            topic: u.replica.targetTopic,
            partition: u.replica.partition,
            batches: u.bytes,
          })),
        );
      } catch (e) {
        for (const u of units) failed.add(u.replica);
        this.#writeFailed(
          units.map((u) => u.replica),
          e,
        );
        continue;
      }
      this.#ctx.metrics.writes++;
      const now = Date.now();
      units.forEach((u, i) => {
        const base = Number(results[i]?.baseOffset ?? -1n);
        const r = u.replica;
        if (base < 0) {
          // A duplicate the broker recognised without telling where it is: find it by scanning.
          failed.add(r);
          this.#writeFailed(
            [r],
            new KafkaError(ErrorCode.DUPLICATE_SEQUENCE_NUMBER, "write acknowledged without an offset"),
          );
          return;
        }
        addRuns(r, u, base);
        r.targetNext = base + u.count;
        r.writtenOffset = u.nextOffset;
        r.recordsCopied += u.count;
        r.bytesCopied += u.bytes.length;
        r.batchesCopied++;
        r.dirty = true;
        this.#ctx.metrics.latency.observe(now - u.maxTimestamp);
      });
    }
    for (const chunk of chunks) {
      const r = chunk.replica;
      if (failed.has(r) || chunk.generation !== r.generation || r.needsResync) continue;
      // Trailing skipped batches (markers, aborted data) count as done.
      if (chunk.plan.nextOffset > r.writtenOffset) {
        r.writtenOffset = chunk.plan.nextOffset;
        r.dirty = true;
      }
      r.recordsSkipped += skippedRecords(chunk.plan.batches);
      if (r.writtenOffset >= r.fetchOffset) r.pendingSince = -1;
      if (r.writtenOffset >= r.sourceEnd) r.caughtUpAt = Date.now();
    }
  }

  /**
   * Brings a replica's position up to date with the target: the link's batches found past the
   * checkpoint are paired, in order, with the source batches they copied. Throws when they do
   * not pair (the target was changed behind the link's back); the replica then stays stopped.
   */
  async resync(r: PartitionReplica): Promise<void> {
    const ctx = this.#ctx;
    const pids = linkProducerIds(ctx.state, ctx.name);
    const found = await scanLinkBatches(ctx, r, pids);
    let i = 0;
    let src = r.writtenOffset;
    while (i < found.length) {
      const [a] = await fetchRaw(
        ctx.source,
        [{ topic: r.sourceTopic, partition: r.partition, offset: BigInt(src) }],
        {
          maxWaitMs: 0,
          isolationLevel: IsolationLevel.READ_COMMITTED,
          partitionMaxBytes: ctx.tuning.partitionMaxBytes,
        },
      );
      if (a === undefined) throw new Error("no fetch answer");
      if (a.error !== undefined) throw a.error;
      const plan = planChunk(a.records, src, {
        translate: true,
        abortedTransactions: a.abortedTransactions,
        isLinkWrite: this.isLinkWrite,
      });
      if (plan.batches.length === 0) {
        throw new KafkaError(
          ErrorCode.UNKNOWN_SERVER_ERROR,
          `the target has ${found.length - i} more batches written by this link than the source has records after offset ${src}`,
        );
      }
      for (const b of plan.batches) {
        if (i >= found.length) break;
        if (b.action === BatchAction.COPY || b.action === BatchAction.REENCODE) {
          const out = outputOf(a.records, b, src, r);
          const t = found[i] as { base: number; count: number };
          if (t.count !== out.count) {
            throw new KafkaError(
              ErrorCode.UNKNOWN_SERVER_ERROR,
              `target batch at ${t.base} has ${t.count} records but source batch at ${b.baseOffset} has ${out.count}`,
            );
          }
          addRuns(r, out, t.base);
          r.targetNext = t.base + t.count;
          i++;
        }
        src = b.lastOffset + 1;
      }
    }
    if (found.length > 0) {
      ctx.logger.info("resumed after the link's own unacknowledged writes", {
        topic: r.sourceTopic,
        partition: r.partition,
        batches: found.length,
        sourceOffset: src,
      });
    }
    r.writtenOffset = src;
    r.fetchOffset = src;
    r.generation++;
    r.dirty = true;
    r.needsResync = false;
  }

  /**
   * The link's producer on the target. Every producer id it gets (the first, and any new one
   * after a sequence or epoch error) is recorded in the link's registration before anything is
   * written with it, so a restart and the loop guard of a reverse link recognise its batches.
   */
  async #ensureProducer(): Promise<Producer> {
    if (this.#producer !== undefined) return this.#producer;
    const ctx = this.#ctx;
    const producer = new Producer(ctx.target, {
      acks: -1,
      idempotent: true,
      onIdentity: (identity) =>
        ctx.state.update((state) => [registrationWrite(state, ctx.registration, identity.producerId)]),
    });
    await producer.producerIdentity();
    this.#producer = producer;
    return producer;
  }

  #writeFailed(replicas: readonly PartitionReplica[], e: unknown): void {
    // The producer's sequences may no longer match the broker's: start over with a new id.
    this.#producer = undefined;
    this.#ctx.metrics.errors++;
    for (const r of replicas) {
      r.needsResync = true;
      r.fail(
        `write to ${r.targetTopic}-${r.partition} failed: ${(e as Error).message}`,
        codeOf(e),
        this.#ctx.tuning.errorBackoffMs,
      );
    }
    this.#ctx.logger.warn("write failed; the partitions will resync", {
      partitions: replicas.map((r) => r.key).join(","),
      error: (e as Error).message,
    });
  }
}

function codeOf(e: unknown): number | undefined {
  return e instanceof KafkaError ? e.code : undefined;
}

function skippedRecords(batches: readonly PlannedBatch[]): number {
  let n = 0;
  for (const b of batches)
    if (b.action !== BatchAction.COPY && b.action !== BatchAction.REENCODE) n += b.recordCount;
  return n;
}

function buildOutput(chunk: FetchedChunk): OutBatch[] {
  const out: OutBatch[] = [];
  let from = chunk.fetchOffset;
  for (const b of chunk.plan.batches) {
    if (b.action === BatchAction.COPY || b.action === BatchAction.REENCODE) {
      out.push(outputOf(chunk.records, b, from, chunk.replica));
    }
    from = b.lastOffset + 1;
  }
  return out;
}

/** The batch to produce for a planned source batch (its bytes rewritten in place, or re-encoded). */
function outputOf(
  records: Buffer,
  b: PlannedBatch,
  fetchOffset: number,
  replica: PartitionReplica,
): OutBatch {
  if (b.action === BatchAction.COPY) {
    const bytes = records.subarray(b.start, b.end);
    rewriteBatchHeader(bytes, 0, { baseOffset: 0n, transactional: false, partitionLeaderEpoch: -1 });
    return {
      replica,
      bytes,
      srcOffsets: null,
      srcBase: b.baseOffset,
      count: b.recordCount,
      nextOffset: b.lastOffset + 1,
      maxTimestamp: b.maxTimestamp,
    };
  }
  const batch = decodeBatch(records, b.start);
  const base = b.baseOffset;
  const kept = batch.records.filter((rec) => base + rec.offsetDelta >= fetchOffset);
  const bytes = encodeBatch({
    records: kept.map((rec, i) => ({ ...rec, offsetDelta: i })),
    compression: compressionOf(batch.header.attributes),
    timestampType: TimestampType.CREATE_TIME,
  });
  return {
    replica,
    bytes,
    srcOffsets: kept.map((rec) => base + rec.offsetDelta),
    srcBase: base,
    count: kept.length,
    nextOffset: b.lastOffset + 1,
    maxTimestamp: b.maxTimestamp,
  };
}

/** Extends the replica's offset map with a batch written at target offset `base`. */
function addRuns(r: PartitionReplica, out: OutBatch, base: number): void {
  if (out.count === 0) return;
  if (out.srcOffsets === null) {
    r.dirtyRuns.add(r.offsetMap.add(out.srcBase, base, out.count));
    return;
  }
  let start = 0;
  for (let i = 1; i <= out.srcOffsets.length; i++) {
    if (
      i === out.srcOffsets.length ||
      (out.srcOffsets[i] as number) !== (out.srcOffsets[i - 1] as number) + 1
    ) {
      r.dirtyRuns.add(r.offsetMap.add(out.srcOffsets[start] as number, base + start, i - start));
      start = i;
    }
  }
}

/** The link's own batches on the target at or after the replica's targetNext. */
async function scanLinkBatches(
  ctx: LinkContext,
  r: PartitionReplica,
  pids: ReadonlySet<bigint>,
): Promise<{ base: number; count: number }[]> {
  const found: { base: number; count: number }[] = [];
  if (pids.size === 0) return found;
  const [end] = await listOffsets(ctx.target, [
    { topic: r.targetTopic, partition: r.partition, timestamp: OffsetSpec.LATEST },
  ]);
  const targetEnd = Number(end?.offset ?? 0n);
  let pos = r.targetNext;
  while (pos < targetEnd) {
    const [a] = await fetchRaw(
      ctx.target,
      [{ topic: r.targetTopic, partition: r.partition, offset: BigInt(pos) }],
      { maxWaitMs: 0, partitionMaxBytes: ctx.tuning.partitionMaxBytes },
    );
    if (a === undefined) break;
    if (a.error !== undefined) {
      if (a.error.code === ErrorCode.OFFSET_OUT_OF_RANGE && Number(a.logStartOffset) > pos) {
        pos = Number(a.logStartOffset);
        continue;
      }
      throw a.error;
    }
    let progressed = false;
    for (const span of iterateBatches(a.records)) {
      if (span.truncated) break;
      const h = readBatchHeader(a.records, span.start);
      const base = Number(h.baseOffset);
      const last = base + h.lastOffsetDelta;
      if (last < pos) continue;
      progressed = true;
      pos = last + 1;
      if (!isControl(h.attributes) && pids.has(h.producerId) && base >= r.targetNext) {
        found.push({ base, count: h.recordCount });
      }
    }
    if (!progressed) break;
  }
  return found;
}
