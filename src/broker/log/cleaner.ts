// The log cleaner: compaction for logs with cleanup.policy=compact (or compact,delete), run
// by the broker in the background as Kafka's LogCleaner thread runs. Each round picks the
// dirtiest compacted log whose dirty share reaches min.cleanable.dirty.ratio (or whose dirty
// records passed max.compaction.lag.ms, or whose tombstones passed their delete horizon) and
// cleans it (cleaner-pass.ts); with nothing to do it sleeps log.cleaner.backoff.ms. Where
// the dirty part starts is kept per partition in `cleaner-offset.checkpoint`. It never
// cleans the active segment, segments newer than min.compaction.lag.ms, anything at or after
// the last stable offset, or what is not yet fsynced (the recovery point).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { MAX_TIMESTAMP_OFFSET } from "../../protocol/records/batch-header.ts";
import type { Logger } from "../../util/logger.ts";
import { isCode, writeFileAtomic } from "./checkpoint-file.ts";
import { cleanLog, type CleanResult } from "./cleaner-pass.ts";
import type { TxnEventCache } from "./cleaner-txn.ts";
import { readInt64 } from "./int64.ts";
import { isCompacted } from "./log-config.ts";
import { segmentIndexFor } from "./log-state.ts";
import { OFFSET_MAP_SLOT_BYTES, OffsetMap } from "./offset-map.ts";
import type { PartitionLog } from "./partition-log.ts";
import { largestTimestamp } from "./retention.ts";
import type { Segment } from "./segment.ts";

/** The partition's file holding the cleaner's first dirty offset. */
export const CLEANER_CHECKPOINT_FILE = "cleaner-offset.checkpoint";
const CHECKPOINT_HEADER = "ferry-cleaner-checkpoint 1";

/** Broker settings of the cleaner (Kafka's log.cleaner.*). */
export interface CleanerSettings {
  /** log.cleaner.dedupe.buffer.size: memory of the key map. */
  dedupeBufferBytes: number;
  /** log.cleaner.io.buffer.load.factor: how full the key map may get. */
  loadFactor: number;
  /** log.cleaner.backoff.ms: sleep when no log needs cleaning. */
  backoffMs: number;
  /** log.cleaner.io.max.bytes.per.second: read rate limit (Infinity for none). */
  ioMaxBytesPerSecond: number;
  /** Bytes of log per slice of work between yields to the event loop (default 256 KiB). */
  sliceBytes?: number;
}

/** A log the cleaner may clean, with a name for logs and results. */
export interface CleanableLog {
  name: string;
  log: PartitionLog;
}

/** Why a log was picked, and how dirty it was. */
export interface CleaningChoice {
  name: string;
  log: PartitionLog;
  firstDirty: number;
  uncleanable: number;
  cleanBytes: number;
  cleanableBytes: number;
  dirtyRatio: number;
  reason: "dirty-ratio" | "max-compaction-lag" | "delete-horizon";
}

export interface CleanerOptions {
  logs: () => Iterable<CleanableLog>;
  settings: CleanerSettings;
  logger?: Logger;
  now?: () => number;
  /** Called after each log cleaned (tests, metrics). */
  onCleaned?: (choice: CleaningChoice, result: CleanResult) => void;
}

interface LogCleanState {
  firstDirty: number | null;
  /** Delete horizon of the earliest tombstone or marker written by the last cleaning. */
  earliestHorizon: number;
  /** Set after a cleaning failed: Kafka's "uncleanable partition", skipped until restart. */
  failed: boolean;
  txnEvents: TxnEventCache;
  firstBatchTimestamps: WeakMap<Segment, number>;
}

/** Thrown by pace() when the cleaner is closing. */
class CleanerStopped extends Error {}

export class LogCleaner {
  private readonly opts: CleanerOptions;
  private readonly now: () => number;
  private readonly perLog = new WeakMap<PartitionLog, LogCleanState>();
  private map: OffsetMap | null = null;
  private closing = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ioWindowStart = 0;
  private ioBytes = 0;
  /** Running totals since start. */
  readonly totals = { rounds: 0, bytesRead: 0, bytesWritten: 0, failures: 0 };

