// The write side of a partition log. Accepted appends wait in a queue in call order and one
// async loop writes them, many at a time: appends that arrive while a write is in progress
// go out together in one write() and share one fsync (group commit). The loop also rolls
// segments and applies the flush policy (flush.messages before the ack, flush.ms on a
// timer). Which segment an append lands in is decided synchronously when it is accepted
// (the "plan"), so offsets, roll points and index entries are known before the bytes move.
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import { writeFileAtomic } from "./checkpoint-file.ts";
import { writeFully } from "./file-scan.ts";
import { LONG_MAX } from "./log-config.ts";
import { SNAPSHOT_SUFFIX, offsetFilePath } from "./log-files.ts";
import { activeSegment, segmentLimits, type LogState } from "./log-state.ts";
import type { ProducerUpdate } from "./producer-state.ts";
import { Segment, maxOffsetEntries, maxTimeEntries } from "./segment.ts";
import { indexAbortedTxn, writeSegmentTxnIndex } from "./txn-index.ts";

/** What an append answers (the Produce response's partition fields). */
export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The broker time stamped on the batches of a LogAppendTime topic, else -1. */
  logAppendTime: number;
  logStartOffset: number;
  recordCount: number;
}

/** An append accepted and waiting to be written, or a marker (duplicate answer, roll, barrier). */
export interface WriteItem {
  /** The validated batches with offsets assigned; null for markers. */
  data: Buffer | null;
  /** Base offset of a segment to start before this item, or -1. */
  rollTo: number;
  firstOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  offsetOfMaxTimestamp: number;
  recordCount: number;
  updates: ProducerUpdate[] | null;
  result: AppendResult | null;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The active segment as accepted appends will leave it. */
interface SegmentPlan {
  baseOffset: number;
  size: number;
  indexEntries: number;
  bytesSinceIndexEntry: number;
  firstTimestamp: number;
  created: number;
}

const INT32_MAX = 0x7fffffff;
const MAX_GROUP = 1024;
const NOOP = (): void => undefined;

export class LogWriter {
  private readonly state: LogState;
  private readonly persistCheckpoint: () => Promise<void>;
  private queue: WriteItem[] = [];
  private head = 0;
  private draining = false;
  /** While a group is being written: the queue index after it; -1 otherwise. */
  private writingEnd = -1;
  private plan: SegmentPlan;
  private background: Promise<void> = Promise.resolve();
  private unflushedMessages = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Set once a write failed: the log then refuses appends with KAFKA_STORAGE_ERROR. */
  failure: KafkaError | null = null;

  constructor(state: LogState, persistCheckpoint: () => Promise<void>) {
    this.state = state;
    this.persistCheckpoint = persistCheckpoint;
    const active = activeSegment(state);
    this.plan = {
      baseOffset: active.baseOffset,
      size: active.size,
      indexEntries: active.indexEntryCounts().offset,
      bytesSinceIndexEntry: active.bytesSinceLastIndexEntry,
      firstTimestamp: active.firstBatchTimestamp,
      created: active.created,
    };
  }

  /**
   * Accounts for an accepted append of size bytes and says whether a new segment must start
   * before it (its base offset) or not (-1): Kafka's roll rules, segment full, segment.ms
   * passed since the first batch's timestamp, index full, or offsets too far for the index.
   */
  planAppend(size: number, firstOffset: number, lastOffset: number, maxTimestamp: number): number {
    const config = this.state.config;
    const now = this.state.now();
    let p = this.plan;
    const limits = segmentLimits(config);
    const maxEntries = Math.min(maxOffsetEntries(limits), maxTimeEntries(limits) - 1);
    const waited = p.firstTimestamp >= 0 ? maxTimestamp - p.firstTimestamp : now - p.created;
    const overflow = lastOffset - p.baseOffset > INT32_MAX;
    const roll =
      p.size > 0
        ? p.size > config.segmentBytes - size ||
          waited > config.segmentMs ||
          p.indexEntries >= maxEntries ||
          overflow
        : overflow;
    let rollTo = -1;
    if (roll) {
      rollTo = firstOffset;
      p = newPlan(firstOffset, now);
      this.plan = p;
    }
    if (p.size === 0) p.firstTimestamp = maxTimestamp;
    if (p.bytesSinceIndexEntry > config.indexIntervalBytes) {
      p.indexEntries++;
      p.bytesSinceIndexEntry = 0;
    }
    p.bytesSinceIndexEntry += size;
    p.size += size;
    return rollTo;
  }

