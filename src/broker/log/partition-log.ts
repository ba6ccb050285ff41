// One partition's log: the storage engine's public face. Appends are validated, checked
// against producer state and given offsets synchronously (on the event loop, which is the
// partition's state machine), then written in call order by the LogWriter; reads, timestamp
// lookups, DeleteRecords and retention go through the modules beside this one.
//
// Durability: an append resolves once its bytes are in the file (write() returned), so a
// process crash loses nothing acknowledged. A machine crash loses what was not yet fsynced:
// with flush.messages=1 the fsync happens before the ack (shared by every append written in
// the same group), otherwise it happens after flush.messages records, after flush.ms, when a
// segment is rolled, on flush() and on close().
import { readdir, rm, unlink } from "node:fs/promises";
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import { writeFileAtomic, writePartitionCheckpoint } from "./checkpoint-file.ts";
import { appendAtOwnOffsets, appendWithNewOffsets } from "./log-appender.ts";
import { completeLogConfig, type FullLogConfig, type LogConfig } from "./log-config.ts";
import { SNAPSHOT_SUFFIX, offsetFilePath, parseOffsetFileName } from "./log-files.ts";
import {
  findMaxTimestamp,
  findOffsetByTimestamp,
  readBatches,
  type TimestampAndOffset,
} from "./log-reader.ts";
import { activeSegment, segmentLimits, type LogState } from "./log-state.ts";
import type { AppendOrigin } from "./log-validator.ts";
import { LogWriter, type AppendResult } from "./log-writer.ts";
import type { ProducerEntry } from "./producer-state.ts";
import { loadLog } from "./recovery.ts";
import { deletableSegmentCount } from "./retention.ts";
import type { Allocate, Segment } from "./segment.ts";
import { TailCache } from "./tail-cache.ts";
import { writeSegmentTxnIndex, type AbortedTxn } from "./txn-index.ts";

export type { AppendResult } from "./log-writer.ts";
export type { TimestampAndOffset } from "./log-reader.ts";
export type { AbortedTxn } from "./txn-index.ts";

export interface OpenOptions {
  /** Clock in ms (tests inject one). */
  now?: () => number;
  /** Partition leader epoch stamped on appended batches (default 0). */
  leaderEpoch?: number;
  /** Bytes of the newest data kept in memory for tail reads, per arena (default 1 MiB; two arenas). */
  tailCacheBytes?: number;
  /** Problems that do not stop the log (a delayed file deletion failed); default: a process warning. */
  onError?: (err: Error) => void;
}

export interface AppendOptions {
  /** Refuse batches whose baseOffset is not 0 (default: true for client appends, as Kafka does). */
  requireZeroBaseOffset?: boolean;
  /** "client" (default) gets every Kafka check; "coordinator" is for the broker's own batches (control batches allowed, no sequence checks). */
  origin?: Exclude<AppendOrigin, "replication">;
}

/** What the log cleaner (cleaner*.ts) works with; nothing else should use it. */
export interface CleanerAccess {
  readonly state: LogState;
  /** Runs task while no retention, DeleteRecords or other cleaner step runs; rejects once the log is closed or offline. */
  exclusive<T>(task: () => Promise<T>): Promise<T>;
  /** Runs finish (closing and unlinking a replaced segment) after file.delete.delay.ms, or at close. */
  finishLater(finish: () => Promise<void>): void;
  /** False once the log is closing or closed. */
  isOpen(): boolean;
}

export interface ReadOptions {
  /** Exclusive offset limit (default and maximum: the high watermark). */
  upTo?: number;
  /** Return the first batch even if it is larger than maxBytes (default true, KIP-74). */
  minOneBatch?: boolean;
  /** Where bytes read from a file go (default fresh buffers); data in memory is returned as views. */
  allocate?: Allocate;
}

const EMPTY = Buffer.alloc(0);
const NOOP = (): void => undefined;

export class PartitionLog {
  readonly dir: string;
  /** What opening the log found: whether it was closed cleanly, and how many bytes recovery cut off. */
  readonly recovery: { readonly cleanShutdown: boolean; readonly truncatedBytes: number };
  private readonly state: LogState;
  private readonly writer: LogWriter;
  private readonly onError: (err: Error) => void;
  private maintenance: Promise<unknown> = Promise.resolve();
  private checkpointChain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly pendingDeletes = new Set<{ timer: NodeJS.Timeout; finish: () => Promise<void> }>();

