// Idempotent-producer state of one partition, as Kafka's ProducerStateManager keeps it: per
// producer id the epoch and the last 5 batches' sequence and offset ranges. A retried batch
// that matches one of them is answered with its original offsets instead of being written
// twice; a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch INVALID_PRODUCER_EPOCH.
//
// Two layers: `committed` reflects exactly the batches written to the log (it is what a
// snapshot records and what recovery rebuilds); `pending` holds producers with appends
// accepted but still being written, so a request right behind an in-flight one is checked
// against it. Transactions: a transactional batch opens the producer's transaction (its first
// offset is kept), a control batch (COMMIT or ABORT marker) closes it; the committed layer
// also indexes the open transactions, whose oldest first offset caps the last stable offset.
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import { crc32c } from "../../protocol/crc32c.ts";
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BATCH_LENGTH_OFFSET,
  CONTROL_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
} from "../../protocol/records/batch-header.ts";
import { ControlRecordType, readControlRecordType } from "../../protocol/records/control.ts";
import { readInt64, writeInt64 } from "./int64.ts";

/** Batches remembered per producer for duplicate detection (Kafka's NUM_BATCHES_TO_RETAIN). */
export const NUM_BATCHES_TO_RETAIN = 5;
const INT32_MAX = 0x7fffffff;
const NO_PRODUCER_EPOCH = -1;

/** One remembered batch of a producer. */
export interface ProducerBatch {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** The batch's maxTimestamp (producer expiration counts from it, as in Kafka). */
  readonly maxTimestamp: number;
  /** The broker time stamped on a LogAppendTime batch, else -1: what the original append answered. */
  readonly logAppendTime: number;
}

/** The state of one producer id. */
export interface ProducerEntry {
  producerId: number;
  producerEpoch: number;
  /** Epoch of the transaction coordinator that wrote the last marker (-1 until markers exist). */
  coordinatorEpoch: number;
  lastTimestamp: number;
  /** First offset of the producer's open transaction, -1 if none. */
  currentTxnFirstOffset: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN. */
  batches: ProducerBatch[];
}

/** What one accepted batch does to its producer's state. */
export interface ProducerUpdate {
  producerId: number;
  producerEpoch: number;
  transactional: boolean;
  /** A control batch (transaction marker): ends the open transaction. */
  control: boolean;
  /** A control batch whose record says ABORT (a COMMIT marker, or any other control record, is not). */
  abort: boolean;
  batch: ProducerBatch;
}

/** A transaction that a marker closed in the written log. */
export interface CompletedTxn {
  producerId: number;
  firstOffset: number;
  /** The marker's offset. */
  lastOffset: number;
  aborted: boolean;
}

/** The last sequence of a batch: baseSequence + lastOffsetDelta, wrapping past int32 max. */
export function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > INT32_MAX - lastOffsetDelta
    ? lastOffsetDelta - (INT32_MAX - baseSequence) - 1
    : baseSequence + lastOffsetDelta;
}

/**
 * What the stored batch at buf[at] (offsets assigned) does to its producer's state, or null
 * for a batch without a producer id. Used for appends and for replaying the log.
 */