  /** Whether the planned active segment holds data (so a roll would start a new one). */
  get plannedSize(): number {
    return this.plan.size;
  }

  /** Queues an accepted append; resolves with its result once written (and fsynced if the policy says so). */
  enqueue(item: WriteItem): Promise<AppendResult> {
    const result = item.result;
    return new Promise<AppendResult>((resolve, reject) => {
      if (result === null) throw new Error("an append needs a result");
      item.resolve = () => resolve(result);
      item.reject = reject;
      this.push(item);
    });
  }

  /** Answers result once everything queued before has been written (a duplicate of an in-flight batch waits for it). */
  answerAfterWrites(result: AppendResult): Promise<AppendResult> {
    return this.marker(-1).then(() => result);
  }

  /** Starts a new segment at the next offset once everything queued is written (retention of the active segment). */
  requestRoll(): Promise<void> {
    if (this.plan.size === 0) return this.marker(-1);
    const base = this.state.nextOffset;
    this.plan = newPlan(base, this.state.now());
    return this.marker(base);
  }

  /** Resolves when everything queued before has been written. */
  barrier(): Promise<void> {
    return this.marker(-1);
  }

  /** Writes out and fsyncs everything accepted so far. */
  async flush(): Promise<void> {
    await this.barrier();
    await this.background;
    this.throwIfFailed();
    const pending = this.unflushedMessages;
    await activeSegment(this.state).flush();
    this.unflushedMessages = Math.max(0, this.unflushedMessages - pending);
  }

  /** Resolves when background work (flushing rolled segments, snapshots) is done. */
  async settled(): Promise<void> {
    await this.background;
  }

  /** Stops the flush timer after draining the queue; later appends must not be queued. */
  async close(): Promise<void> {
    await this.barrier().catch(NOOP);
    this.closed = true;
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    await this.background;
  }

  /** Runs a task after the previous background tasks; a failure takes the log offline. */
  runInBackground(task: () => Promise<void>): void {
    this.background = this.background.then(task).catch((err: unknown) => this.fail(err));
  }

  /** Takes the log offline: pending appends and every later one get KAFKA_STORAGE_ERROR. */
  fail(err: unknown): void {
    if (this.failure !== null) return;
    const message = err instanceof Error ? err.message : String(err);
    this.failure = new KafkaError(
      ErrorCode.KAFKA_STORAGE_ERROR,
      `log ${this.state.dir} is offline: ${message}`,
    );
    this.state.producers.dropPending();
    // A group being written fails once its write is over (drain does it): its callers may
    // reuse their buffers as soon as the append settles.
    if (this.writingEnd >= 0) {
      for (const item of this.queue.splice(this.writingEnd)) item.reject(this.failure);
      return;
    }
    const items = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const item of items) item.reject(this.failure);
  }

