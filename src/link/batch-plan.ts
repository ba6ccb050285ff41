// Decides, batch by batch, what a link does with a fetched records blob: copy the bytes as they
// are, re-encode (the rare batches Kafka would refuse from a client), or skip (control
// batches, aborted transactions, the link's own writes coming back). Reads headers only,
// except for control batches (to tell ABORT from COMMIT) and nothing else.
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { decodeBatch } from "../protocol/records/batch-codec.ts";
import {
  BASE_OFFSET_OFFSET,
  CURRENT_MAGIC,
  MAGIC_OFFSET,
  TimestampType,
  isControl,
  isTransactional,
  iterateBatches,
  readBatchHeader,
  timestampTypeOf,
} from "../protocol/records/batch-header.ts";
import { ControlRecordType, decodeControlKey } from "../protocol/records/control.ts";

export const BatchAction = {
  /** Copy the bytes; only header fields are rewritten. */
  COPY: 0,
  /** Copy the records through a decode and encode (offset gaps, or a batch that starts before the fetch offset). */
  REENCODE: 1,
  SKIP_CONTROL: 2,
  SKIP_ABORTED: 3,
  /** Written by a Ferry link into the source cluster: copying it back would make a loop. */
  SKIP_LOOP: 4,
  /** No records (compaction may leave such batches). */
  SKIP_EMPTY: 5,
} as const;
export type BatchActionId = (typeof BatchAction)[keyof typeof BatchAction];

export interface PlannedBatch {
  start: number;
  end: number;
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  producerId: bigint;
  attributes: number;
  maxTimestamp: number;
  action: BatchActionId;
}

export interface ChunkPlan {
  batches: PlannedBatch[];
  /** The offset after the last whole batch, or the fetch offset when there is none. */
  nextOffset: number;
  /** End of the last whole batch in the blob: records.subarray(0, wholeBytes) are whole batches. */
  wholeBytes: number;
}

export interface PlanOptions {
  /**
   * Translation mode: drop control batches, aborted transactional batches (from the Fetch
   * response's list, as a read_committed consumer does) and batches `isLinkWrite` recognises;
   * re-encode batches with offset gaps or that start before `fetchOffset`. Mirror mode copies
   * every batch as it is.
   */
  translate: boolean;
  abortedTransactions?: readonly { producerId: bigint; firstOffset: bigint }[];
  isLinkWrite?: (producerId: bigint) => boolean;
}

const NO_ABORTS: readonly { producerId: bigint; firstOffset: bigint }[] = [];

/** Plans the whole batches of a Fetch answer's records that end at or after fetchOffset. */
export function planChunk(records: Buffer, fetchOffset: number, options: PlanOptions): ChunkPlan {
  const batches: PlannedBatch[] = [];
  let nextOffset = fetchOffset;
  let wholeBytes = 0;
  const aborts = options.translate
    ? [...(options.abortedTransactions ?? NO_ABORTS)].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1))
    : NO_ABORTS;
  let nextAbort = 0;
  const abortedProducers = new Set<bigint>();
  for (const span of iterateBatches(records)) {
    if (span.truncated) break;
    if (records[span.start + MAGIC_OFFSET] !== CURRENT_MAGIC) {
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `batch at offset ${records.readBigInt64BE(span.start + BASE_OFFSET_OFFSET)} uses message format ` +
          `v${records[span.start + MAGIC_OFFSET]}; links copy v2 record batches only`,
      );
    }
    const h = readBatchHeader(records, span.start);
    const baseOffset = Number(h.baseOffset);
    const lastOffset = baseOffset + h.lastOffsetDelta;
    wholeBytes = span.end;
    if (lastOffset < fetchOffset) continue;
    nextOffset = lastOffset + 1;
    let action: BatchActionId = BatchAction.COPY;
    if (options.translate) {
      while (
        nextAbort < aborts.length &&
        Number((aborts[nextAbort] as { firstOffset: bigint }).firstOffset) <= lastOffset
      ) {
        abortedProducers.add((aborts[nextAbort] as { producerId: bigint }).producerId);
        nextAbort++;
      }
      if (isControl(h.attributes)) {
        action = BatchAction.SKIP_CONTROL;
        if (
          abortedProducers.has(h.producerId) &&
          controlType(records, span.start) === ControlRecordType.ABORT
        ) {
          abortedProducers.delete(h.producerId);
        }
      } else if (isTransactional(h.attributes) && abortedProducers.has(h.producerId)) {
        action = BatchAction.SKIP_ABORTED;
      } else if (h.recordCount === 0) {
        action = BatchAction.SKIP_EMPTY;
      } else if (h.producerId >= 0n && options.isLinkWrite?.(h.producerId) === true) {
        action = BatchAction.SKIP_LOOP;
      } else if (
        h.recordCount !== h.lastOffsetDelta + 1 ||
        baseOffset < fetchOffset ||
        timestampTypeOf(h.attributes) === TimestampType.LOG_APPEND_TIME
      ) {
        // Kafka refuses gaps and producer-set LogAppendTime from clients; the rest copies as is.
        action = BatchAction.REENCODE;
      }
    }
    batches.push({
      start: span.start,
      end: span.end,
      baseOffset,
      lastOffset,
      recordCount: h.recordCount,
      producerId: h.producerId,
      attributes: h.attributes,
      maxTimestamp: h.maxTimestamp,
      action,
    });
  }
  return { batches, nextOffset, wholeBytes };
}

function controlType(records: Buffer, start: number): number {
  const batch = decodeBatch(records, start);
  const first = batch.records[0];
  return first === undefined ? -1 : decodeControlKey(first.key).type;
}
