// One segment of a partition log: the .log file holding batches exactly as stored, its
// offset and time indexes, and the bookkeeping the log needs without reading the file (size,
// end offset, newest timestamp, first batch timestamp for segment.ms). Inactive segments
// open their file and load their indexes lazily; an index that fails its checks is rebuilt
// from the log, never trusted.
import { open, readFile, rename, unlink, type FileHandle } from "node:fs/promises";
import {
  BASE_OFFSET_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
} from "../../protocol/records/batch-header.ts";
import type { Allocate } from "../../protocol/allocate.ts";
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import { isCode, syncDir } from "./checkpoint-file.ts";
import { readInt64 } from "./int64.ts";
import { readFully, scanBatches, type BatchVisitor, type ScanResult } from "./file-scan.ts";
import {
  DELETED_SUFFIX,
  LOG_SUFFIX,
  OFFSET_INDEX_SUFFIX,
  TIME_INDEX_SUFFIX,
  TXN_INDEX_SUFFIX,
  offsetFilePath,
} from "./log-files.ts";
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex } from "./offset-index.ts";
import { TIME_INDEX_ENTRY_SIZE, TimeIndex } from "./time-index.ts";

/** Where a read puts its bytes: a fresh buffer by default, a pooled one for fetch responses. */
export type { Allocate };

/** The config values a segment's indexing depends on. */
export interface SegmentLimits {
  indexIntervalBytes: number;
  segmentIndexBytes: number;
}

export class Segment {
  readonly dir: string;
  readonly baseOffset: number;
  /** Bytes of valid, written batches. */
  size: number;
  /** The offset after the last batch (the next segment's base for a segment that ends in a gap). */
  endOffset: number;
  /** Largest batch maxTimestamp seen, -1 if none (known once indexes are loaded). */
  maxTimestamp = -1;
  /** Last offset of the batch holding maxTimestamp. */
  offsetOfMaxTimestamp: number;
  /** maxTimestamp of the first append, -1 if none or unknown: segment.ms counts from it. */
  firstBatchTimestamp = -1;
  /** Wall-clock creation time, for segment.ms when batches carry no timestamps. */
  created: number;
  /** Time of the last write (or the file's mtime): retention falls back to it. */
  lastModified: number;
  /** Set when the log cleaner swapped this segment out: its file handle, once closed, is not reopened. */
  replaced = false;
  /** Whether data was written since the last fsync. */
  dirty = false;
  /** A new file's directory entry is made durable at its first fsync, not on the append path. */
  private needsDirSync = false;
  limits: SegmentLimits;
  private fh: FileHandle | null;
  private opening: Promise<FileHandle> | null = null;
  private offsetIdx: OffsetIndex | null = null;
  private timeIdx: TimeIndex | null = null;
  private loadingIndexes: Promise<void> | null = null;
  private indexesDirty = false;
  private bytesSinceIndexEntry = 0;