  constructor(opts: CleanerOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  /** Starts the background loop. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops the loop, abandoning a cleaning in progress (its files are removed or recovered), and waits for it. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  /** Picks the log to clean now, or null. */
  async chooseLog(): Promise<CleaningChoice | null> {
    let best: CleaningChoice | null = null;
    for (const { name, log } of this.opts.logs()) {
      if (!isCompacted(log.config)) continue;
      const choice = await this.assess(name, log);
      if (choice === null) continue;
      if (best === null || rank(choice) > rank(best)) best = choice;
    }
    return best;
  }

  /** One round: cleans the dirtiest log if one qualifies; null when none did. */
  async cleanOnce(): Promise<{ choice: CleaningChoice; result: CleanResult } | null> {
    const choice = await this.chooseLog();
    if (choice === null) return null;
    const st = this.stateOf(choice.log);
    const access = choice.log.cleanerAccess();
    const now = this.now();
    this.ioWindowStart = performance.now();
    this.ioBytes = 0;
    let result: CleanResult;
    try {
      result = await cleanLog(
        access,
        { firstDirty: choice.firstDirty, uncleanable: choice.uncleanable },
        {
          map: this.mapFor(choice.cleanableBytes),
          now,
          pace: (bytes) => {
            if (!access.isOpen()) throw new CleanerStopped(`${choice.name} was closed`);
            return this.pace(bytes);
          },
          txnEvents: st.txnEvents,
          ...(this.opts.settings.sliceBytes !== undefined
            ? { sliceBytes: this.opts.settings.sliceBytes }
            : {}),
        },
      );
    } catch (err) {
      if (this.closing || err instanceof CleanerStopped || !access.isOpen()) return null;
      st.failed = true;
      this.totals.failures++;
      this.opts.logger?.error("log cleaning failed; the partition is not cleaned again until restart", {
        log: choice.name,
        error: err instanceof Error ? err.message : String(err),
      });
      return null;
    }
    st.firstDirty = result.endOffset;
    await writeCleanerCheckpoint(choice.log.dir, result.endOffset);
    // A horizon cleaning that left a due horizon behind would only repeat itself.
    st.earliestHorizon =
      choice.reason === "delete-horizon" && result.earliestDeleteHorizon <= now
        ? Infinity
        : result.earliestDeleteHorizon;
    this.totals.rounds++;
    this.totals.bytesRead += result.bytesRead;
    this.totals.bytesWritten += result.bytesWritten;
    this.opts.logger?.info("log cleaned", {
      log: choice.name,
      reason: choice.reason,
      dirtyRatio: round(choice.dirtyRatio),
      endOffset: result.endOffset,
      bytesRead: result.bytesRead,
      bytesWritten: result.bytesWritten,
      groups: result.groups,
      ms: Math.round(result.totalMs),
    });
    this.opts.onCleaned?.(choice, result);
    return { choice, result };
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      let cleaned = false;
      try {
        cleaned = (await this.cleanOnce()) !== null;
      } catch (err) {
        this.opts.logger?.error("log cleaner round failed", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
      if (!cleaned && !this.closing) await this.sleep(this.opts.settings.backoffMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
      this.timer.unref();
    });
  }

  /** Between slices: stop when closing, keep to the I/O rate, and let produce and fetch run. */
  private async pace(bytes: number): Promise<void> {
    if (this.closing) throw new CleanerStopped("the log cleaner is closing");
    this.ioBytes += bytes;
    const rate = this.opts.settings.ioMaxBytesPerSecond;
    const aheadMs = Number.isFinite(rate)
      ? (this.ioBytes / rate) * 1000 - (performance.now() - this.ioWindowStart)
      : 0;
    if (aheadMs > 1) await new Promise((r) => setTimeout(r, aheadMs));
    else await yieldToEventLoop();
    if (this.closing) throw new CleanerStopped("the log cleaner is closing");
  }

  /** A key map sized for the dirty bytes, within log.cleaner.dedupe.buffer.size; reused while big enough. */
  private mapFor(dirtyBytes: number): OffsetMap {
    const { dedupeBufferBytes, loadFactor } = this.opts.settings;
    // A slot per 32 bytes of dirty log at most (a keyed record takes more), in powers of two.
    const maxSlots = 2 ** Math.floor(Math.log2(Math.max(2, dedupeBufferBytes / OFFSET_MAP_SLOT_BYTES)));
    const wantedSlots = 2 ** Math.ceil(Math.log2(Math.max(4096, dirtyBytes / 32 / loadFactor)));
    const slots = Math.min(maxSlots, wantedSlots);
    if (this.map === null || this.map.slots < slots)
      this.map = new OffsetMap(slots * OFFSET_MAP_SLOT_BYTES, loadFactor);
    return this.map;
  }

  private stateOf(log: PartitionLog): LogCleanState {
    let st = this.perLog.get(log);
    if (st === undefined) {
      st = {
        firstDirty: null,
        earliestHorizon: Infinity,
        failed: false,
        txnEvents: new WeakMap(),
        firstBatchTimestamps: new WeakMap(),
      };
      this.perLog.set(log, st);
    }
    return st;
  }

  /** Kafka's cleanableOffsets and LogToClean: the range, the dirty ratio, and whether the log qualifies. */
  private async assess(name: string, log: PartitionLog): Promise<CleaningChoice | null> {
    const st = this.stateOf(log);
    if (st.failed) return null;
    const config = log.config;
    const segments = log.cleanerAccess().state.segments.slice();
    const state = log.cleanerAccess().state;
    const now = this.now();
    st.firstDirty ??= await readCleanerCheckpoint(log.dir);
    let firstDirty = st.firstDirty ?? log.logStartOffset;
    if (firstDirty < log.logStartOffset || firstDirty > log.logEndOffset) firstDirty = log.logStartOffset;
    const active = segments[segments.length - 1] as Segment;

    let upper = Math.min(log.lastStableOffset, active.baseOffset, state.recoveryPoint);
    const firstDirtyIndex = segmentIndexFor(segments, firstDirty);
    if (config.minCompactionLagMs > 0) {
      for (let i = firstDirtyIndex; i < segments.length - 1; i++) {
        const seg = segments[i] as Segment;
        await seg.loadIndexes();
        if (largestTimestamp(seg) > now - config.minCompactionLagMs) {
          upper = Math.min(upper, seg.baseOffset);
          break;
        }
      }
    }
    upper = Math.max(upper, firstDirty);
    // Only whole segments are cleaned.
    const uncleanable = Math.min(
      (segments[segmentIndexFor(segments, upper)] as Segment).baseOffset,
      active.baseOffset,
    );

    let cleanBytes = 0;
    let cleanableBytes = 0;
    const dirtyFrom = Math.min(firstDirty, uncleanable);
    for (let i = 0; i < segments.length - 1; i++) {
      const seg = segments[i] as Segment;
      if (seg.baseOffset < firstDirty) cleanBytes += seg.size;
      const next = (segments[i + 1] as Segment).baseOffset;
      if (next > dirtyFrom && seg.baseOffset < uncleanable) cleanableBytes += seg.size;
    }
    const total = cleanBytes + cleanableBytes;
    if (total === 0) return null;
    const dirtyRatio = cleanableBytes / total;

    let reason: CleaningChoice["reason"] | null = null;
    if (cleanableBytes > 0 && dirtyRatio >= config.minCleanableDirtyRatio) reason = "dirty-ratio";
    else if (
      cleanableBytes > 0 &&
      (await this.pastMaxCompactionLag(st, segments, firstDirtyIndex, now, config.maxCompactionLagMs))
    )
      reason = "max-compaction-lag";
    else if (st.earliestHorizon <= now && cleanBytes > 0) reason = "delete-horizon";
    if (reason === null) return null;
    return { name, log, firstDirty, uncleanable, cleanBytes, cleanableBytes, dirtyRatio, reason };
  }

  /** Whether the first batch of a dirty, inactive segment is older than max.compaction.lag.ms. */
  private async pastMaxCompactionLag(
    st: LogCleanState,
    segments: readonly Segment[],
    from: number,
    now: number,
    maxLagMs: number,
  ): Promise<boolean> {
    if (!(now - maxLagMs > 0)) return false;
    for (let i = from; i < segments.length - 1; i++) {
      const seg = segments[i] as Segment;
      if (seg.size === 0) continue;
      let ts = seg.firstBatchTimestamp >= 0 ? seg.firstBatchTimestamp : st.firstBatchTimestamps.get(seg);
      if (ts === undefined) {
        ts = readInt64(await seg.read(0, MAX_TIMESTAMP_OFFSET + 8), MAX_TIMESTAMP_OFFSET);
        st.firstBatchTimestamps.set(seg, ts);
      }
      if (ts > 0 && ts < now - maxLagMs) return true;
    }
    return false;
  }
}

function rank(c: CleaningChoice): number {
  // Logs over the ratio or the lag first, dirtiest first; tombstone-only cleanings last.
  return c.reason === "delete-horizon" ? -1 : c.dirtyRatio;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** The cleaner's first dirty offset for the partition in dir, or null when none is recorded. */
export async function readCleanerCheckpoint(dir: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(join(dir, CLEANER_CHECKPOINT_FILE), "utf8");
  } catch (err) {
    if (isCode(err, "ENOENT")) return null;
    throw err;
  }
  const m = new RegExp(`^${CHECKPOINT_HEADER}\\nfirstDirty (\\d+)\\n$`).exec(text);
  return m?.[1] !== undefined ? Number(m[1]) : null;
}

/** Records the cleaner's first dirty offset for the partition in dir (replaced atomically). */
export async function writeCleanerCheckpoint(dir: string, firstDirty: number): Promise<void> {
  await writeFileAtomic(
    join(dir, CLEANER_CHECKPOINT_FILE),
    Buffer.from(`${CHECKPOINT_HEADER}\nfirstDirty ${firstDirty}\n`),
  );
}
