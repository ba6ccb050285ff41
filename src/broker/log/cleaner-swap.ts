// Replacing segments with the log cleaner's output so that a crash (kill -9 or power loss) at
// any moment leaves either the old segments or the new one, never a mix or a loss. Kafka's
// file protocol, plus one small record of what is being replaced:
//
//   1. the new segment is written as <base>.log.cleaned (+ .index/.timeindex/.txnindex
//      .cleaned) and fsynced;
//   2. <base>.cleaner-swap records the offset range [base, end) the new segment replaces;
//   3. the .cleaned files are renamed to .swap, the .log last: that rename commits the swap;
//   4. in memory the new segment replaces the old ones (one synchronous step), the old files
//      are renamed to .deleted (readers holding them keep their open handles) and the .swap
//      files take the final names, the .log last; then the range record is removed.
//
// Opening a directory (recoverCleanerSwaps, before anything else is loaded) finishes a swap
// whose <base>.log.swap exists — every other segment file in [base, end) is removed and the
// .swap files are renamed — and otherwise throws away .cleaned and .swap files. Kafka infers
// the replaced range from the .swap segment's own offsets, which misses old segments when
// cleaning removed the tail of the group; the range record makes it exact.
import { open, readdir, readFile, rename, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import {
  BASE_OFFSET_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
} from "../../protocol/records/batch-header.ts";
import { isCode, syncDir, writeFileAtomic } from "./checkpoint-file.ts";
import { writeFully } from "./file-scan.ts";
import { readInt64 } from "./int64.ts";
import {
  LOG_SUFFIX,
  OFFSET_INDEX_SUFFIX,
  TIME_INDEX_SUFFIX,
  TXN_INDEX_SUFFIX,
  offsetFilePath,
  parseOffsetFileName,
} from "./log-files.ts";
import { OffsetIndex } from "./offset-index.ts";
import type { CleanerAccess } from "./partition-log.ts";
import { Segment, maxOffsetEntries, maxTimeEntries, type SegmentLimits } from "./segment.ts";
import { TimeIndex } from "./time-index.ts";
import { AbortedTxnIndex, encodeTxnIndex, type AbortedTxn } from "./txn-index.ts";

/** A cleaned file not yet committed. */
export const CLEANED_SUFFIX = ".cleaned";
/** A cleaned file whose swap is committed (or about to be, for index files). */
export const SWAP_SUFFIX = ".swap";
/** The range record of a swap in progress: "<base>.cleaner-swap" holding the end offset. */
export const SWAP_RANGE_SUFFIX = ".cleaner-swap";

const SEGMENT_SUFFIXES = [OFFSET_INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX, LOG_SUFFIX] as const;
const WRITE_BUFFER = 512 * 1024;

/** A cleaned segment written to its .cleaned files, ready to swap in. */
export interface CleanedSegment {
  baseOffset: number;
  fh: FileHandle;
  size: number;
  offsetIndex: OffsetIndex;
  timeIndex: TimeIndex;
  firstBatchTimestamp: number;
  lastModified: number;
  /** Offsets of the ABORT markers written (their transaction index entries stay). */
  abortMarkers: Set<number>;
  /** Set once the swap is committed on disk: from then on the files must not be discarded. */
  committed: boolean;
}

/** Writes one cleaned segment: batches appended in offset order, indexes built as Kafka builds them. */
export class CleanedSegmentWriter {
  readonly baseOffset: number;
  private readonly dir: string;
  private readonly limits: SegmentLimits;
  private fh: FileHandle | null = null;
  private buf = Buffer.allocUnsafe(WRITE_BUFFER);
  private used = 0;
  private flushed = 0;
  private readonly offsetIdx: OffsetIndex;
  private readonly timeIdx: TimeIndex;
  private maxTimestamp = -1;
  private offsetOfMax: number;
  private lastIndexed = 0;
  private firstTimestamp = -1;
  readonly abortMarkers = new Set<number>();

  constructor(dir: string, baseOffset: number, limits: SegmentLimits) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.limits = limits;
    this.offsetOfMax = baseOffset;
    this.offsetIdx = new OffsetIndex(baseOffset, maxOffsetEntries(limits));
    this.timeIdx = new TimeIndex(baseOffset, maxTimeEntries(limits));
  }

  /** Bytes written so far. */
  get size(): number {
    return this.flushed + this.used;
  }

  /** Creates (or truncates a leftover) <base>.log.cleaned. */
  async open(): Promise<void> {
    this.fh = await open(cleanedPath(this.dir, this.baseOffset, LOG_SUFFIX), "w+");
  }

  /** Appends the batch at batch[at, at + size) to the write buffer (copied: the caller may reuse batch). */
  add(batch: Buffer, at: number, size: number): void {
    const position = this.size;
    const base = readInt64(batch, at + BASE_OFFSET_OFFSET);
    const last = base + batch.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
    const ts = readInt64(batch, at + MAX_TIMESTAMP_OFFSET);
    if (position === 0) this.firstTimestamp = ts;
    if (ts > this.maxTimestamp) {
      this.maxTimestamp = ts;
      this.offsetOfMax = last;
    }
    // Kafka's LogSegment rule (as Segment.rebuildIndexes applies it).
    if (position - this.lastIndexed > this.limits.indexIntervalBytes) {
      this.offsetIdx.append(last, position);
      this.timeIdx.maybeAppend(this.maxTimestamp, this.offsetOfMax);
      this.lastIndexed = position;
    }
    if (this.used + size > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + size));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    batch.copy(this.buf, this.used, at, at + size);
    this.used += size;
  }

  /** Writes the buffered batches to the file. */
  async flush(): Promise<void> {
    if (this.used === 0) return;
    await writeFully(this.handle(), this.buf.subarray(0, this.used), this.flushed);
    this.flushed += this.used;
    this.used = 0;
  }

  /**
   * Writes out and fsyncs the log and its index files (.cleaned), stamping the file with
   * lastModified (Kafka keeps the replaced segments' time, so retention does not restart).
   */
  async finish(lastModified: number, txnEntries: readonly AbortedTxn[]): Promise<CleanedSegment> {
    await this.flush();
    const fh = this.handle();
    this.timeIdx.maybeAppend(this.maxTimestamp, this.offsetOfMax);
    await fh.datasync();
    const seconds = lastModified / 1000;
    await fh.utimes(seconds, seconds);
    await writeSynced(cleanedPath(this.dir, this.baseOffset, OFFSET_INDEX_SUFFIX), this.offsetIdx.bytes());
    await writeSynced(cleanedPath(this.dir, this.baseOffset, TIME_INDEX_SUFFIX), this.timeIdx.bytes());
    if (txnEntries.length > 0) {
      await writeSynced(cleanedPath(this.dir, this.baseOffset, TXN_INDEX_SUFFIX), encodeTxnIndex(txnEntries));
    }
    this.buf = Buffer.alloc(0);
    return {
      baseOffset: this.baseOffset,
      fh,
      size: this.flushed,
      offsetIndex: this.offsetIdx,
      timeIndex: this.timeIdx,
      firstBatchTimestamp: this.firstTimestamp,
      lastModified,
      abortMarkers: this.abortMarkers,
      committed: false,
    };
  }

  /** Closes and removes the .cleaned files (the cleaning was abandoned). */
  async discard(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh !== null) await fh.close().catch(() => undefined);
    await removeCleanedFiles(this.dir, this.baseOffset);
  }

  private handle(): FileHandle {
    if (this.fh === null) throw new Error("cleaned segment is not open");
    return this.fh;
  }
}

