// Transactions as the log cleaner sees them. Which transactions were aborted is found from
// the log itself: a producer's transactional batches up to its ABORT marker are aborted (a
// COMMIT marker commits them). Each segment's transaction events are read once with a
// header scan and remembered while the segment exists. Then, batch by batch in offset order,
// TxnCleaningState decides as Kafka's cleaner does: aborted data goes; an ABORT marker stays
// while data of its transaction is still in the log, a COMMIT marker while any of its data is;
// after that a marker may go once delete.retention.ms has passed (the caller's horizon check).
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  CONTROL_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  PRODUCER_ID_OFFSET,
  TRANSACTIONAL_FLAG_MASK,
} from "../../protocol/records/batch-header.ts";
import { ControlRecordType } from "../../protocol/records/control.ts";
import { controlTypeOf } from "./cleaner-records.ts";
import { scanBatches } from "./file-scan.ts";
import { readInt64 } from "./int64.ts";
import type { Segment } from "./segment.ts";

/** An aborted transaction found in the log: producer, first data offset, marker offset. */
export interface CleanerAbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

/** A transactional batch (kind "data") or a marker, in log order. */
interface TxnEvent {
  producerId: number;
  baseOffset: number;
  lastOffset: number;
  kind: "data" | "commit" | "abort" | "other";
}

/** Transaction events of segments that no longer change (inactive ones), by segment. */
export type TxnEventCache = WeakMap<Segment, TxnEvent[]>;

/**
 * The aborted transactions of segments (oldest first), reading each segment up to its size
 * now; events of every segment but the last (the active one) are cached.
 */
export async function collectAbortedTxns(
  segments: readonly Segment[],
  cache: TxnEventCache,
): Promise<CleanerAbortedTxn[]> {
  const open = new Map<number, number>();
  const aborted: CleanerAbortedTxn[] = [];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as Segment;
    let events = cache.get(seg);
    if (events === undefined) {
      events = await scanTxnEvents(seg);
      if (i < segments.length - 1) cache.set(seg, events);
    }
    for (const e of events) {
      if (e.kind === "data") {
        if (!open.has(e.producerId)) open.set(e.producerId, e.baseOffset);
      } else if (e.kind === "abort" || e.kind === "commit") {
        if (e.kind === "abort") {
          const first = open.get(e.producerId) ?? e.lastOffset;
          aborted.push({ producerId: e.producerId, firstOffset: first, lastOffset: e.lastOffset });
        }
        open.delete(e.producerId);
      }
    }
  }
  aborted.sort((a, b) => a.firstOffset - b.firstOffset);
  return aborted;
}

/** The transactional batches and markers of a segment, from a header scan. */
async function scanTxnEvents(seg: Segment): Promise<TxnEvent[]> {
  const events: TxnEvent[] = [];
  if (seg.size === 0) return events;
  const fh = await seg.handle();
  const result = await scanBatches(
    fh,
    0,
    seg.size,
    (buf, at) => {
      const attributes = buf.readInt16BE(at + ATTRIBUTES_OFFSET);
      if ((attributes & TRANSACTIONAL_FLAG_MASK) === 0) return true;
      const baseOffset = readInt64(buf, at + BASE_OFFSET_OFFSET);
      const event: TxnEvent = {
        producerId: readInt64(buf, at + PRODUCER_ID_OFFSET),
        baseOffset,
        lastOffset: baseOffset + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET),
        kind: "data",
      };
      // Control batches are a few dozen bytes: a header scan always holds them whole.
      if ((attributes & CONTROL_FLAG_MASK) !== 0) event.kind = markerKind(controlTypeOf(buf, at));
      events.push(event);
      return true;
    },
    { headersOnly: true, chunkSize: 256 * 1024 },
  );
  if (result.stop === "invalid") throw new Error(`segment ${seg.logPath}: ${result.reason}`);
  return events;
}

function markerKind(type: number): TxnEvent["kind"] {
  if (type === ControlRecordType.ABORT) return "abort";
  if (type === ControlRecordType.COMMIT) return "commit";
  return "other";
}

/**
 * Kafka's CleanedTransactionMetadata: fed every batch of one pass in offset order, says
 * whether a data batch is aborted (discard it) and whether a marker's transaction has no data
 * left (the marker may go once its delete horizon passed).
 */
export class TxnCleaningState {
  private readonly aborted: readonly CleanerAbortedTxn[];
  private next = 0;
  private readonly ongoingCommitted = new Set<number>();
  /** Aborted transactions begun: producer id → whether a batch of it was seen in this pass. */
  private readonly ongoingAborted = new Map<number, boolean>();

  /** aborted: sorted by first offset. */
  constructor(aborted: readonly CleanerAbortedTxn[]) {
    this.aborted = aborted;
  }

  /** A data batch: true when it belongs to an aborted transaction. */
  onDataBatch(producerId: number, lastOffset: number, transactional: boolean): boolean {
    this.consumeUpTo(lastOffset);
    if (!transactional) return false;
    if (this.ongoingAborted.has(producerId)) {
      this.ongoingAborted.set(producerId, true);
      return true;
    }
    this.ongoingCommitted.add(producerId);
    return false;
  }

  /** A control batch of type (-1 for one with no record left): true when no data of its transaction was seen. */
  onControlBatch(producerId: number, lastOffset: number, type: number): boolean {
    this.consumeUpTo(lastOffset);
    if (type < 0) return true;
    if (type === ControlRecordType.ABORT) {
      const seen = this.ongoingAborted.get(producerId);
      this.ongoingAborted.delete(producerId);
      return seen !== true;
    }
    if (type === ControlRecordType.COMMIT) return !this.ongoingCommitted.delete(producerId);
    return false;
  }

  private consumeUpTo(offset: number): void {
    while (this.next < this.aborted.length) {
      const txn = this.aborted[this.next] as CleanerAbortedTxn;
      if (txn.firstOffset > offset) break;
      if (!this.ongoingAborted.has(txn.producerId)) this.ongoingAborted.set(txn.producerId, false);
      this.next++;
    }
  }
}