  private constructor(
    dir: string,
    baseOffset: number,
    size: number,
    fh: FileHandle | null,
    now: number,
    limits: SegmentLimits,
  ) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.size = size;
    this.endOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
    this.fh = fh;
    this.created = now;
    this.lastModified = now;
    this.limits = limits;
  }

  /** Creates the segment's empty .log file (it must not exist). */
  static async create(dir: string, baseOffset: number, now: number, limits: SegmentLimits): Promise<Segment> {
    const fh = await open(offsetFilePath(dir, baseOffset, LOG_SUFFIX), "wx+");
    const s = new Segment(dir, baseOffset, 0, fh, now, limits);
    s.needsDirSync = true;
    s.offsetIdx = new OffsetIndex(baseOffset, maxOffsetEntries(limits));
    s.timeIdx = new TimeIndex(baseOffset, maxTimeEntries(limits));
    s.indexesDirty = true;
    return s;
  }

  /**
   * A segment the log cleaner wrote (cleaner-swap.ts): its file already open, its indexes
   * already in memory, so that it serves reads the moment it replaces the old segments.
   */
  static adopt(
    dir: string,
    fh: FileHandle,
    limits: SegmentLimits,
    built: {
      baseOffset: number;
      size: number;
      endOffset: number;
      lastModified: number;
      firstBatchTimestamp: number;
      offsetIndex: OffsetIndex;
      timeIndex: TimeIndex;
    },
  ): Segment {
    const s = new Segment(dir, built.baseOffset, built.size, fh, built.lastModified, limits);
    s.endOffset = built.endOffset;
    s.firstBatchTimestamp = built.firstBatchTimestamp;
    s.offsetIdx = built.offsetIndex;
    s.timeIdx = built.timeIndex;
    s.maxTimestamp = built.timeIndex.lastTimestamp();
    s.offsetOfMaxTimestamp = built.timeIndex.lastOffset();
    return s;
  }

  /** An existing segment file of the given size; nothing is read yet. */
  static existing(
    dir: string,
    baseOffset: number,
    size: number,
    mtime: number,
    limits: SegmentLimits,
  ): Segment {
    const s = new Segment(dir, baseOffset, size, null, mtime, limits);
    s.lastModified = mtime;
    return s;
  }

  get logPath(): string {
    return offsetFilePath(this.dir, this.baseOffset, LOG_SUFFIX);
  }

  /**
   * The open file, opened on first use. A fetch that found the segment just before
   * retention renamed it still reads it under its *.deleted name.
   */
  async handle(): Promise<FileHandle> {
    if (this.fh !== null) return this.fh;
    // Its name now belongs to the cleaner's replacement: never open that file as this segment.
    if (this.replaced) {
      throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `segment ${this.logPath} was replaced; retry`);
    }
    this.opening ??= open(this.logPath, "r+")
      .catch((err: unknown) => {
        if (isCode(err, "ENOENT")) return open(this.logPath + DELETED_SUFFIX, "r");
        throw err;
      })
      .then(
        (fh) => {
          this.fh = fh;
          return fh;
        },
        (err: unknown) => {
          this.opening = null;
          throw err;
        },
      );
    return this.opening;
  }

  /** The file if it is open already (the active segment's always is). */
  openHandle(): FileHandle | null {
    return this.fh;
  }

  /** Reads length bytes at position into a new Buffer (shorter only if the file is). */
  async read(
    position: number,
    length: number,
    allocate: Allocate = (size) => Buffer.allocUnsafe(size),
  ): Promise<Buffer> {
    const fh = await this.handle();
    const buf = allocate(length);
    const n = await readFully(fh, buf, 0, length, position);
    return n === length ? buf : buf.subarray(0, n);
  }

  /** Whether the indexes are in memory. */
  get indexesLoaded(): boolean {
    return this.offsetIdx !== null && this.timeIdx !== null;
  }

  /** The offset index, loading (or rebuilding) it first if needed. */
  async offsetIndex(): Promise<OffsetIndex> {
    await this.loadIndexes();
    return this.offsetIdx as OffsetIndex;
  }

  /** The time index, loading (or rebuilding) it first if needed. */
  async timeIndex(): Promise<TimeIndex> {
    await this.loadIndexes();
    return this.timeIdx as TimeIndex;
  }

  /** Offset index if loaded, else null (for synchronous hot paths). */
  loadedOffsetIndex(): OffsetIndex | null {
    return this.offsetIdx;
  }

  /** Bytes appended since the last offset index entry (the index.interval.bytes counter). */
  get bytesSinceLastIndexEntry(): number {
    return this.bytesSinceIndexEntry;
  }

  /** Index entries in memory, for the roll decision (0 when not loaded). */
  indexEntryCounts(): { offset: number; time: number } {
    return { offset: this.offsetIdx?.entries ?? 0, time: this.timeIdx?.entries ?? 0 };
  }

  /** Loads the index files, checking every entry against the log; rebuilds them if they fail. */
  async loadIndexes(): Promise<void> {
    if (this.indexesLoaded) return;
    this.loadingIndexes ??= this.doLoadIndexes().finally(() => {
      this.loadingIndexes = null;
    });
    return this.loadingIndexes;
  }

  private async doLoadIndexes(): Promise<void> {
    const offsetBytes = await readOptional(offsetFilePath(this.dir, this.baseOffset, OFFSET_INDEX_SUFFIX));
    const timeBytes = await readOptional(offsetFilePath(this.dir, this.baseOffset, TIME_INDEX_SUFFIX));
    const oi =
      offsetBytes === null
        ? null
        : OffsetIndex.fromBytes(
            this.baseOffset,
            maxOffsetEntries(this.limits),
            offsetBytes,
            this.size,
            this.endOffset,
          );
    const ti =
      timeBytes === null
        ? null
        : TimeIndex.fromBytes(this.baseOffset, maxTimeEntries(this.limits), timeBytes, this.endOffset);
    // A rolled segment's time index always ends with its newest timestamp; an empty one for a
    // segment with data means the file was lost or cut, and searches by time would miss it.
    if (oi === null || ti === null || (ti.entries === 0 && this.size > 0)) {
      await this.rebuildIndexes({});
      await this.persistIndexes();
      return;
    }
    this.offsetIdx = oi;
    this.timeIdx = ti;
    this.maxTimestamp = ti.lastTimestamp();
    this.offsetOfMaxTimestamp = ti.lastOffset();
  }

  /**
   * Rebuilds both indexes (and the timestamps kept in memory) by scanning the log, as Kafka's
   * LogSegment.recover does: one entry per index interval, per batch. `check` may refuse a
   * batch (recovery checks offsets); the scan then stops there and the caller truncates.
   */
  async rebuildIndexes(opts: { verifyCrc?: boolean; check?: BatchVisitor }): Promise<ScanResult> {
    const offsetIdx = new OffsetIndex(this.baseOffset, maxOffsetEntries(this.limits));
    const timeIdx = new TimeIndex(this.baseOffset, maxTimeEntries(this.limits));
    let maxTimestamp = -1;
    let offsetOfMax = this.baseOffset;
    let lastIndexed = 0;
    let endOffset = this.baseOffset;
    let first = -1;
    const interval = this.limits.indexIntervalBytes;
    const check = opts.check;
    const fh = await this.handle();
    const result = await scanBatches(
      fh,
      0,
      this.size,
      (buf, at, filePos, size) => {
        if (check !== undefined && !check(buf, at, filePos, size)) return false;
        const base = readInt64(buf, at + BASE_OFFSET_OFFSET);
        const last = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
        const ts = readInt64(buf, at + MAX_TIMESTAMP_OFFSET);
        if (filePos === 0) first = ts;
        if (ts > maxTimestamp) {
          maxTimestamp = ts;
          offsetOfMax = last;
        }
        if (filePos - lastIndexed > interval) {
          offsetIdx.append(last, filePos);
          timeIdx.maybeAppend(maxTimestamp, offsetOfMax);
          lastIndexed = filePos;
        }
        endOffset = last + 1;
        return true;
      },
      { verifyCrc: opts.verifyCrc === true, headersOnly: opts.verifyCrc !== true },
    );
    this.offsetIdx = offsetIdx;
    this.timeIdx = timeIdx;
    this.maxTimestamp = maxTimestamp;
    this.offsetOfMaxTimestamp = offsetOfMax;
    this.firstBatchTimestamp = first;
    this.bytesSinceIndexEntry = result.validEnd - lastIndexed;
    this.indexesDirty = true;
    if (endOffset > this.endOffset) this.endOffset = endOffset;
    return result;
  }

  /** Cuts the file to size bytes (a torn or corrupt tail found by recovery). */
  async truncateTo(size: number, endOffset: number): Promise<void> {
    const fh = await this.handle();
    await fh.truncate(size);
    await fh.datasync();
    this.size = size;
    this.endOffset = endOffset;
  }

  /**
   * Bookkeeping after an append of size bytes at position whose batches end at lastOffset:
   * an index entry when index.interval.bytes have passed since the last one (Kafka's rule).
   */
  onAppended(
    position: number,
    size: number,
    lastOffset: number,
    maxTimestamp: number,
    offsetOfMax: number,
    now: number,
  ): void {
    if (position === 0) this.firstBatchTimestamp = maxTimestamp;
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = offsetOfMax;
    }
    const oi = this.offsetIdx;
    const ti = this.timeIdx;
    if (oi !== null && ti !== null && this.bytesSinceIndexEntry > this.limits.indexIntervalBytes) {
      oi.append(lastOffset, position);
      ti.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceIndexEntry = 0;
      this.indexesDirty = true;
    }
    this.bytesSinceIndexEntry += size;
    this.size = position + size;
    this.endOffset = lastOffset + 1;
    this.lastModified = now;
    this.dirty = true;
  }

  /** Records the newest timestamp in the time index, as Kafka does when a segment stops being active. */
  onBecomeInactive(): void {
    if (this.timeIdx !== null && this.timeIdx.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp)) {
      this.indexesDirty = true;
    }
  }

  /** Writes the in-memory indexes to their files (fsynced) if they changed. */
  async persistIndexes(): Promise<void> {
    if (!this.indexesDirty || this.offsetIdx === null || this.timeIdx === null) return;
    this.indexesDirty = false;
    const offsetBytes = Buffer.from(this.offsetIdx.bytes());
    const timeBytes = Buffer.from(this.timeIdx.bytes());
    await writeSynced(offsetFilePath(this.dir, this.baseOffset, OFFSET_INDEX_SUFFIX), offsetBytes);
    await writeSynced(offsetFilePath(this.dir, this.baseOffset, TIME_INDEX_SUFFIX), timeBytes);
  }

  /** fsyncs the log file's data (and, the first time, the directory entry of a new file). */
  async flush(): Promise<void> {
    if (this.needsDirSync) {
      this.needsDirSync = false;
      await syncDir(this.dir);
    }
    if (this.fh === null || !this.dirty) return;
    this.dirty = false;
    await this.fh.datasync();
  }

  /** Closes the file. */
  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    this.opening = null;
    if (fh !== null) await fh.close();
  }

  /**
   * Renames the files to *.deleted at once (the segment is gone for lookups and for a
   * restart) and returns the step that closes and unlinks them, which the caller runs after
   * file.delete.delay.ms so fetches already reading the file finish.
   */
  async markDeleted(): Promise<() => Promise<void>> {
    const renamed: string[] = [];
    for (const suffix of [LOG_SUFFIX, OFFSET_INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) {
      const path = offsetFilePath(this.dir, this.baseOffset, suffix);
      try {
        await rename(path, path + DELETED_SUFFIX);
        renamed.push(path + DELETED_SUFFIX);
      } catch (err) {
        if (!isCode(err, "ENOENT")) throw err;
      }
    }
    return async () => {
      await this.close();
      for (const path of renamed) await unlink(path).catch(() => undefined);
    };
  }
}

/** Entries an offset index of segment.index.bytes can hold. */
export function maxOffsetEntries(limits: SegmentLimits): number {
  return Math.max(1, Math.floor(limits.segmentIndexBytes / OFFSET_INDEX_ENTRY_SIZE));
}

/** Entries a time index of segment.index.bytes can hold. */
export function maxTimeEntries(limits: SegmentLimits): number {
  return Math.max(1, Math.floor(limits.segmentIndexBytes / TIME_INDEX_ENTRY_SIZE));
}

async function readOptional(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if (isCode(err, "ENOENT")) return null;
    throw err;
  }
}

async function writeSynced(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
