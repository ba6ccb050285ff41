// One partition as a producer sees it: batches waiting to be sent, batches in flight, and for
// an idempotent producer the producer id/epoch and next sequence its batches are stamped with.
// The producer's sender decides from this state what may go out next; this module keeps the
// ordering rules (oldest first, retries before new batches, a bounded number in flight).
import { readBatchHeader } from "../protocol/records/batch-header.ts";
import { rewriteBatchHeader } from "../protocol/records/batch-rewrite.ts";

/** A producer id and epoch (InitProducerId's answer). */
export interface ProducerIdentity {
  producerId: bigint;
  producerEpoch: number;
}

/** What the broker answered for one appended batch. */
export interface BatchOutcome {
  /** -1n with acks=0 or when the broker reported a duplicate. */
  baseOffset: bigint;
  logAppendTime: bigint;
  logStartOffset: bigint;
}

/** One batch on its way: queued, in flight, or waiting to be retried. */
export interface PendingBatch {
  /** Enqueue order across the producer: a partition's batches go out in this order. */
  readonly order: number;
  readonly batch: Buffer;
  /** lastOffsetDelta + 1: the sequence numbers the batch takes. */
  readonly sequenceSpan: number;
  /** Attempts made so far. */
  attempts: number;
  /** The base sequence stamped in the header; -1 until the first send (idempotent only). */
  sequence: number;
  /** The identity stamped in the header (idempotent only). */
  identity: ProducerIdentity | undefined;
  readonly resolve: (outcome: BatchOutcome) => void;
  readonly reject: (error: Error) => void;
}

const MAX_SEQUENCE = 0x7fffffff;

/** Queues and sequences of one topic partition. */
export class PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  /** Waiting to be sent, oldest first; retried batches are put back in order. */
  readonly queued: PendingBatch[] = [];
  /** Sent and not yet answered, in send order. */
  readonly inFlight: PendingBatch[] = [];
  /** No batch is sent before this time (ms since the epoch): a retry's backoff. */
  retryAt = 0;
  /** The identity this partition's sequences belong to (idempotent only). */
  identity: ProducerIdentity | undefined;
  /**
   * The broker lost or rejected this partition's sequence state (OUT_OF_ORDER_SEQUENCE_NUMBER,
   * UNKNOWN_PRODUCER_ID with a gap): once nothing is in flight, the partition moves to a fresh
   * identity and restarts its sequences at 0, as Kafka's producers do after KIP-360.
   */
  needsNewIdentity = false;
  #nextSequence = 0;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  get idle(): boolean {
    return this.queued.length === 0 && this.inFlight.length === 0;
  }

  /**
   * Whether the head batch may be sent now. A retried batch waits for everything in flight to
   * come back, so that batches reach the broker again in sequence order; so does a move to a
   * new identity.
   */
  sendable(now: number, maxInFlight: number): boolean {
    const head = this.queued[0];
    if (head === undefined || now < this.retryAt || this.inFlight.length >= maxInFlight) return false;
    if (this.inFlight.length > 0 && (head.attempts > 0 || this.needsNewIdentity)) return false;
    return true;
  }

  /**
   * Whether the head batch waits for a (new) identity before it can be stamped. A partition
   * keeps its identity until the broker loses its sequence state: moving it for any other
   * reason could restamp a retried batch that was in fact written, and duplicate it.
   */
  wantsIdentity(): boolean {
    return this.identity === undefined || this.needsNewIdentity;
  }

  /**
   * Moves the partition to `identity` with sequences from 0; queued batches are stamped anew
   * when sent. Only when nothing is in flight: those batches' fate under the old identity must
   * be known first.
   */
  adoptIdentity(identity: ProducerIdentity): void {
    if (this.inFlight.length > 0) throw new Error("adoptIdentity with batches in flight");
    this.identity = identity;
    this.needsNewIdentity = false;
    this.#nextSequence = 0;
    for (const p of this.queued) {
      p.sequence = -1;
      p.identity = undefined;
    }
  }

  /** Takes the head batch into flight, stamping identity and sequence when it has none yet. */
  take(): PendingBatch | undefined {
    const p = this.queued[0];
    if (p === undefined) return undefined;
    const identity = this.identity;
    if (identity !== undefined && (p.sequence < 0 || p.identity !== identity)) {
      try {
        rewriteBatchHeader(p.batch, 0, { ...identity, baseSequence: this.#nextSequence });
      } catch (e) {
        // A batch whose CRC does not check out is refused alone, before it takes a sequence.
        this.queued.shift();
        p.reject(e instanceof Error ? e : new Error(String(e)));
        return undefined;
      }
      p.identity = identity;
      p.sequence = this.#nextSequence;
      const next = this.#nextSequence + p.sequenceSpan;
      this.#nextSequence = next > MAX_SEQUENCE ? next - MAX_SEQUENCE - 1 : next;
    }
    this.queued.shift();
    p.attempts++;
    this.inFlight.push(p);
    return p;
  }

  /** Removes an answered batch from flight. */
  land(p: PendingBatch): void {
    const i = this.inFlight.indexOf(p);
    if (i >= 0) this.inFlight.splice(i, 1);
  }

  /** Puts a batch back for another attempt, before every later batch. */
  requeue(p: PendingBatch): void {
    let i = this.queued.length;
    while (i > 0 && (this.queued[i - 1] as PendingBatch).order > p.order) i--;
    this.queued.splice(i, 0, p);
  }

  /** True when a batch enqueued before `p` is still unanswered or waiting for a retry. */
  hasEarlierUnresolved(p: PendingBatch): boolean {
    for (const q of this.inFlight) if (q.order < p.order) return true;
    for (const q of this.queued) if (q.order < p.order && q.attempts > 0) return true;
    return false;
  }
}

/** The sequence numbers a batch takes (lastOffsetDelta + 1). */
export function sequenceSpanOf(batch: Buffer): number {
  return readBatchHeader(batch, 0).lastOffsetDelta + 1;
}
