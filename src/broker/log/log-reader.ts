// The read side of a partition log: fetch reads (whole batches from the one containing the
// requested offset, bounded by maxBytes and an upper offset, at least one batch when asked:
// Kafka's KIP-74 rules), the timestamp search of ListOffsets and the max-timestamp lookup.
// Reads near the tail are copied out of the tail cache; older data is read from the file into
// a Buffer of exactly the range found through the offset index and a scan of batch headers.
import { allocateUnsafe } from "../../protocol/allocate.ts";
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import { decodeBatch } from "../../protocol/records/batch-codec.ts";
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
  TIMESTAMP_TYPE_MASK,
} from "../../protocol/records/batch-header.ts";
import type { FileHandle } from "node:fs/promises";
import { scanBatches, type BatchVisitor, type ScanResult } from "./file-scan.ts";
import { readInt64 } from "./int64.ts";
import { segmentIndexFor, type LogState } from "./log-state.ts";
import type { Allocate, Segment } from "./segment.ts";

/** A record found by timestamp: its offset and timestamp, and the leader epoch of its batch. */
export interface TimestampAndOffset {
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

const EMPTY = Buffer.alloc(0);
// Finding a batch reads headers near an index entry (index.interval.bytes apart, 4 KiB by
// default); the buffers are reused, as every fetch from a file does such a search.
const SEARCH_CHUNK = 16 * 1024;
const searchBuffers: Buffer[] = [];

/** Runs a header scan with a reused search buffer. */
async function searchScan(
  fh: FileHandle,
  start: number,
  end: number,
  visit: BatchVisitor,
): Promise<ScanResult> {
  const buffer = searchBuffers.pop() ?? Buffer.allocUnsafeSlow(SEARCH_CHUNK);
  try {
    return await scanBatches(fh, start, end, visit, { headersOnly: true, buffer });
  } finally {
    if (searchBuffers.length < 16) searchBuffers.push(buffer);
  }
}

/**
 * Whole batches from the first one whose last offset is >= offset, within one segment, as
 * Kafka reads: up to maxBytes, but the first batch even if larger when minOneBatch, and no
 * batch whose last offset is >= upTo. Empty when nothing is readable yet.
 */
export async function readBatches(
  state: LogState,
  offset: number,
  maxBytes: number,
  upTo: number,
  minOneBatch: boolean,
  allocate?: Allocate,
): Promise<Buffer> {
  const segments = state.segments;
  for (let i = segmentIndexFor(segments, offset); i < segments.length; i++) {
    const seg = segments[i] as Segment;
    const found = await readFromSegment(state, seg, offset, maxBytes, upTo, minOneBatch, allocate);
    if (found !== null) return found;
  }
  return EMPTY;
}

async function readFromSegment(
  state: LogState,
  seg: Segment,
  offset: number,
  maxBytes: number,
  upTo: number,
  minOneBatch: boolean,
  allocate: Allocate | undefined,
): Promise<Buffer | null> {
  const limit = seg.size;
  if (limit === 0) return null;
  const arena = state.tail.arenaForOffset(seg.baseOffset, offset);
  if (arena !== null) {
    const arenaEnd = Math.min(arena.start + arena.used, limit);
    let from = arena.start;
    const index = seg.loadedOffsetIndex();
    if (index !== null) {
      const p = index.positionFor(offset);
      if (p > from && p < arenaEnd) from = p;
    }
    const view = collect(
      arena.buf,
      from - arena.start,
      arenaEnd - arena.start,
      offset,
      maxBytes,
      upTo,
      minOneBatch,
    );
    // Copied out, never handed out as a view: arenas are reused once they fall out of the
    // cache, and a fetch response may wait in a socket buffer for longer than that.
    if (view !== null && view.length > 0) {
      const out = (allocate ?? allocateUnsafe)(view.length);
      view.copy(out);
      return out;
    }
    if (view !== null || arenaEnd === limit) return view;
  }
  // From the file: find the batch through the index and a header scan, then read the range.
  const index = await seg.offsetIndex();
  let start = -1;
  let firstSize = 0;
  let firstLast = 0;
  const fh = await seg.handle();
  const scan = await searchScan(fh, index.positionFor(offset), limit, (buf, at, filePos, size) => {
    const last = readInt64(buf, at + BASE_OFFSET_OFFSET) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
    if (last < offset) return true;
    start = filePos;
    firstSize = size;
    firstLast = last;
    return false;
  });
  if (scan.stop === "invalid") throw corruptSegment(seg, scan.reason);
  if (start < 0) return null;
  if (firstLast >= upTo) return EMPTY;
  const want = minOneBatch ? Math.max(maxBytes, firstSize) : maxBytes;
  const length = Math.min(want, limit - start);
  if (length < firstSize) return EMPTY;
  const buf = await seg.read(start, length, allocate);
  return collect(buf, 0, buf.length, offset, maxBytes, upTo, minOneBatch) ?? EMPTY;
}

/** Picks whole batches out of buf[from, to) per the fetch rules; null when no batch reaches offset. */
function collect(
  buf: Buffer,
  from: number,
  to: number,
  offset: number,
  maxBytes: number,
  upTo: number,
  minOneBatch: boolean,
): Buffer | null {
  let pos = from;
  let start = -1;
  while (to - pos >= RECORD_BATCH_OVERHEAD) {
    const size = LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (pos + size > to) break;
    const last = readInt64(buf, pos + BASE_OFFSET_OFFSET) + buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
    if (start < 0) {
      if (last < offset) {
        pos += size;
        continue;
      }
      start = pos;
      if (last >= upTo) return EMPTY;
      if (size > maxBytes && !minOneBatch) return EMPTY;
      pos += size;
      continue;
    }
    if (last >= upTo || pos + size - start > maxBytes) break;
    pos += size;
  }
  return start < 0 ? null : buf.subarray(start, pos);
}

/**
 * ListOffsets by timestamp: the first record at or after startOffset whose timestamp is >=
 * target, found through the time index of the first segment whose newest timestamp reaches
 * target; null when no record is that new.
 */
export async function findOffsetByTimestamp(
  state: LogState,
  target: number,
  startOffset: number,
): Promise<TimestampAndOffset | null> {
  for (const seg of state.segments.slice()) {
    if (seg.size === 0 || seg.endOffset <= startOffset) continue;
    await seg.loadIndexes();
    if (seg.maxTimestamp < target) continue;
    const timeIndex = await seg.timeIndex();
    const offsetIndex = await seg.offsetIndex();
    const from = offsetIndex.positionFor(Math.max(timeIndex.searchStartFor(target), startOffset));
    const found = await searchSegment(
      seg,
      from,
      (batchMax, last) => batchMax >= target && last >= startOffset,
      (ts, o) => ts >= target && o >= startOffset,
    );
    if (found !== null) return found;
  }
  return null;
}

/** ListOffsets MAX_TIMESTAMP: the first record carrying the log's newest timestamp, or null. */
export async function findMaxTimestamp(state: LogState): Promise<TimestampAndOffset | null> {
  let best: Segment | null = null;
  for (const seg of state.segments.slice()) {
    if (seg.size === 0 || seg.endOffset <= state.logStartOffset) continue;
    await seg.loadIndexes();
    if (seg.maxTimestamp >= 0 && (best === null || seg.maxTimestamp > best.maxTimestamp)) best = seg;
  }
  if (best === null) return null;
  const max = best.maxTimestamp;
  const index = await best.offsetIndex();
  // The index entry at or below the batch's last offset points at or before the batch.
  return searchSegment(
    best,
    index.positionFor(best.offsetOfMaxTimestamp),
    (batchMax) => batchMax === max,
    (ts) => ts === max,
  );
}

/**
 * Scans the segment from position for batches whose header passes batchMatches, then looks
 * inside them for the first record passing recordMatches. A LogAppendTime batch's records
 * all carry its maxTimestamp; other batches are decoded.
 */
async function searchSegment(
  seg: Segment,
  position: number,
  batchMatches: (batchMax: number, lastOffset: number) => boolean,
  recordMatches: (timestamp: number, offset: number) => boolean,
): Promise<TimestampAndOffset | null> {
  const fh = await seg.handle();
  let pos = position;
  while (pos < seg.size) {
    let hit = -1;
    let hitSize = 0;
    const result = await searchScan(fh, pos, seg.size, (buf, at, filePos, size) => {
      const last = readInt64(buf, at + BASE_OFFSET_OFFSET) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      if (!batchMatches(readInt64(buf, at + MAX_TIMESTAMP_OFFSET), last)) return true;
      hit = filePos;
      hitSize = size;
      return false;
    });
    if (result.stop === "invalid") throw corruptSegment(seg, result.reason);
    if (hit < 0) return null;
    const batch = await seg.read(hit, hitSize);
    const base = readInt64(batch, BASE_OFFSET_OFFSET);
    const leaderEpoch = batch.readInt32BE(PARTITION_LEADER_EPOCH_OFFSET);
    const maxTimestamp = readInt64(batch, MAX_TIMESTAMP_OFFSET);
    if ((batch.readInt16BE(ATTRIBUTES_OFFSET) & TIMESTAMP_TYPE_MASK) !== 0) {
      const last = base + batch.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
      for (let o = base; o <= last; o++) {
        if (recordMatches(maxTimestamp, o)) return { offset: o, timestamp: maxTimestamp, leaderEpoch };
      }
    } else {
      const decoded = decodeBatch(batch, 0);
      for (const r of decoded.records) {
        const o = base + r.offsetDelta;
        if (recordMatches(r.timestamp, o)) return { offset: o, timestamp: r.timestamp, leaderEpoch };
      }
    }
    if (result.stop !== "visitor") return null;
    pos = hit + hitSize;
  }
  return null;
}

/** Bytes that recovery accepted no longer parse: the disk changed under us. */
function corruptSegment(seg: Segment, reason: string): KafkaError {
  return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `segment ${seg.logPath} is corrupt: ${reason}`);
}