  private constructor(
    state: LogState,
    recovery: { cleanShutdown: boolean; truncatedBytes: number },
    opts: OpenOptions,
  ) {
    this.dir = state.dir;
    this.state = state;
    this.recovery = recovery;
    this.onError = opts.onError ?? ((err) => process.emitWarning(err));
    this.writer = new LogWriter(state, () => this.persistCheckpoint(false));
  }

  /** Opens the log in dir, creating it or recovering it after a crash. */
  static async open(dir: string, config: LogConfig, opts: OpenOptions = {}): Promise<PartitionLog> {
    const full = completeLogConfig(config);
    const now = opts.now ?? Date.now;
    const loaded = await loadLog(dir, full, now());
    const state: LogState = {
      dir,
      config: full,
      now,
      leaderEpoch: opts.leaderEpoch ?? 0,
      segments: loaded.segments,
      logStartOffset: loaded.logStartOffset,
      nextOffset: loaded.nextOffset,
      highWatermark: loaded.nextOffset,
      recoveryPoint: loaded.recoveryPoint,
      producers: loaded.producers,
      txnIndex: loaded.txnIndex,
      tail: new TailCache(opts.tailCacheBytes ?? 1024 * 1024),
      appendedBytes: 0,
    };
    const log = new PartitionLog(
      state,
      { cleanShutdown: loaded.cleanShutdown, truncatedBytes: loaded.truncatedBytes },
      opts,
    );
    // From here on a crash must be recovered by a scan: clear the clean-shutdown flag first.
    await log.persistCheckpoint(false);
    return log;
  }

  get logStartOffset(): number {
    return this.state.logStartOffset;
  }

  /** The next offset to assign (appends accepted but still being written included). */
  get logEndOffset(): number {
    return this.state.nextOffset;
  }

  /** End of the written log; on a single node everything written is acknowledged. */
  get highWatermark(): number {
    return this.state.highWatermark;
  }

  /** The end of what read_committed consumers may see: the high watermark, or the first offset of an open transaction. */
  get lastStableOffset(): number {
    const first = this.state.producers.firstUnstableOffset();
    return first < 0 ? this.state.highWatermark : Math.min(first, this.state.highWatermark);
  }

  /**
   * The aborted transactions a read_committed fetch of [from, upTo) reports: those whose
   * ABORT marker is at or after `from` and that began before `upTo`. Null when none.
   */
  abortedTransactions(from: number, upTo: number): readonly AbortedTxn[] | null {
    return this.state.txnIndex.collect(from, upTo);
  }

  /** The transactions open in the written log: producer id → first offset (they hold the last stable offset back). */
  openTransactions(): ReadonlyMap<number, number> {
    return this.state.producers.openTransactions();
  }

  get config(): FullLogConfig {
    return this.state.config;
  }

  /**
   * Bytes written by appends since the log was opened: only the difference of two readings means
   * anything (how much a partition grew while a fetch waited).
   */
  get appendedBytes(): number {
    return this.state.appendedBytes;
  }

  /** Bytes of all segments. */
  get sizeInBytes(): number {
    let size = 0;
    for (const s of this.state.segments) size += s.size;
    return size;
  }

  /** Base offsets and sizes of the segments, oldest first. */
  segmentInfo(): { baseOffset: number; size: number }[] {
    return this.state.segments.map((s) => ({ baseOffset: s.baseOffset, size: s.size }));
  }

  /** Applies changed topic configs; they take effect for the next append, roll and retention run. */
  setConfig(config: LogConfig): void {
    const full = completeLogConfig(config);
    this.state.config = full;
    for (const s of this.state.segments) s.limits = segmentLimits(full);
  }

  /** Sets the partition leader epoch stamped on later appends. */
  setLeaderEpoch(epoch: number): void {
    this.state.leaderEpoch = epoch;
  }

  /** A copy of the producer's state (epoch, last five batches), including appends in flight. */
  producerState(producerId: number | bigint): ProducerEntry | undefined {
    return this.state.producers.producerState(Number(producerId));
  }

