// Opening a partition directory, after a clean shutdown or a crash at any moment. Leftover
// temp and *.deleted files are removed. After a clean shutdown everything is trusted once
// the active segment's index checks out. Otherwise every segment from the recovery point on
// is scanned batch by batch (length, magic, CRC, offsets increasing within the segment's
// range); the first bad batch and everything after it is cut off, later segments included,
// and the indexes of scanned segments are rebuilt. Producer state comes from the newest
// snapshot at or below the trusted part of the log, plus a replay of batch headers after it.
import { mkdir, readdir, readFile, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  BASE_OFFSET_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
} from "../../protocol/records/batch-header.ts";
import { isCode, readPartitionCheckpoint, syncDir } from "./checkpoint-file.ts";
import { scanBatches } from "./file-scan.ts";
import { readInt64 } from "./int64.ts";
import type { FullLogConfig } from "./log-config.ts";
import {
  DELETED_SUFFIX,
  LOG_SUFFIX,
  OFFSET_INDEX_SUFFIX,
  SNAPSHOT_SUFFIX,
  TEMP_SUFFIX,
  TIME_INDEX_SUFFIX,
  TXN_INDEX_SUFFIX,
  offsetFilePath,
  parseOffsetFileName,
} from "./log-files.ts";
import { recoverCleanerSwaps } from "./cleaner-swap.ts";
import { segmentLimits } from "./log-state.ts";
import { ProducerStateManager, producerUpdateFromBatch } from "./producer-state.ts";
import { Segment } from "./segment.ts";
import { AbortedTxnIndex, indexAbortedTxn, readSegmentTxnIndex, writeSegmentTxnIndex } from "./txn-index.ts";

/** What opening a partition directory found. */
export interface LoadedLog {
  segments: Segment[];
  logStartOffset: number;
  nextOffset: number;
  recoveryPoint: number;
  producers: ProducerStateManager;
  txnIndex: AbortedTxnIndex;
  /** Whether the log was closed cleanly last time (nothing was scanned). */
  cleanShutdown: boolean;
  /** Bytes cut off as torn or corrupt (segments dropped after a bad batch included). */
  truncatedBytes: number;
}

const INT32_MAX = 0x7fffffff;

