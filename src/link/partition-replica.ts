// One source partition a link copies: where it reads and writes, its offset map (translation
// mode), and the counters behind /status and /metrics.
import { OffsetMap, type OffsetRun } from "./offset-map.ts";

export type ReplicaMode = "mirror" | "translate";

/** A range of source records the link could not copy because the source had deleted them. */
export interface LostRange {
  from: number;
  to: number;
  at: number;
}

export class PartitionReplica {
  readonly sourceTopic: string;
  readonly partition: number;
  readonly targetTopic: string;
  readonly mode: ReplicaMode;
  /** Translation mode only. */
  readonly offsetMap = new OffsetMap();
  /** Translation mode: runs changed since the last checkpoint write. */
  readonly dirtyRuns = new Set<OffsetRun>();
  /** Translation mode: the checkpoint changed since it was last written. */
  dirty = false;
  /** Translation mode: what the target must be scanned for before writing again (after a crash or a failed write). */
  needsResync = false;

  /** Next source offset to fetch (may run ahead of what is written). */
  fetchOffset = 0;
  /** Every source record below this is on the target or deliberately dropped. */
  writtenOffset = 0;
  /** Translation mode: where the next copied record lands on the target (if the link is its only writer). */
  targetNext = 0;
  /** Bumped whenever fetchOffset is reset, so answers to older fetches are ignored. */
  generation = 0;
  /** The source's high watermark (or last stable offset, read_committed) at the last fetch. */
  sourceEnd = -1;
  sourceLogStart = -1;
  /** Not fetched before this time (ms) after an error. */
  retryAt = 0;
  paused = false;
  /** Started: a checkpoint exists and the target topic is ready. */
  ready = false;
  removed = false;
  lastError: { message: string; code?: number; at: number } | undefined;

  recordsCopied = 0;
  bytesCopied = 0;
  batchesCopied = 0;
  recordsSkipped = 0;
  duplicates = 0;
  readonly lost: LostRange[] = [];
  lostRecords = 0;
  /** When the partition was last seen with nothing left to copy. */
  caughtUpAt = Date.now();
  /** Timestamp (ms) of the oldest fetched record not yet written, or -1. */
  pendingSince = -1;
  lastLatencyMs = 0;

  constructor(sourceTopic: string, partition: number, targetTopic: string, mode: ReplicaMode) {
    this.sourceTopic = sourceTopic;
    this.partition = partition;
    this.targetTopic = targetTopic;
    this.mode = mode;
  }

  get key(): string {
    return `${this.sourceTopic}/${this.partition}`;
  }

  /** Source records not on the target yet (counting offsets, so gaps count too). */
  get lag(): number {
    return this.sourceEnd < 0 ? 0 : Math.max(0, this.sourceEnd - this.writtenOffset);
  }

  /** The age (ms) of the oldest source record not yet on the target: the data a failover now would lose. */
  rpoMs(now: number): number {
    if (this.lag === 0) return 0;
    if (this.pendingSince >= 0) return Math.max(0, now - this.pendingSince);
    return Math.max(0, now - this.caughtUpAt);
  }

  /** Restarts fetching at writtenOffset (after a failed write or a reset). */
  rewind(): void {
    this.fetchOffset = this.writtenOffset;
    this.generation++;
    this.pendingSince = -1;
  }

  fail(message: string, code: number | undefined, backoffMs: number): void {
    this.lastError = { message, ...(code === undefined ? {} : { code }), at: Date.now() };
    this.retryAt = Date.now() + backoffMs;
    this.rewind();
  }
}