/** Removes every .cleaned and .swap file of a base offset, and its range record: an uncommitted swap. */
export async function removeCleanedFiles(dir: string, base: number): Promise<void> {
  for (const suffix of SEGMENT_SUFFIXES) {
    await unlinkIfExists(cleanedPath(dir, base, suffix));
    await unlinkIfExists(swapPath(dir, base, suffix));
  }
  await unlinkIfExists(offsetFilePath(dir, base, SWAP_RANGE_SUFFIX));
}

/** What swapping took: the time readers could not see either version (the in-memory step) and in all. */
export interface SwapTiming {
  inMemoryMs: number;
  totalMs: number;
}

/**
 * Swaps the cleaned segment in for `group` (consecutive, inactive segments of the log). Runs
 * exclusively of retention, DeleteRecords and close; refuses (returning null, files
 * discarded by the caller) when the group is no longer what it was.
 */
export async function swapInCleaned(
  access: CleanerAccess,
  group: readonly Segment[],
  cleaned: CleanedSegment,
): Promise<SwapTiming | null> {
  return access.exclusive(async () => {
    const started = performance.now();
    const state = access.state;
    const dir = state.dir;
    const base = cleaned.baseOffset;
    const at = state.segments.indexOf(group[0] as Segment);
    if (at < 0 || at + group.length >= state.segments.length) return null;
    for (let i = 0; i < group.length; i++) if (state.segments[at + i] !== group[i]) return null;
    const end = (state.segments[at + group.length] as Segment).baseOffset;
    // Readers that already hold an old segment keep reading it through its open handle and
    // in-memory indexes, even after its files are renamed.
    for (const old of group) {
      await old.handle();
      await old.loadIndexes();
    }

    await writeFileAtomic(offsetFilePath(dir, base, SWAP_RANGE_SUFFIX), Buffer.from(`end ${end}\n`));
    for (const suffix of SEGMENT_SUFFIXES)
      await renameIfExists(cleanedPath(dir, base, suffix), swapPath(dir, base, suffix));
    await syncDir(dir);
    // Committed: from here a crash finishes the swap on the next open.
    cleaned.committed = true;

    const inMemoryStart = performance.now();
    const seg = Segment.adopt(dir, cleaned.fh, (group[0] as Segment).limits, {
      baseOffset: base,
      size: cleaned.size,
      endOffset: end,
      lastModified: cleaned.lastModified,
      firstBatchTimestamp: cleaned.firstBatchTimestamp,
      offsetIndex: cleaned.offsetIndex,
      timeIndex: cleaned.timeIndex,
    });
    // The tail cache may still hold the newest bytes of a segment that was active; they
    // describe the old layout of that base offset.
    for (const old of group) {
      if (state.tail.arenaForOffset(old.baseOffset, Number.MAX_SAFE_INTEGER) !== null) state.tail.clear();
    }
    const from = state.segments.indexOf(group[0] as Segment);
    state.segments.splice(from, group.length, seg);
    state.txnIndex = withoutRemovedMarkers(state.txnIndex, base, end, cleaned.abortMarkers);
    for (const old of group) old.replaced = true;
    const inMemoryMs = performance.now() - inMemoryStart;

    for (const old of group) access.finishLater(await old.markDeleted());
    for (const suffix of SEGMENT_SUFFIXES) {
      await renameIfExists(swapPath(dir, base, suffix), offsetFilePath(dir, base, suffix));
    }
    await syncDir(dir);
    await unlinkIfExists(offsetFilePath(dir, base, SWAP_RANGE_SUFFIX));
    return { inMemoryMs, totalMs: performance.now() - started };
  });
}