/** Loads (or creates) the partition log in dir, repairing what a crash left. */
export async function loadLog(dir: string, config: FullLogConfig, now: number): Promise<LoadedLog> {
  const made = await mkdir(dir, { recursive: true });
  if (made !== undefined) await syncDir(dirname(dir));
  // A log cleaner swap cut short by a crash is finished or rolled back before anything is read.
  await recoverCleanerSwaps(dir);
  const bases: number[] = [];
  const snapshots: number[] = [];
  const indexBases: [number, string][] = [];
  for (const name of await readdir(dir)) {
    if (name.endsWith(TEMP_SUFFIX) || name.endsWith(DELETED_SUFFIX)) {
      await unlinkIfExists(join(dir, name));
      continue;
    }
    const base = parseOffsetFileName(name, LOG_SUFFIX);
    if (base !== null) bases.push(base);
    const snap = parseOffsetFileName(name, SNAPSHOT_SUFFIX);
    if (snap !== null) snapshots.push(snap);
    for (const suffix of [OFFSET_INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) {
      const b = parseOffsetFileName(name, suffix);
      if (b !== null) indexBases.push([b, suffix]);
    }
  }
  bases.sort((a, b) => a - b);
  snapshots.sort((a, b) => a - b);
  for (const [b, suffix] of indexBases) {
    if (!bases.includes(b)) await unlinkIfExists(offsetFilePath(dir, b, suffix));
  }

  const checkpoint = await readPartitionCheckpoint(dir);
  const limits = segmentLimits(config);
  const segments: Segment[] = [];
  for (const base of bases) {
    const st = await stat(offsetFilePath(dir, base, LOG_SUFFIX));
    const seg = Segment.existing(dir, base, st.size, st.mtimeMs, limits);
    if (st.birthtimeMs > 0) seg.created = st.birthtimeMs;
    segments.push(seg);
  }
  for (let i = 0; i + 1 < segments.length; i++) {
    (segments[i] as Segment).endOffset = (segments[i + 1] as Segment).baseOffset;
  }
  if (segments.length === 0) {
    segments.push(await Segment.create(dir, checkpoint?.logStartOffset ?? 0, now, limits));
    await syncDir(dir);
  }

  const cleanShutdown = checkpoint?.cleanShutdown === true;
  let scanFrom: number;
  if (cleanShutdown && (await loadCleanActive(last(segments)))) {
    scanFrom = segments.length;
  } else if (cleanShutdown) {
    scanFrom = segments.length - 1;
  } else {
    const recoveryPoint = checkpoint?.recoveryPoint ?? 0;
    scanFrom = segments.findIndex(
      (s, i) => i === segments.length - 1 || (segments[i + 1] as Segment).baseOffset > recoveryPoint,
    );
  }

  // Aborted-transaction indexes of the trusted segments come from their files; a segment
  // whose file is unusable is scanned (from a snapshot at or below it) like after a crash.
  let txnIndex = new AbortedTxnIndex();
  for (let i = 0; i < scanFrom; i++) {
    const seg = segments[i] as Segment;
    const end = i + 1 < segments.length ? (segments[i + 1] as Segment).baseOffset : Number.MAX_SAFE_INTEGER;
    const entries = await readSegmentTxnIndex(dir, seg.baseOffset, end);
    if (entries === null) {
      scanFrom = i;
      break;
    }
    txnIndex.load(entries);
  }

  const producers = new ProducerStateManager();
  const first = (segments[0] as Segment).baseOffset;
  const trustedEnd =
    scanFrom < segments.length ? (segments[scanFrom] as Segment).baseOffset : last(segments).endOffset;
  const snapshotOffset = await loadBestSnapshot(dir, snapshots, producers, first, trustedEnd);
  await replayTrusted(segments.slice(0, scanFrom), snapshotOffset, trustedEnd, producers, txnIndex);

  let truncatedBytes = 0;
  for (let i = scanFrom; i < segments.length; i++) {
    const seg = segments[i] as Segment;
    const upper = i + 1 < segments.length ? (segments[i + 1] as Segment).baseOffset : Number.MAX_SAFE_INTEGER;
    let end = seg.baseOffset;
    const result = await seg.rebuildIndexes({
      verifyCrc: true,
      check: (buf, at) => {
        const base = readInt64(buf, at + BASE_OFFSET_OFFSET);
        const lastOffset = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
        if (
          !(base >= end) ||
          lastOffset < base ||
          lastOffset >= upper ||
          lastOffset - seg.baseOffset > INT32_MAX
        )
          return false;
        if (Number.isNaN(readInt64(buf, at + MAX_TIMESTAMP_OFFSET))) return false;
        if (lastOffset >= snapshotOffset) {
          const update = producerUpdateFromBatch(buf, at);
          if (update !== null) indexAbortedTxn({ txnIndex, producers }, producers.replay(update));
        }
        end = lastOffset + 1;
        return true;
      },
    });
    if (result.stop !== "end") {
      truncatedBytes += seg.size - result.validEnd;
      await seg.truncateTo(result.validEnd, end);
      for (const later of segments.splice(i + 1)) {
        truncatedBytes += later.size;
        await later.close();
        await removeSegmentFiles(dir, later.baseOffset);
      }
    }
    seg.endOffset = end;
    if (i < segments.length - 1) {
      seg.onBecomeInactive();
      await seg.persistIndexes();
      await writeSegmentTxnIndex(dir, seg.baseOffset, txnIndex.entriesIn(seg.baseOffset, end));
      seg.dirty = true;
      await seg.flush();
    }
  }

  const active = last(segments);
  let nextOffset = active.endOffset;
  let logStartOffset = Math.max(checkpoint?.logStartOffset ?? 0, (segments[0] as Segment).baseOffset);
  if (logStartOffset > nextOffset) {
    // The checkpoint is ahead of what survived: start an empty log at logStartOffset.
    for (const seg of segments.splice(0)) {
      await seg.close();
      await removeSegmentFiles(dir, seg.baseOffset);
    }
    segments.push(await Segment.create(dir, logStartOffset, now, limits));
    await syncDir(dir);
    producers.clear();
    txnIndex = new AbortedTxnIndex();
    nextOffset = logStartOffset;
  }
  logStartOffset = Math.max(logStartOffset, (segments[0] as Segment).baseOffset);
  for (const s of snapshots) {
    if (s > nextOffset || s < (segments[0] as Segment).baseOffset) {
      await unlinkIfExists(offsetFilePath(dir, s, SNAPSHOT_SUFFIX));
    }
  }
  producers.removeExpired(now, config.producerIdExpirationMs);
  return {
    segments,
    logStartOffset,
    nextOffset,
    recoveryPoint: last(segments).baseOffset,
    producers,
    txnIndex,
    cleanShutdown: cleanShutdown && scanFrom === segments.length,
    truncatedBytes,
  };
}

/**
 * After a clean shutdown: loads the active segment's indexes (rebuilt if they fail their
 * checks) and finds its end by scanning headers from the last index entry. False when the
 * segment does not end in whole batches, so it must be scanned like after a crash.
 */
async function loadCleanActive(seg: Segment): Promise<boolean> {
  seg.endOffset = Number.MAX_SAFE_INTEGER;
  const index = await seg.offsetIndex();
  const n = index.entries;
  const expected = n > 0 ? index.offsetAt(n - 1) : -1;
  let sawExpected = n === 0;
  let end = n > 0 ? -1 : seg.baseOffset;
  const fh = await seg.handle();
  const result = await scanBatches(
    fh,
    n > 0 ? index.positionAt(n - 1) : 0,
    seg.size,
    (buf, at) => {
      const base = readInt64(buf, at + BASE_OFFSET_OFFSET);
      const lastOffset = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      if (!(base >= end) || lastOffset < base) return false;
      if (lastOffset === expected) sawExpected = true;
      end = lastOffset + 1;
      return true;
    },
    { headersOnly: true },
  );
  if (result.stop !== "end" || !sawExpected) {
    seg.endOffset = seg.baseOffset;
    return false;
  }
  seg.endOffset = Math.max(end, seg.baseOffset);
  if (seg.size > 0) seg.firstBatchTimestamp = readInt64(await seg.read(0, 61), MAX_TIMESTAMP_OFFSET);
  return true;
}

/** Loads the newest readable snapshot in [minOffset, maxOffset]; returns its offset, or minOffset if none. */
async function loadBestSnapshot(
  dir: string,
  snapshots: readonly number[],
  producers: ProducerStateManager,
  minOffset: number,
  maxOffset: number,
): Promise<number> {
  for (let i = snapshots.length - 1; i >= 0; i--) {
    const offset = snapshots[i] as number;
    if (offset > maxOffset || offset < minOffset) continue;
    const path = offsetFilePath(dir, offset, SNAPSHOT_SUFFIX);
    const buf = await readFile(path).catch(() => null);
    if (buf !== null && producers.loadSnapshot(buf)) return offset;
    producers.clear();
    await unlinkIfExists(path);
  }
  return minOffset;
}

/** Replays producer state from the headers of trusted segments, for batches in [from, to). */
async function replayTrusted(
  segments: readonly Segment[],
  from: number,
  to: number,
  producers: ProducerStateManager,
  txnIndex: AbortedTxnIndex,
): Promise<void> {
  for (const seg of segments) {
    if (seg.endOffset <= from || seg.size === 0) continue;
    if (seg.baseOffset >= to) break;
    const start = seg.baseOffset >= from ? 0 : (await seg.offsetIndex()).positionFor(from);
    await scanBatches(
      await seg.handle(),
      start,
      seg.size,
      (buf, at) => {
        const base = readInt64(buf, at + BASE_OFFSET_OFFSET);
        if (base >= to) return false;
        if (base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) >= from) {
          const update = producerUpdateFromBatch(buf, at);
          if (update !== null) indexAbortedTxn({ txnIndex, producers }, producers.replay(update));
        }
        return true;
      },
      { headersOnly: true },
    );
  }
}

/** Deletes a segment's files and the snapshot named after its base offset. */
export async function removeSegmentFiles(dir: string, base: number): Promise<void> {
  for (const suffix of [
    LOG_SUFFIX,
    OFFSET_INDEX_SUFFIX,
    TIME_INDEX_SUFFIX,
    TXN_INDEX_SUFFIX,
    SNAPSHOT_SUFFIX,
  ]) {
    await unlinkIfExists(offsetFilePath(dir, base, suffix));
  }
}

async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isCode(err, "ENOENT")) throw err;
  }
}

function last(segments: readonly Segment[]): Segment {
  return segments[segments.length - 1] as Segment;
}
