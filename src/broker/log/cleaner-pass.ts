// One cleaning of one log, as Kafka's Cleaner.doClean does it: build the key → latest offset
// map from the dirty range [firstDirty, uncleanable), then rewrite every segment below the
// map's end, grouped so that each replacement stays under segment.bytes, keeping a record
// only if it is the latest for its key (or past the map), and swap each group in as soon as
// it is written. Batches keep their base and last offsets; a batch whose records all stay is
// copied byte for byte, others are re-encoded with their own codec and header. The work runs
// in slices of a few hundred KiB or a few ms between which `pace` yields to the event loop and throttles.
import { CompressionCodec } from "../../protocol/compression/index.ts";
import { decodeBatch, encodeBatch } from "../../protocol/records/batch-codec.ts";
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  DELETE_HORIZON_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  TimestampType,
} from "../../protocol/records/batch-header.ts";
import { ControlRecordType } from "../../protocol/records/control.ts";
import type { DecodedRecord } from "../../protocol/records/record.ts";
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import { controlTypeOf, walkRecords } from "./cleaner-records.ts";
import {
  CleanedSegmentWriter,
  keptTxnEntries,
  removeCleanedFiles,
  swapInCleaned,
  type CleanedSegment,
} from "./cleaner-swap.ts";
import { TxnCleaningState, collectAbortedTxns, type TxnEventCache } from "./cleaner-txn.ts";
import { scanBatches, type BatchVisitor } from "./file-scan.ts";
import { readInt64 } from "./int64.ts";
import { segmentIndexFor, segmentLimits } from "./log-state.ts";
import type { OffsetMap } from "./offset-map.ts";
import type { CleanerAccess } from "./partition-log.ts";
import type { Segment } from "./segment.ts";

const INT32_MAX = 0x7fffffff;
/** The longest the cleaner keeps the event loop before yielding (a batch is never split). */
const SLICE_MS = 4;

/** The offsets a cleaning covers: dirty records from firstDirty, nothing at or after uncleanable (a segment base). */
export interface CleanRange {
  firstDirty: number;
  uncleanable: number;
}

/** What a cleaning needs from its owner. */
export interface CleanEnv {
  map: OffsetMap;
  /** The cleaning's clock reading (delete horizons are compared with it). */
  now: number;
  /** Called after each slice with the bytes it read: yields, throttles, throws to stop the cleaning. */
  pace: (bytes: number) => Promise<void>;
  /** Bytes per slice of work (default 256 KiB). */
  sliceBytes?: number;
  txnEvents: TxnEventCache;
}

/** What a cleaning did. */
export interface CleanResult {
  /** The first offset not cleaned: the next cleaning's firstDirty. */
  endOffset: number;
  /** Whether the key map filled up before the dirty range ended. */
  mapFull: boolean;
  /** Whether a group could not be swapped in because the log changed (retention, DeleteRecords). */
  interrupted: boolean;
  bytesRead: number;
  bytesWritten: number;
  mapBytesRead: number;
  recordsRead: number;
  recordsKept: number;
  segmentsReplaced: number;
  groups: number;
  mapMs: number;
  totalMs: number;
  /** Longest time a swap kept the segment list changing (the synchronous in-memory step). */
  swapInMemoryMsMax: number;
  /** Longest swap including its renames and fsyncs (under the log's maintenance lock only). */
  swapTotalMsMax: number;
  /** The earliest delete horizon among the batches written, or Infinity. */
  earliestDeleteHorizon: number;
}

interface ProducerTail {
  lastDataOffset: number;
  epoch: number;
}