/** The aborted-transaction index with the entries of [base, end) whose ABORT marker the cleaner removed dropped. */
function withoutRemovedMarkers(
  index: AbortedTxnIndex,
  base: number,
  end: number,
  kept: ReadonlySet<number>,
): AbortedTxnIndex {
  const inRange = index.entriesIn(base, end);
  if (inRange.every((e) => kept.has(e.lastOffset))) return index;
  const rebuilt = new AbortedTxnIndex();
  rebuilt.load(index.entriesIn(0, base));
  rebuilt.load(inRange.filter((e) => kept.has(e.lastOffset)));
  rebuilt.load(index.entriesIn(end, Number.MAX_SAFE_INTEGER));
  return rebuilt;
}

/** The transaction index entries of [base, end) to keep with a cleaned segment. */
export function keptTxnEntries(
  index: AbortedTxnIndex,
  base: number,
  end: number,
  kept: ReadonlySet<number>,
): AbortedTxn[] {
  return index.entriesIn(base, end).filter((e) => kept.has(e.lastOffset));
}

/**
 * Finishes or rolls back what a crash left of a cleaner swap in dir; call before the
 * directory's segments are listed. Returns how many swaps were completed.
 */
export async function recoverCleanerSwaps(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isCode(err, "ENOENT")) return 0;
    throw err;
  }
  let completed = 0;
  const ranges = new Map<number, number>();
  for (const name of names) {
    const base = parseOffsetFileName(name, SWAP_RANGE_SUFFIX);
    if (base === null) continue;
    const m = /^end (\d+)\n$/.exec(await readFile(join(dir, name), "utf8"));
    ranges.set(base, m?.[1] !== undefined ? Number(m[1]) : -1);
  }
  for (const [base, end] of ranges) {
    if (end > base && names.includes(`${swapName(base, LOG_SUFFIX)}`)) {
      // Committed: drop every old segment file in [base, end), then take the final names.
      for (const name of names) {
        for (const suffix of SEGMENT_SUFFIXES) {
          const o = parseOffsetFileName(name, suffix);
          if (o !== null && o >= base && o < end) await unlinkIfExists(join(dir, name));
        }
      }
      for (const suffix of SEGMENT_SUFFIXES) {
        await renameIfExists(swapPath(dir, base, suffix), offsetFilePath(dir, base, suffix));
      }
      completed++;
    }
    await syncDir(dir);
    await unlinkIfExists(offsetFilePath(dir, base, SWAP_RANGE_SUFFIX));
  }
  // Whatever is left is an uncommitted cleaning (or the rest of a finished one).
  for (const name of await readdir(dir)) {
    if (name.endsWith(CLEANED_SUFFIX) || name.endsWith(SWAP_SUFFIX)) await unlinkIfExists(join(dir, name));
  }
  await syncDir(dir);
  return completed;
}

function cleanedPath(dir: string, base: number, suffix: string): string {
  return offsetFilePath(dir, base, suffix) + CLEANED_SUFFIX;
}

function swapPath(dir: string, base: number, suffix: string): string {
  return offsetFilePath(dir, base, suffix) + SWAP_SUFFIX;
}

function swapName(base: number, suffix: string): string {
  return String(base).padStart(20, "0") + suffix + SWAP_SUFFIX;
}

async function writeSynced(path: string, data: Uint8Array): Promise<void> {
  const fh = await open(path, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if (!isCode(err, "ENOENT")) throw err;
  }
}

async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isCode(err, "ENOENT")) throw err;
  }
}
