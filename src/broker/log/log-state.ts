// The mutable state of one partition log, shared by the modules that each do one job on it
// (writer, reader, retention, recovery). Everything changes on the event loop only, so the
// state needs no locks; async steps re-check what they depend on after each await.
import type { FullLogConfig } from "./log-config.ts";
import type { ProducerStateManager } from "./producer-state.ts";
import type { Segment, SegmentLimits } from "./segment.ts";
import type { TailCache } from "./tail-cache.ts";
import type { AbortedTxnIndex } from "./txn-index.ts";

export interface LogState {
  readonly dir: string;
  config: FullLogConfig;
  readonly now: () => number;
  /** Partition leader epoch stamped on appended batches. */
  leaderEpoch: number;
  /** Sorted by base offset; the last one is the active segment. Never empty. */
  segments: Segment[];
  logStartOffset: number;
  /** The next offset to assign: accepted appends whose write is still under way included. */
  nextOffset: number;
  /** End of the written log: everything below is in the file and readable. */
  highWatermark: number;
  /** Segments ending at or below it are fsynced with their indexes; recovery skips them. */
  recoveryPoint: number;
  producers: ProducerStateManager;
  /** Aborted transactions whose markers are in the written log. */
  txnIndex: AbortedTxnIndex;
  tail: TailCache;
  /** Bytes written by appends since the log was opened (a waiting fetch compares two readings). */
  appendedBytes: number;
}

/** The segment receiving appends. */
export function activeSegment(state: LogState): Segment {
  return state.segments[state.segments.length - 1] as Segment;
}

/** Index of the last segment whose base offset is <= offset (0 when offset is below all). */
export function segmentIndexFor(segments: readonly Segment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((segments[mid] as Segment).baseOffset <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** The indexing settings segments take from the config. */
export function segmentLimits(config: FullLogConfig): SegmentLimits {
  return { indexIntervalBytes: config.indexIntervalBytes, segmentIndexBytes: config.segmentIndexBytes };
}