/** Cleans the log once; resolves with what was done. Throws (leaving the log as it was) on I/O errors or when paced out. */
export async function cleanLog(
  access: CleanerAccess,
  range: CleanRange,
  env: CleanEnv,
): Promise<CleanResult> {
  const started = performance.now();
  const state = access.state;
  const config = state.config;
  const segments = state.segments.slice();
  const active = segments[segments.length - 1] as Segment;
  const uncleanable = Math.min(range.uncleanable, active.baseOffset);
  const firstDirty = range.firstDirty;
  const slice = env.sliceBytes ?? 256 * 1024;
  const result: CleanResult = {
    endOffset: firstDirty,
    mapFull: false,
    interrupted: false,
    bytesRead: 0,
    bytesWritten: 0,
    mapBytesRead: 0,
    recordsRead: 0,
    recordsKept: 0,
    segmentsReplaced: 0,
    groups: 0,
    mapMs: 0,
    totalMs: 0,
    swapInMemoryMsMax: 0,
    swapTotalMsMax: 0,
    earliestDeleteHorizon: Infinity,
  };

  const aborted = await collectAbortedTxns(segments, env.txnEvents);

  // 1. The key map of the dirty range.
  const map = env.map;
  map.clear();
  const mapTxn = new TxnCleaningState(aborted);
  for (let i = segmentIndexFor(segments, firstDirty); i < segments.length - 1; i++) {
    const seg = segments[i] as Segment;
    if (seg.baseOffset >= uncleanable || result.mapFull) break;
    const next = (segments[i + 1] as Segment).baseOffset;
    const from = seg.baseOffset >= firstDirty ? 0 : (await seg.offsetIndex()).positionFor(firstDirty);
    result.mapBytesRead += await forEachBatch(seg, from, slice, env, null, (buf, at) => {
      const attributes = buf.readInt16BE(at + ATTRIBUTES_OFFSET);
      const base = readInt64(buf, at + BASE_OFFSET_OFFSET);
      const last = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      const producerId = readInt64(buf, at + PRODUCER_ID_OFFSET);
      if ((attributes & CONTROL_FLAG_MASK) !== 0) {
        mapTxn.onControlBatch(producerId, last, controlTypeOf(buf, at));
      } else if (!mapTxn.onDataBatch(producerId, last, (attributes & TRANSACTIONAL_FLAG_MASK) !== 0)) {
        let full = false;
        walkRecords(buf, at, (delta, key) => {
          const offset = base + delta;
          if (full || key === null || offset < firstDirty) return;
          if (!map.put(key, offset)) full = true;
        });
        if (full) {
          result.mapFull = true;
          return false;
        }
      }
      if (last >= firstDirty) map.updateLatestOffset(last);
      return true;
    });
    // An offset gap at the end of the segment is part of what was mapped.
    if (!result.mapFull) map.updateLatestOffset(next - 1);
  }
  if (result.mapFull && map.latestOffset < firstDirty) {
    throw new KafkaError(
      ErrorCode.UNKNOWN_SERVER_ERROR,
      `log cleaner: ${state.dir}: the keys of one batch do not fit log.cleaner.dedupe.buffer.size`,
    );
  }
  // Nothing dirty (a cleaning for expired tombstones): the map covers the clean part.
  map.updateLatestOffset(firstDirty - 1);
  const endOffset = Math.min(map.latestOffset + 1, uncleanable);
  result.endOffset = Math.max(endOffset, firstDirty);
  result.mapMs = performance.now() - started;

  // 2. Rewrite the segments below endOffset, group by group.
  const cleanable: Segment[] = [];
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i] as Segment;
    if (seg.baseOffset >= endOffset) break;
    cleanable.push(seg);
  }
  const groups = groupSegments(cleanable, segments, config.segmentBytes, uncleanable);
  const filterTxn = new TxnCleaningState(aborted);
  const producers = new Map<number, ProducerTail | null>();
  const isProducerTail = (producerId: number, last: number, control: boolean, epoch: number): boolean => {
    let tail = producers.get(producerId);
    if (tail === undefined) {
      const entry = state.producers.producerState(producerId);
      tail =
        entry === undefined
          ? null
          : {
              lastDataOffset: entry.batches[entry.batches.length - 1]?.lastOffset ?? -1,
              epoch: entry.producerEpoch,
            };
      producers.set(producerId, tail);
    }
    if (tail === null) return false;
    return tail.lastDataOffset >= 0 ? last === tail.lastDataOffset : control && epoch === tail.epoch;
  };
  const now = env.now;
  const newHorizon = now + config.deleteRetentionMs;
  const canSetHorizon = Number.isSafeInteger(newHorizon);
  const kept: number[] = [];

  for (const group of groups) {
    const first = group[0] as Segment;
    const last = group[group.length - 1] as Segment;
    const groupEnd = (segments[segments.indexOf(last) + 1] as Segment).baseOffset;
    const writer = new CleanedSegmentWriter(state.dir, first.baseOffset, segmentLimits(config));
    let cleaned: CleanedSegment | null = null;
    await writer.open();
    try {
      const visit: BatchVisitor = (buf, at, _filePos, size) => {
        const attributes = buf.readInt16BE(at + ATTRIBUTES_OFFSET);
        const control = (attributes & CONTROL_FLAG_MASK) !== 0;
        const base = readInt64(buf, at + BASE_OFFSET_OFFSET);
        const lastOffset = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
        const producerId = readInt64(buf, at + PRODUCER_ID_OFFSET);
        const horizon =
          (attributes & DELETE_HORIZON_FLAG_MASK) !== 0 ? readInt64(buf, at + BASE_TIMESTAMP_OFFSET) : -1;
        let controlType = -1;
        let canDiscard: boolean;
        if (control) {
          controlType = controlTypeOf(buf, at);
          canDiscard = filterTxn.onControlBatch(producerId, lastOffset, controlType);
        } else {
          canDiscard = filterTxn.onDataBatch(
            producerId,
            lastOffset,
            (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
          );
        }
        // A marker goes only once its transaction has no data left and its horizon passed.
        const discardRecords = control ? canDiscard && horizon >= 0 && horizon <= now : canDiscard;
        // Kept, even empty: a producer's last batch (its sequence and epoch survive) and the
        // batch ending the cleanable range (the offset it reached survives).
        const retainEmpty =
          (producerId >= 0 &&
            isProducerTail(producerId, lastOffset, control, buf.readInt16BE(at + PRODUCER_EPOCH_OFFSET))) ||
          lastOffset + 1 === uncleanable;
        if (discardRecords && !retainEmpty) return true;

        kept.length = 0;
        let tombstones = false;
        let all = true;
        result.recordsRead += walkRecords(buf, at, (delta, key, hasValue) => {
          const offset = base + delta;
          let keep: boolean;
          if (discardRecords) keep = false;
          else if (control || offset > map.latestOffset) keep = true;
          else if (key === null) keep = false;
          else keep = offset >= map.get(key) && (hasValue || horizon < 0 || now < horizon);
          if (keep) {
            kept.push(delta);
            if (!hasValue) tombstones = true;
          } else {
            all = false;
          }
        });
        if (kept.length > 0) {
          result.recordsKept += kept.length;
          const needHorizon = canSetHorizon && horizon < 0 && (tombstones || (control && canDiscard));
          if (all && !needHorizon) {
            writer.add(buf, at, size);
          } else {
            const rebuilt = rebuildBatch(buf, at, kept, needHorizon ? newHorizon : horizon);
            writer.add(rebuilt, 0, rebuilt.length);
          }
          const h = needHorizon ? newHorizon : horizon;
          if (h >= 0 && h < result.earliestDeleteHorizon) result.earliestDeleteHorizon = h;
          if (control && controlType === ControlRecordType.ABORT) writer.abortMarkers.add(base);
        } else if (retainEmpty) {
          const empty = emptyBatch(buf, at);
          writer.add(empty, 0, empty.length);
        }
        return true;
      };
      for (const seg of group) {
        result.bytesRead += await forEachBatch(seg, 0, slice, env, writer, visit);
      }
      const txnEntries = keptTxnEntries(state.txnIndex, first.baseOffset, groupEnd, writer.abortMarkers);
      let lastModified = 0;
      for (const seg of group) lastModified = Math.max(lastModified, seg.lastModified);
      cleaned = await writer.finish(lastModified, txnEntries);
      const timing = await swapInCleaned(access, group, cleaned);
      if (timing === null) {
        result.interrupted = true;
        await cleaned.fh.close();
        await removeCleanedFiles(state.dir, first.baseOffset);
        break;
      }
      result.bytesWritten += cleaned.size;
      result.groups++;
      result.segmentsReplaced += group.length;
      result.swapInMemoryMsMax = Math.max(result.swapInMemoryMsMax, timing.inMemoryMs);
      result.swapTotalMsMax = Math.max(result.swapTotalMsMax, timing.totalMs);
    } catch (err) {
      // Before the commit the old segments are untouched; after it, the next open finishes the swap.
      if (cleaned === null || !cleaned.committed) await writer.discard();
      throw err;
    }
  }
  if (result.interrupted) result.endOffset = firstDirty;
  result.totalMs = performance.now() - started;
  return result;
}