  /**
   * Validates and appends a produce request's records (Kafka allows exactly one batch per
   * partition from clients), assigning offsets. The log takes the buffer: it patches
   * baseOffset, partitionLeaderEpoch and (LogAppendTime) maxTimestamp in place and keeps a
   * reference until the promise settles. Resolves once written; a refused append changes
   * nothing and rejects with a KafkaError.
   */
  append(records: Buffer, opts: AppendOptions = {}): Promise<AppendResult> {
    try {
      this.checkWritable();
      const origin = opts.origin ?? "client";
      return appendWithNewOffsets(this.state, this.writer, records, {
        origin,
        requireZeroBaseOffset: opts.requireZeroBaseOffset ?? origin === "client",
      });
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Appends batches at the offsets they carry, unchanged (mirror topics, replicas): each
   * baseOffset must be at or above the log end offset and above the previous batch; gaps
   * are kept. Producer state is updated without sequence checks, as for Kafka's followers.
   * `crcChecked` skips a second CRC pass when the caller has verified every batch already.
   */
  appendAtOffsets(records: Buffer, crcChecked = false): Promise<AppendResult> {
    try {
      this.checkWritable();
      return appendAtOwnOffsets(this.state, this.writer, records, crcChecked);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Whole batches from the one containing offset: up to maxBytes, at least one batch
   * (unless minOneBatch is false), none reaching upTo. The bytes can go straight into a
   * Fetch response. OFFSET_OUT_OF_RANGE below logStartOffset or above logEndOffset.
   */
  async read(offset: number, maxBytes: number, opts: ReadOptions = {}): Promise<Buffer> {
    this.checkOpen();
    const state = this.state;
    if (offset < state.logStartOffset || offset > state.nextOffset) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `offset ${offset} is outside the log's range [${state.logStartOffset}, ${state.nextOffset}]`,
      );
    }
    const upTo = Math.min(opts.upTo ?? state.highWatermark, state.highWatermark);
    if (offset >= upTo) return EMPTY;
    return readBatches(state, offset, maxBytes, upTo, opts.minOneBatch ?? true, opts.allocate);
  }

  /** ListOffsets by timestamp: the first record at or after logStartOffset with timestamp >= ts, or null. */
  async offsetForTimestamp(ts: number): Promise<TimestampAndOffset | null> {
    this.checkOpen();
    return findOffsetByTimestamp(this.state, ts, this.state.logStartOffset);
  }

  /** ListOffsets MAX_TIMESTAMP: the first record with the newest timestamp, or null for an empty log. */
  async maxTimestamp(): Promise<TimestampAndOffset | null> {
    this.checkOpen();
    return findMaxTimestamp(this.state);
  }

  /** DeleteRecords: moves logStartOffset to offset (at most the high watermark) and deletes whole segments below it. */
  deleteRecordsBefore(offset: number): Promise<number> {
    return this.exclusive(async () => {
      this.checkWritable();
      const state = this.state;
      if (!(offset >= 0 && offset <= state.highWatermark)) {
        throw new KafkaError(
          ErrorCode.OFFSET_OUT_OF_RANGE,
          `cannot delete records before ${offset}: the high watermark is ${state.highWatermark}`,
        );
      }
      if (offset > state.logStartOffset) {
        state.logStartOffset = offset;
        await this.persistCheckpoint(false);
        await this.writer.settled();
        let n = 0;
        while (n + 1 < state.segments.length && (state.segments[n + 1] as Segment).baseOffset <= offset) n++;
        await this.deleteLeadingSegments(n);
      }
      return state.logStartOffset;
    });
  }

  /**
   * Periodic housekeeping: rolls the active segment once segment.ms has passed since it was
   * created, expires idle producers, and deletes segments by logStartOffset,
   * retention.bytes and retention.ms. Returns how many segments were deleted.
   */
  applyRetention(): Promise<number> {
    return this.exclusive(async () => {
      this.checkWritable();
      const state = this.state;
      const now = state.now();
      state.producers.removeExpired(now, state.config.producerIdExpirationMs);
      // Appends roll by their timestamps (Kafka's rule); an idle segment rolls by wall clock.
      const active = activeSegment(state);
      if (active.size > 0 && now - active.created > state.config.segmentMs) await this.writer.requestRoll();
      for (let round = 0; round < 2; round++) {
        await this.writer.settled();
        const n = await deletableSegmentCount(state);
        if (n === 0) return 0;
        // The active segment itself has expired: start a new one, then look again.
        if (n >= state.segments.length) {
          await this.writer.requestRoll();
          continue;
        }
        return this.deleteLeadingSegments(n);
      }
      return 0;
    });
  }

  /** Writes out and fsyncs everything appended so far. */
  async flush(): Promise<void> {
    this.checkOpen();
    await this.writer.flush();
  }

  /**
   * Writes everything out, records the final index entries, a producer snapshot and the
   * clean-shutdown flag, and closes the files. Appends after close are refused.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.maintenance.catch(NOOP);
    await this.writer.close();
    const state = this.state;
    if (this.writer.failure === null) {
      const active = activeSegment(state);
      active.onBecomeInactive();
      for (const seg of state.segments) {
        await seg.persistIndexes();
        await seg.flush();
      }
      const end = state.nextOffset;
      await writeSegmentTxnIndex(
        state.dir,
        active.baseOffset,
        state.txnIndex.entriesIn(active.baseOffset, end),
      );
      await writeFileAtomic(offsetFilePath(state.dir, end, SNAPSHOT_SUFFIX), state.producers.snapshot());
      for (const name of await readdir(state.dir)) {
        const offset = parseOffsetFileName(name, SNAPSHOT_SUFFIX);
        if (offset !== null && offset > active.baseOffset && offset !== end) {
          await unlink(offsetFilePath(state.dir, offset, SNAPSHOT_SUFFIX)).catch(NOOP);
        }
      }
      state.recoveryPoint = end;
      await this.persistCheckpoint(true);
    }
    await this.releaseFiles();
  }

  /** Closes the log and removes its directory (topic deletion). */
  async delete(): Promise<void> {
    this.closed = true;
    await this.maintenance.catch(NOOP);
    await this.writer.close();
    await this.checkpointChain;
    await this.releaseFiles();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async releaseFiles(): Promise<void> {
    for (const seg of this.state.segments) await seg.close();
    for (const pending of this.pendingDeletes) {
      clearTimeout(pending.timer);
      await pending.finish().catch((err: unknown) => this.reportError(err));
    }
    this.pendingDeletes.clear();
  }

  /** Removes the first n segments (n < segment count): logStartOffset first, then files after file.delete.delay.ms. */
  private async deleteLeadingSegments(n: number): Promise<number> {
    const state = this.state;
    if (n <= 0) return 0;
    const victims = state.segments.splice(0, n);
    const newStart = (state.segments[0] as Segment).baseOffset;
    state.txnIndex.dropBelow(newStart);
    if (newStart > state.logStartOffset) {
      state.logStartOffset = newStart;
      await this.persistCheckpoint(false);
    }
    for (const seg of victims) {
      const finish = await seg.markDeleted();
      await unlink(offsetFilePath(state.dir, seg.baseOffset, SNAPSHOT_SUFFIX)).catch(NOOP);
      const pending = {
        timer: setTimeout(() => {
          this.pendingDeletes.delete(pending);
          finish().catch((err: unknown) => this.reportError(err));
        }, state.config.fileDeleteDelayMs),
        finish,
      };
      pending.timer.unref();
      this.pendingDeletes.add(pending);
    }
    return n;
  }

  private persistCheckpoint(clean: boolean): Promise<void> {
    const state = this.state;
    const write = (): Promise<void> =>
      writePartitionCheckpoint(state.dir, {
        logStartOffset: state.logStartOffset,
        recoveryPoint: state.recoveryPoint,
        cleanShutdown: clean,
      });
    const p = this.checkpointChain.then(write, write);
    this.checkpointChain = p.catch(NOOP);
    return p;
  }

  /** The log cleaner's way in (see CleanerAccess). */
  cleanerAccess(): CleanerAccess {
    return {
      state: this.state,
      exclusive: <T>(task: () => Promise<T>) =>
        this.exclusive(async () => {
          this.checkWritable();
          return task();
        }),
      finishLater: (finish) => {
        const pending = {
          timer: setTimeout(() => {
            this.pendingDeletes.delete(pending);
            finish().catch((err: unknown) => this.reportError(err));
          }, this.state.config.fileDeleteDelayMs),
          finish,
        };
        pending.timer.unref();
        this.pendingDeletes.add(pending);
      },
      isOpen: () => !this.closed,
    };
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const p = this.maintenance.then(task, task);
    this.maintenance = p.catch(NOOP);
    return p;
  }

  private checkOpen(): void {
    if (this.closed) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `log ${this.dir} is closed`);
  }

  private checkWritable(): void {
    this.checkOpen();
    this.writer.throwIfFailed();
  }

  private reportError(err: unknown): void {
    this.onError(err instanceof Error ? err : new Error(String(err)));
  }
}