export function producerUpdateFromBatch(buf: Buffer, at: number): ProducerUpdate | null {
  const producerId = readInt64(buf, at + PRODUCER_ID_OFFSET);
  if (!(producerId >= 0)) return null;
  const attributes = buf.readInt16BE(at + ATTRIBUTES_OFFSET);
  const baseOffset = readInt64(buf, at + BASE_OFFSET_OFFSET);
  const delta = buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
  const baseSequence = buf.readInt32BE(at + BASE_SEQUENCE_OFFSET);
  const maxTimestamp = readInt64(buf, at + MAX_TIMESTAMP_OFFSET);
  const control = (attributes & CONTROL_FLAG_MASK) !== 0;
  // Control batches are a few dozen bytes, so even a header-only scan holds the whole batch.
  const end = Math.min(buf.length, at + LOG_OVERHEAD + buf.readInt32BE(at + BATCH_LENGTH_OFFSET));
  return {
    producerId,
    producerEpoch: buf.readInt16BE(at + PRODUCER_EPOCH_OFFSET),
    transactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    control,
    abort: control && readControlRecordType(buf, at, end) === ControlRecordType.ABORT,
    batch: {
      firstSeq: baseSequence,
      lastSeq: lastSequence(baseSequence, delta),
      baseOffset,
      lastOffset: baseOffset + delta,
      maxTimestamp,
      logAppendTime: (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? maxTimestamp : -1,
    },
  };
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

function emptyEntry(producerId: number): ProducerEntry {
  return {
    producerId,
    producerEpoch: NO_PRODUCER_EPOCH,
    coordinatorEpoch: -1,
    lastTimestamp: -1,
    currentTxnFirstOffset: -1,
    batches: [],
  };
}

function copyEntry(e: ProducerEntry): ProducerEntry {
  return { ...e, batches: e.batches.slice() };
}

/** Applies u to e; for a marker, returns the first offset of the transaction it closed (-1 if none was open). */
function applyUpdate(e: ProducerEntry, u: ProducerUpdate): number {
  if (e.producerEpoch !== u.producerEpoch) {
    e.producerEpoch = u.producerEpoch;
    e.batches = [];
  }
  e.lastTimestamp = u.batch.maxTimestamp;
  if (u.control) {
    const first = e.currentTxnFirstOffset;
    e.currentTxnFirstOffset = -1;
    return first;
  }
  if (e.batches.length >= NUM_BATCHES_TO_RETAIN) e.batches.shift();
  e.batches.push(u.batch);
  if (u.transactional && e.currentTxnFirstOffset < 0) e.currentTxnFirstOffset = u.batch.baseOffset;
  return -1;
}

export class ProducerStateManager {
  private readonly committed = new Map<number, ProducerEntry>();
  /** Producers with a transaction open in the written log: producer id → its first offset. */
  private readonly ongoing = new Map<number, number>();
  private readonly pending = new Map<number, { entry: ProducerEntry; inFlight: number }>();

  /** The newest state of a producer, in-flight appends included. */
  latest(producerId: number): ProducerEntry | undefined {
    return this.pending.get(producerId)?.entry ?? this.committed.get(producerId);
  }

  /** A copy of a producer's newest state, for tests and the transaction coordinator. */
  producerState(producerId: number): ProducerEntry | undefined {
    const e = this.latest(producerId);
    return e === undefined ? undefined : copyEntry(e);
  }

  /** Producers whose state reflects written batches. */
  get size(): number {
    return this.committed.size;
  }

  /**
   * Checks a client batch (Kafka's ProducerAppendInfo with origin CLIENT). Returns the
   * original batch when this one is a retry of one of the last five; throws
   * INVALID_PRODUCER_EPOCH or OUT_OF_ORDER_SEQUENCE_NUMBER; returns null when it may be
   * appended. A producer we know nothing about may start at any sequence: Kafka 3.x/4.x
   * accept that too (its state may have expired or been deleted with old segments), and
   * no longer answer UNKNOWN_PRODUCER_ID.
   */
  checkClientBatch(
    producerId: number,
    epoch: number,
    firstSeq: number,
    lastSeq: number,
  ): ProducerBatch | null {
    const e = this.latest(producerId) ?? emptyEntry(producerId);
    if (epoch === e.producerEpoch) {
      for (const b of e.batches) if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) return b;
    }
    this.checkEpoch(producerId, epoch, e.producerEpoch);
    if (epoch !== e.producerEpoch) {
      if (firstSeq !== 0 && e.producerEpoch !== NO_PRODUCER_EPOCH) {
        throw new KafkaError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `producer ${producerId} started epoch ${epoch} at sequence ${firstSeq}; a new epoch starts at 0`,
        );
      }
      return null;
    }
    const last = e.batches.length > 0 ? (e.batches[e.batches.length - 1] as ProducerBatch).lastSeq : -1;
    if (e.producerEpoch !== NO_PRODUCER_EPOCH && !inSequence(last, firstSeq)) {
      throw new KafkaError(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `producer ${producerId} sent sequence ${firstSeq} after ${last}`,
      );
    }
    return null;
  }

  /** Refuses an epoch older than the producer's current one (all origins but replication). */
  checkEpoch(
    producerId: number,
    epoch: number,
    current = this.latest(producerId)?.producerEpoch ?? NO_PRODUCER_EPOCH,
  ): void {
    if (epoch < current) {
      throw new KafkaError(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `producer ${producerId} has epoch ${epoch}, older than its current epoch ${current}`,
      );
    }
  }

  /** Records an accepted batch whose write is under way. */
  stage(u: ProducerUpdate): void {
    let p = this.pending.get(u.producerId);
    if (p === undefined) {
      const base = this.committed.get(u.producerId);
      p = { entry: base === undefined ? emptyEntry(u.producerId) : copyEntry(base), inFlight: 0 };
      this.pending.set(u.producerId, p);
    }
    applyUpdate(p.entry, u);
    p.inFlight++;
  }

  /** Records a staged batch as written (writes complete in append order); returns the transaction a marker closed. */
  commit(u: ProducerUpdate): CompletedTxn | null {
    const completed = this.replay(u);
    const p = this.pending.get(u.producerId);
    if (p !== undefined && --p.inFlight <= 0) this.pending.delete(u.producerId);
    return completed;
  }

  /**
   * Applies a batch found in the log (recovery, replicas), without checks, as Kafka's
   * replication origin does. Returns the transaction a marker closed, or null.
   */
  replay(u: ProducerUpdate): CompletedTxn | null {
    let e = this.committed.get(u.producerId);
    if (e === undefined) {
      e = emptyEntry(u.producerId);
      this.committed.set(u.producerId, e);
    }
    const closed = applyUpdate(e, u);
    if (e.currentTxnFirstOffset >= 0) this.ongoing.set(u.producerId, e.currentTxnFirstOffset);
    if (!u.control || closed < 0) return null;
    this.ongoing.delete(u.producerId);
    return {
      producerId: u.producerId,
      firstOffset: closed,
      lastOffset: u.batch.baseOffset,
      aborted: u.abort,
    };
  }

  /** The open transactions of the written log: producer id → first offset. */
  openTransactions(): ReadonlyMap<number, number> {
    return this.ongoing;
  }

  /** Forgets every staged batch (their writes failed; the log is going offline). */
  dropPending(): void {
    this.pending.clear();
  }

  /** Drops producers idle for producer.id.expiration.ms (none with an open transaction or a write in flight). */
  removeExpired(now: number, expirationMs: number): number {
    let removed = 0;
    for (const [pid, e] of this.committed) {
      if (e.currentTxnFirstOffset < 0 && !this.pending.has(pid) && now - e.lastTimestamp >= expirationMs) {
        this.committed.delete(pid);
        removed++;
      }
    }
    return removed;
  }

  /** The first offset of the oldest open transaction, or -1 (the last stable offset is capped by it). */
  firstUnstableOffset(): number {
    let first = -1;
    for (const offset of this.ongoing.values()) if (first < 0 || offset < first) first = offset;
    return first;
  }

  /** The committed state as snapshot file bytes (version, CRC-32C, entries). */
  snapshot(): Buffer {
    let size = 2 + 4 + 4;
    for (const e of this.committed.values()) size += ENTRY_BYTES + e.batches.length * BATCH_BYTES;
    const buf = Buffer.alloc(size);
    buf.writeInt16BE(SNAPSHOT_VERSION, 0);
    buf.writeInt32BE(this.committed.size, 6);
    let pos = 10;
    for (const e of this.committed.values()) {
      writeInt64(buf, pos, e.producerId);
      buf.writeInt16BE(e.producerEpoch, pos + 8);
      buf.writeInt32BE(e.coordinatorEpoch, pos + 10);
      writeInt64(buf, pos + 14, e.lastTimestamp);
      writeInt64(buf, pos + 22, e.currentTxnFirstOffset);
      buf.writeInt8(e.batches.length, pos + 30);
      pos += ENTRY_BYTES;
      for (const b of e.batches) {
        buf.writeInt32BE(b.firstSeq, pos);
        buf.writeInt32BE(b.lastSeq, pos + 4);
        writeInt64(buf, pos + 8, b.baseOffset);
        writeInt64(buf, pos + 16, b.lastOffset);
        writeInt64(buf, pos + 24, b.maxTimestamp);
        writeInt64(buf, pos + 32, b.logAppendTime);
        pos += BATCH_BYTES;
      }
    }
    buf.writeUInt32BE(crc32c(buf, 6, buf.length), 2);
    return buf;
  }

  /** Loads a snapshot into an empty manager; false (and nothing loaded) if the bytes are not a valid snapshot. */
  loadSnapshot(buf: Buffer): boolean {
    if (buf.length < 10 || buf.readInt16BE(0) !== SNAPSHOT_VERSION) return false;
    if (crc32c(buf, 6, buf.length) !== buf.readUInt32BE(2)) return false;
    const count = buf.readInt32BE(6);
    const loaded: ProducerEntry[] = [];
    let pos = 10;
    for (let i = 0; i < count; i++) {
      if (pos + ENTRY_BYTES > buf.length) return false;
      const n = buf.readInt8(pos + 30);
      const e: ProducerEntry = {
        producerId: readInt64(buf, pos),
        producerEpoch: buf.readInt16BE(pos + 8),
        coordinatorEpoch: buf.readInt32BE(pos + 10),
        lastTimestamp: readInt64(buf, pos + 14),
        currentTxnFirstOffset: readInt64(buf, pos + 22),
        batches: [],
      };
      pos += ENTRY_BYTES;
      if (n < 0 || n > NUM_BATCHES_TO_RETAIN || pos + n * BATCH_BYTES > buf.length) return false;
      for (let j = 0; j < n; j++) {
        e.batches.push({
          firstSeq: buf.readInt32BE(pos),
          lastSeq: buf.readInt32BE(pos + 4),
          baseOffset: readInt64(buf, pos + 8),
          lastOffset: readInt64(buf, pos + 16),
          maxTimestamp: readInt64(buf, pos + 24),
          logAppendTime: readInt64(buf, pos + 32),
        });
        pos += BATCH_BYTES;
      }
      loaded.push(e);
    }
    if (pos !== buf.length) return false;
    this.committed.clear();
    this.ongoing.clear();
    for (const e of loaded) {
      this.committed.set(e.producerId, e);
      if (e.currentTxnFirstOffset >= 0) this.ongoing.set(e.producerId, e.currentTxnFirstOffset);
    }
    return true;
  }

  /** Forgets everything (a snapshot failed to load part-way, or the log was emptied). */
  clear(): void {
    this.committed.clear();
    this.ongoing.clear();
    this.pending.clear();
  }
}

const SNAPSHOT_VERSION = 1;
// pid 8, epoch 2, coordinatorEpoch 4, lastTimestamp 8, currentTxnFirstOffset 8, batch count 1.
const ENTRY_BYTES = 31;
// firstSeq 4, lastSeq 4, baseOffset 8, lastOffset 8, maxTimestamp 8, logAppendTime 8.
const BATCH_BYTES = 40;