/**
 * Visits the batches of seg from byte `from` in slices of about sliceBytes; after each slice
 * the writer (if any) writes out what it collected and env.pace runs. Returns bytes visited.
 */
async function forEachBatch(
  seg: Segment,
  from: number,
  sliceBytes: number,
  env: CleanEnv,
  writer: CleanedSegmentWriter | null,
  visit: BatchVisitor,
): Promise<number> {
  const fh = await seg.handle();
  const end = seg.size;
  let pos = from;
  let total = 0;
  while (pos < end) {
    let inSlice = 0;
    let stopped = false;
    const sliceStart = performance.now();
    const scan = await scanBatches(
      fh,
      pos,
      end,
      (buf, at, filePos, size) => {
        // A slice ends at its byte budget or, for batches that decompress to much more, its time budget.
        if (inSlice > 0 && (inSlice + size > sliceBytes || performance.now() - sliceStart > SLICE_MS))
          return false;
        inSlice += size;
        if (!visit(buf, at, filePos, size)) {
          stopped = true;
          return false;
        }
        return true;
      },
      { chunkSize: sliceBytes },
    );
    if (scan.stop === "invalid") {
      throw new KafkaError(
        ErrorCode.KAFKA_STORAGE_ERROR,
        `segment ${seg.logPath} is corrupt: ${scan.reason}`,
      );
    }
    total += inSlice;
    if (writer !== null) await writer.flush();
    await env.pace(inSlice);
    if (stopped || scan.stop === "end") break;
    pos = scan.validEnd;
  }
  return total;
}