  /** Throws the failure, if any. */
  throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }

  private marker(rollTo: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.push({
        data: null,
        rollTo,
        firstOffset: -1,
        lastOffset: -1,
        maxTimestamp: -1,
        offsetOfMaxTimestamp: -1,
        recordCount: 0,
        updates: null,
        result: null,
        resolve,
        reject,
      });
    });
  }

  private push(item: WriteItem): void {
    if (this.failure !== null) {
      item.reject(this.failure);
      return;
    }
    this.queue.push(item);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.head < this.queue.length && this.failure === null) {
        const first = this.queue[this.head] as WriteItem;
        if (first.rollTo >= 0) {
          await this.roll(first.rollTo);
          first.rollTo = -1;
        }
        if (first.data === null) {
          this.head++;
          first.resolve();
          continue;
        }
        let end = this.head + 1;
        let total = first.data.length;
        const capacity = this.state.tail.capacity;
        while (end < this.queue.length && end - this.head < MAX_GROUP) {
          const next = this.queue[end] as WriteItem;
          if (next.data === null || next.rollTo >= 0 || total + next.data.length > capacity) break;
          total += next.data.length;
          end++;
        }
        this.writingEnd = end;
        try {
          await this.writeGroup(this.head, end, total);
        } finally {
          this.writingEnd = -1;
        }
        if (this.failure !== null) {
          for (let i = this.head; i < end; i++) (this.queue[i] as WriteItem).reject(this.failure);
          this.head = end;
          break;
        }
        for (let i = this.head; i < end; i++) (this.queue[i] as WriteItem).resolve();
        this.head = end;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
      }
    } catch (err) {
      this.fail(err);
      // If the log went offline while this write was under way, fail() left the group to us.
      const failure = this.failure ?? err;
      for (const item of this.queue.slice(this.head)) item.reject(failure);
      this.queue = [];
      this.head = 0;
    } finally {
      this.draining = false;
    }
  }

  private async writeGroup(from: number, to: number, total: number): Promise<void> {
    const state = this.state;
    const seg = activeSegment(state);
    const fh = await seg.handle();
    const position = seg.size;
    const firstItem = this.queue[from] as WriteItem;
    const arena = state.tail.reserve(seg.baseOffset, position, total, firstItem.firstOffset);
    try {
      if (arena !== null) {
        let at = 0;
        for (let i = from; i < to; i++) {
          const data = (this.queue[i] as WriteItem).data as Buffer;
          data.copy(arena, at);
          at += data.length;
        }
        await writeFully(fh, arena, position);
      } else {
        let at = position;
        for (let i = from; i < to; i++) {
          const data = (this.queue[i] as WriteItem).data as Buffer;
          await writeFully(fh, data, at);
          at += data.length;
        }
      }
    } catch (err) {
      if (arena !== null) state.tail.unreserve(total);
      // Leave no partial write behind for readers of this process; recovery would cut it too.
      await fh.truncate(position).catch(NOOP);
      throw err;
    }
    const now = state.now();
    let at = position;
    for (let i = from; i < to; i++) {
      const item = this.queue[i] as WriteItem;
      const size = (item.data as Buffer).length;
      seg.onAppended(at, size, item.lastOffset, item.maxTimestamp, item.offsetOfMaxTimestamp, now);
      state.appendedBytes += size;
      if (item.updates !== null)
        for (const u of item.updates) indexAbortedTxn(state, state.producers.commit(u));
      at += size;
      this.unflushedMessages += item.recordCount;
      item.data = null;
    }
    state.highWatermark = (this.queue[to - 1] as WriteItem).lastOffset + 1;
    if (this.unflushedMessages >= state.config.flushMessages) {
      await seg.flush();
      this.unflushedMessages = 0;
    } else {
      this.scheduleFlush();
    }
  }

  private scheduleFlush(): void {
    const ms = this.state.config.flushMs;
    if (this.flushTimer !== null || this.closed || ms >= LONG_MAX) return;
    this.flushTimer = setTimeout(
      () => {
        this.flushTimer = null;
        if (this.unflushedMessages > 0) this.flush().catch((err: unknown) => this.fail(err));
      },
      Math.min(ms, INT32_MAX),
    );
    this.flushTimer.unref();
  }

  /**
   * Starts the segment at newBase. The old segment's final time index entry, its index
   * files, its fsync and the producer snapshot (state as of newBase) are written in the
   * background; only then does the recovery point move past it.
   */
  private async roll(newBase: number): Promise<void> {
    const state = this.state;
    const old = activeSegment(state);
    if (old.size === 0) {
      if (old.baseOffset === newBase) return;
      // An empty segment whose base is too far below the next batch (mirror gaps): replace it.
      state.segments.pop();
      const finish = await old.markDeleted();
      await finish();
    } else {
      old.onBecomeInactive();
    }
    const seg = await Segment.create(state.dir, newBase, state.now(), segmentLimits(state.config));
    state.segments.push(seg);
    if (old.size === 0) return;
    const snapshot = state.producers.snapshot();
    const aborted = state.txnIndex.entriesIn(old.baseOffset, newBase);
    this.runInBackground(async () => {
      await old.persistIndexes();
      await writeSegmentTxnIndex(state.dir, old.baseOffset, aborted);
      await old.flush();
      await seg.flush();
      await writeFileAtomic(offsetFilePath(state.dir, newBase, SNAPSHOT_SUFFIX), snapshot);
      if (state.recoveryPoint < newBase) state.recoveryPoint = newBase;
      await this.persistCheckpoint();
    });
  }
}

function newPlan(baseOffset: number, now: number): SegmentPlan {
  return { baseOffset, size: 0, indexEntries: 0, bytesSinceIndexEntry: 0, firstTimestamp: -1, created: now };
}
