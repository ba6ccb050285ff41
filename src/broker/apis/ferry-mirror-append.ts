// FerryMirrorAppend (key 32000, Ferry's own extension; specs in src/protocol/ferry-specs/).
// v0: flexible. The replication link appends record batches to a mirror topic (one with
// ferry.mirror.source set) at the offsets they have in the source partition, byte for byte,
// so the mirror is identical to its source:
//  - batches entirely below the log end offset are already there (a retry) and are skipped;
//    a batch that straddles the log end offset is refused (OFFSET_OUT_OF_RANGE); gaps are kept;
//  - every batch is checked (magic 2, CRC, increasing offsets) before anything is written;
//    control and transactional batches go in as they are;
//  - an empty log whose first batch starts above its end begins there (log start moves up);
//  - SourceLogStartOffset moves the log start up to follow the source's retention (capped
//    at the high watermark), as DeleteRecords would.
// The answer carries the partition's log start, log end and high watermark after the append.
// TimeoutMs is accepted for brokers that will replicate; a single node answers once written.
import type { Input } from "../../protocol/codec-runtime.ts";
import { crc32c } from "../../protocol/crc32c.ts";
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import type { FerryMirrorAppendPartition } from "../../protocol/generated/ferry-mirror-append-request.ts";
import type { FerryMirrorAppendPartitionResponse } from "../../protocol/generated/ferry-mirror-append-response.ts";
import {
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CRC_START,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MIN_BATCH_LENGTH,
} from "../../protocol/records/batch-header.ts";
import type { BrokerContext } from "../broker-context.ts";
import { mirrorSourceOf } from "../mirror-topics.ts";
import type { Partition } from "../topic-manager.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { allSettled, defineApi } from "./api.ts";
import { errorOf } from "./error-of.ts";

type PartitionResult = Input<FerryMirrorAppendPartitionResponse>;

/** One checked batch of the request: where it lies and the offsets it carries. */
interface Span {
  start: number;
  end: number;
  baseOffset: number;
  lastOffset: number;
}

/**
 * The complete batches of a records blob, each checked: length, magic 2, CRC-32C, offsets
 * in range and increasing. A trailing partial batch (Fetch responses may end in one) is
 * dropped, as Kafka drops one in a produce. Throws a KafkaError for anything else.
 */
export function checkMirrorBatches(records: Buffer): Span[] {
  const spans: Span[] = [];
  const n = records.length;
  let pos = 0;
  let previousLast = -1;
  while (n - pos >= LOG_OVERHEAD) {
    const length = records.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (length < MIN_BATCH_LENGTH) corrupt(`record batch at byte ${pos} has length ${length}`);
    if (length > n - pos - LOG_OVERHEAD) break;
    const end = pos + LOG_OVERHEAD + length;
    const magic = records.readInt8(pos + MAGIC_OFFSET);
    if (magic !== CURRENT_MAGIC) {
      throw new KafkaError(ErrorCode.INVALID_RECORD, `record batch at byte ${pos} has magic ${magic}, not 2`);
    }
    const stored = records.readUInt32BE(pos + CRC_OFFSET);
    if (crc32c(records, pos + CRC_START, end) !== stored) {
      corrupt(`record batch at byte ${pos} fails its CRC check (stored ${stored})`);
    }
    const base = records.readBigInt64BE(pos + BASE_OFFSET_OFFSET);
    const delta = records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
    if (base < 0n || base > BigInt(Number.MAX_SAFE_INTEGER) - 2n ** 31n || delta < 0) {
      throw new KafkaError(
        ErrorCode.INVALID_RECORD,
        `record batch at byte ${pos} has an invalid offset range (base ${base}, last offset delta ${delta})`,
      );
    }
    const baseOffset = Number(base);
    if (baseOffset <= previousLast) {
      throw new KafkaError(
        ErrorCode.INVALID_RECORD,
        `record batch at offset ${baseOffset} does not follow the previous batch (ending at ${previousLast})`,
      );
    }
    previousLast = baseOffset + delta;
    spans.push({ start: pos, end, baseOffset, lastOffset: previousLast });
    pos = end;
  }
  return spans;
}

function corrupt(message: string): never {
  throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, message);
}