/**
 * Kafka's groupSegmentsBySize: consecutive segments whose sizes add up to at most maxBytes and
 * whose offsets fit one segment's int32 relative offsets.
 */
function groupSegments(
  cleanable: readonly Segment[],
  all: readonly Segment[],
  maxBytes: number,
  uncleanable: number,
): Segment[][] {
  const groups: Segment[][] = [];
  let i = 0;
  while (i < cleanable.length) {
    const group = [cleanable[i] as Segment];
    let size = (cleanable[i] as Segment).size;
    i++;
    while (i < cleanable.length) {
      const seg = cleanable[i] as Segment;
      const nextIndex = all.indexOf(seg) + 1;
      const upper = nextIndex < all.length ? (all[nextIndex] as Segment).baseOffset : uncleanable;
      if (size + seg.size > maxBytes) break;
      if (seg.size > 0 && upper - 1 - (group[0] as Segment).baseOffset > INT32_MAX) break;
      group.push(seg);
      size += seg.size;
      i++;
    }
    groups.push(group);
  }
  return groups;
}

/** The batch at buf[at] with only the records whose offset deltas are in kept (ascending), same header otherwise. */
function rebuildBatch(buf: Buffer, at: number, kept: readonly number[], deleteHorizon: number): Buffer {
  const decoded = decodeBatch(buf, at, { verifyCrc: false });
  const h = decoded.header;
  const records: DecodedRecord[] = [];
  let k = 0;
  for (const r of decoded.records) {
    while (k < kept.length && (kept[k] as number) < r.offsetDelta) k++;
    if (k < kept.length && kept[k] === r.offsetDelta) records.push(r);
  }
  const logAppendTime = (h.attributes & TIMESTAMP_TYPE_MASK) !== 0;
  return encodeBatch({
    records,
    baseOffset: h.baseOffset,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    compression: h.attributes & COMPRESSION_CODEC_MASK,
    timestampType: logAppendTime ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME,
    transactional: (h.attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (h.attributes & CONTROL_FLAG_MASK) !== 0,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    lastOffsetDelta: h.lastOffsetDelta,
    ...(logAppendTime ? { maxTimestamp: h.maxTimestamp } : {}),
    ...(deleteHorizon >= 0 ? { deleteHorizonMs: deleteHorizon } : {}),
  });
}

/** Kafka's empty batch: the header alone, uncompressed, with the original offsets, producer fields and maxTimestamp. */
function emptyBatch(buf: Buffer, at: number): Buffer {
  const attributes = buf.readInt16BE(at + ATTRIBUTES_OFFSET);
  const maxTimestamp = readInt64(buf, at + MAX_TIMESTAMP_OFFSET);
  return encodeBatch({
    records: [],
    baseOffset: buf.readBigInt64BE(at + BASE_OFFSET_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(at + PARTITION_LEADER_EPOCH_OFFSET),
    compression: CompressionCodec.NONE,
    timestampType:
      (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME,
    transactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
    producerId: buf.readBigInt64BE(at + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(at + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(at + BASE_SEQUENCE_OFFSET),
    lastOffsetDelta: buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: maxTimestamp,
    maxTimestamp,
  });
}