/** Groups consecutive spans into appends of at most maxBytes each (one batch may not exceed it). */
function chunks(spans: readonly Span[], maxBytes: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const s of spans) {
    if (s.end - s.start > maxBytes) {
      throw new KafkaError(
        ErrorCode.RECORD_LIST_TOO_LARGE,
        `the record batch at offset ${s.baseOffset} is ${s.end - s.start} bytes, more than segment.bytes (${maxBytes})`,
      );
    }
    const last = out[out.length - 1];
    if (last !== undefined && s.end - last.start <= maxBytes) last.end = s.end;
    else out.push({ start: s.start, end: s.end });
  }
  return out;
}

function offsetsOf(partition: Partition, index: number): PartitionResult {
  const log = partition.log;
  return {
    index,
    errorCode: 0,
    errorMessage: null,
    logStartOffset: BigInt(log.logStartOffset),
    logEndOffset: BigInt(log.logEndOffset),
    highWatermark: BigInt(log.highWatermark),
  };
}

async function appendPartition(
  b: BrokerContext,
  topic: string,
  p: FerryMirrorAppendPartition,
): Promise<PartitionResult> {
  const failed = (code: number, message: string, partition?: Partition): PartitionResult =>
    partition === undefined
      ? {
          index: p.index,
          errorCode: code,
          errorMessage: message,
          logStartOffset: -1n,
          logEndOffset: -1n,
          highWatermark: -1n,
        }
      : { ...offsetsOf(partition, p.index), errorCode: code, errorMessage: message };
  const partition = b.topics.partition(topic, p.index);
  if (partition === undefined) {
    return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic or partition ${topic}-${p.index}`);
  }
  if (mirrorSourceOf(partition.topic) === undefined || partition.topic.internal) {
    return failed(
      ErrorCode.INVALID_REQUEST,
      `topic '${topic}' is not a mirror topic (ferry.mirror.source is not set); FerryMirrorAppend writes mirror topics only`,
      partition,
    );
  }
  const log = partition.log;
  try {
    // Everything up to queuing the appends runs synchronously: the log end offset the batches
    // are compared with is the one they are appended at, even with concurrent requests.
    const records = p.records ?? Buffer.alloc(0);
    const spans = checkMirrorBatches(records);
    const end = log.logEndOffset;
    let first = 0;
    while (first < spans.length && (spans[first] as Span).lastOffset < end) first++;
    const kept = spans.slice(first);
    const head = kept[0];
    if (head !== undefined && head.baseOffset < end) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `record batch [${head.baseOffset}, ${head.lastOffset}] straddles the log end offset ${end}: ` +
          `the mirror holds offsets up to ${end - 1}, so a batch must start at ${end} or later`,
      );
    }
    // An empty log starts where the source's data does.
    let newStart =
      head !== undefined && log.logStartOffset === end && head.baseOffset > end ? head.baseOffset : -1;
    if (kept.length > 0) {
      const appends = chunks(kept, log.config.segmentBytes).map((c) =>
        log.appendAtOffsets(records.subarray(c.start, c.end), true),
      );
      // Every append settles before the answer: the request's buffer is reused after it.
      const settled = await Promise.allSettled(appends);
      partition.notifyAppend();
      for (const s of settled) if (s.status === "rejected") throw s.reason;
    }
    const source = p.sourceLogStartOffset;
    if (source >= 0n) newStart = Math.max(newStart, Math.min(Number(source), log.highWatermark));
    if (newStart > log.logStartOffset) await log.deleteRecordsBefore(newStart);
    return offsetsOf(partition, p.index);
  } catch (e) {
    const { code, message } = errorOf(e, b.log, `mirror append ${topic}-${p.index}`);
    return failed(code, message, partition);
  }
}

export const ferryMirrorAppend = defineApi({
  key: ApiKey.FerryMirrorAppend,
  minVersion: 0,
  maxVersion: 0,
  requestDoneWhenSettled: true,
  async handle(req, ctx) {
    const b = ctx.broker;
    const topics = await allSettled(
      req.topics.map(async (t) => ({
        name: t.name,
        // Mirror topics only take FerryMirrorAppend, so WRITE on a mirror topic means exactly this.
        partitions: ctx.authorize(AclOperation.WRITE, AclResourceType.TOPIC, t.name)
          ? await allSettled(t.partitions.map((p) => appendPartition(b, t.name, p)))
          : t.partitions.map((p) => ({
              index: p.index,
              errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
              errorMessage: `not authorized to write to ${t.name}`,
              logStartOffset: -1n,
              logEndOffset: -1n,
              highWatermark: -1n,
            })),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
});
