// Producing to a cluster: produceRaw sends pre-built record batches unchanged (the link's
// path), or, when idempotent, with only producer id/epoch/sequence rewritten in the header;
// send() builds batches from records. A sender drains per-partition queues into one Produce
// request per leader broker (one batch per partition per request, as Kafka requires), with a
// bounded number of requests in flight per partition and ordered, sequence-safe retries.
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { ApiKey } from "../protocol/generated/index.ts";
import { encodeBatch } from "../protocol/records/batch-codec.ts";
import { iterateBatches } from "../protocol/records/batch-header.ts";
import type { RecordInput } from "../protocol/records/record.ts";
import type { BrokerConnection } from "./broker-connection.ts";
import type { Cluster } from "./cluster.ts";
import { BrokerError, ClientClosedError, PartitionError, isStaleMetadata } from "./errors.ts";
import { partitionForKey } from "./partitioner.ts";
import {
  PartitionQueue,
  sequenceSpanOf,
  type BatchOutcome,
  type PendingBatch,
  type ProducerIdentity,
} from "./producer-partition.ts";
import { backoffMs, shouldRetry } from "./retry.ts";
import { FramePool } from "../net/frame-pool.ts";

export type { ProducerIdentity } from "./producer-partition.ts";

/** Kafka's acks: 0 (no answer), 1 (leader), -1 (all in-sync replicas). */
export type Acks = 0 | 1 | -1;

export interface ProducerOptions {
  /** Default -1 ("all"); idempotence requires it. */
  acks?: Acks;
  /** Kafka's enable.idempotence (default false): producer id and per-partition sequences. */
  idempotent?: boolean;
  /** How long the broker may wait for replication (the Produce request's timeout). */
  ackTimeoutMs?: number;
  /**
   * Produce requests carrying a batch of the same partition at once (Kafka's
   * max.in.flight.requests.per.connection). Default 5 when idempotent (the most a broker
   * deduplicates), 1 otherwise: without idempotence a retry behind another request in flight
   * could reorder records, so ordering is kept unless this is raised.
   */
  maxInFlightPerPartition?: number;
  /**
   * Called whenever an idempotent producer obtains a producer id (the first, and each after a
   * reset), before any batch is written with it; a returned promise is awaited, so a caller
   * can record the id first (the link does). A rejection fails the batches waiting for the id.
   */
  onIdentity?: (identity: ProducerIdentity) => void | Promise<void>;
}

export interface ProduceEntry {
  topic: string;
  partition: number;
  /** One or more v2 record batches, back to back. Idempotent producers rewrite their headers in place. */
  batches: Buffer;
}

export interface ProduceResult {
  topic: string;
  partition: number;
  /** Offset of the first record written; -1n with acks=0 or when the broker reported a duplicate. */
  baseOffset: bigint;
  /** -1n unless the topic uses LogAppendTime. */
  logAppendTime: bigint;
  logStartOffset: bigint;
}

/** A record for send(): a RecordInput, optionally pinned to a partition. */
export interface ProducerRecord extends RecordInput {
  partition?: number;
}

export interface SendOptions {
  /** Every record goes to this partition (else: the record's, else by key hash, else round robin). */
  partition?: number;
  /** CompressionCodec id; default none. */
  compression?: number;
}

/** Kafka's cap on idempotent requests in flight per partition: brokers remember five batches. */
export const MAX_IDEMPOTENT_IN_FLIGHT = 5;

/** Smallest class of the producer's batch pool: smaller batches get fresh memory. */
const BATCH_POOL_MIN_CLASS_BYTES = 16 * 1024;
/** Free batch memory a producer keeps for reuse. */
const BATCH_POOL_BYTES = 8 * 1024 * 1024;

// Answers meaning the broker's sequence state for our producer id does not match ours.
const SEQUENCE_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  ErrorCode.UNKNOWN_PRODUCER_ID,
]);
// Answers meaning our epoch is no longer the producer id's current one.
const EPOCH_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.PRODUCER_FENCED,
]);

interface Unit {
  queue: PartitionQueue;
  pending: PendingBatch;
}

/** A producer on a Cluster (which owns the connections); close() waits for what was sent. */
export class Producer {
  readonly acks: Acks;
  readonly idempotent: boolean;
  readonly maxInFlightPerPartition: number;
  readonly #cluster: Cluster;
  readonly #ackTimeoutMs: number;
  readonly #onIdentity: ((identity: ProducerIdentity) => void | Promise<void>) | undefined;
  readonly #partitions = new Map<string, PartitionQueue>();
  #current: ProducerIdentity | undefined;
  #renewal: Promise<ProducerIdentity> | undefined;
  #order = 0;
  #roundRobin = 0;
  #outstanding = 0;
  #idleWaiters: (() => void)[] = [];
  #scheduled = false;
  #draining = false;
  #drainAgain = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryTimerAt = Infinity;
  #closed = false;
  /**
   * Memory for the batches send() builds, given back once the broker has acknowledged them (the
   * request was then written out in full, an attempt that timed out closed its connection, and
   * nothing else holds the batch). Without it each batch is fresh external memory, and V8 runs a
   * full collection every few tens of MB.
   */
  readonly #batchPool = new FramePool(BATCH_POOL_BYTES, BATCH_POOL_MIN_CLASS_BYTES);
  readonly #allocateBatch = (size: number): Buffer => this.#batchPool.take(size);

  constructor(cluster: Cluster, options: ProducerOptions = {}) {
    this.#cluster = cluster;
    this.acks = options.acks ?? -1;
    this.idempotent = options.idempotent ?? false;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
    this.#onIdentity = options.onIdentity;
    this.maxInFlightPerPartition =
      options.maxInFlightPerPartition ?? (this.idempotent ? MAX_IDEMPOTENT_IN_FLIGHT : 1);
    if (this.idempotent && this.acks !== -1) throw new RangeError("an idempotent producer needs acks=-1");
    const m = this.maxInFlightPerPartition;
    if (!Number.isInteger(m) || m < 1 || (this.idempotent && m > MAX_IDEMPOTENT_IN_FLIGHT)) {
      throw new RangeError(
        `maxInFlightPerPartition must be 1..${this.idempotent ? MAX_IDEMPOTENT_IN_FLIGHT : "n"}, got ${m}`,
      );
    }
  }

  /**
   * The producer id and epoch new partitions of an idempotent producer use (InitProducerId on
   * first use). A partition whose sequence state the broker lost moves to a fresh one.
   */
  producerIdentity(): Promise<ProducerIdentity> {
    if (this.#current !== undefined) return Promise.resolve(this.#current);
    return this.#renewIdentity(undefined);
  }

  /** Sends pre-built batches to one partition; see produceRawMany. */
  async produceRaw(topic: string, partition: number, batches: Buffer): Promise<ProduceResult> {
    const [result] = await this.produceRawMany([{ topic, partition, batches }]);
    if (result === undefined) throw new Error("produceRawMany returned no result");
    return result;
  }

  /**
   * Sends pre-built batches to several partitions. Batches join their partition's queue in
   * call order; the sender puts one batch per partition into each Produce request to the
   * partition's leader. Retriable errors are retried with the same bytes (and, idempotent,
   * the same sequences). Resolves once every batch is acknowledged; rejects with the first
   * batch's error that may not be retried (the other batches still complete or fail alone).
   */
  async produceRawMany(entries: readonly ProduceEntry[]): Promise<ProduceResult[]> {
    if (this.#closed) throw new ClientClosedError("producer");
    const split = entries.map((e) => splitBatches(e));
    const promises = split.map((batches, i) => {
      const e = entries[i] as ProduceEntry;
      return batches.map((batch) => this.#enqueue(e.topic, e.partition, batch));
    });
    const outcomes = await Promise.all(promises.map((list) => Promise.all(list)));
    return entries.map((e, i) => {
      const list = outcomes[i] ?? [];
      const first = list[0];
      const last = list[list.length - 1];
      return {
        topic: e.topic,
        partition: e.partition,
        baseOffset: first?.baseOffset ?? -1n,
        logAppendTime: last?.logAppendTime ?? -1n,
        logStartOffset: last?.logStartOffset ?? -1n,
      };
    });
  }

  /** Builds batches from records (one per partition) and produces them. */
  async send(
    topic: string,
    records: readonly ProducerRecord[],
    options: SendOptions = {},
  ): Promise<ProduceResult[]> {
    if (this.#closed) throw new ClientClosedError("producer");
    let partitionCount = 0;
    const needsCount = options.partition === undefined && records.some((r) => r.partition === undefined);
    if (needsCount) {
      const meta = await this.#cluster.withRetries(() => this.#cluster.topic(topic));
      partitionCount = meta.partitions.length;
    }
    const byPartition = new Map<number, RecordInput[]>();
    for (const record of records) {
      const partition =
        options.partition ??
        record.partition ??
        (record.key != null
          ? partitionForKey(record.key, partitionCount)
          : this.#roundRobin++ % partitionCount);
      let list = byPartition.get(partition);
      if (list === undefined) byPartition.set(partition, (list = []));
      list.push(record);
    }
    const compression = options.compression ?? 0;
    return this.produceRawMany(
      [...byPartition].map(([partition, list]) => ({
        topic,
        partition,
        batches: encodeBatch({ records: list, compression, allocate: this.#allocateBatch }),
      })),
    );
  }

  /** Resolves once every batch handed over so far is acknowledged or has failed. */
  flush(): Promise<void> {
    if (this.#outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Refuses new sends and waits for the ones under way (the cluster stays open). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    clearTimeout(this.#retryTimer);
  }

  #enqueue(topic: string, partition: number, batch: Buffer): Promise<BatchOutcome> {
    const key = `${topic}\u0000${partition}`;
    let queue = this.#partitions.get(key);
    if (queue === undefined) {
      queue = new PartitionQueue(topic, partition);
      this.#partitions.set(key, queue);
    }
    const q = queue;
    this.#outstanding++;
    return new Promise<BatchOutcome>((resolve, reject) => {
      const settle = (): void => {
        if (--this.#outstanding === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
      };
      q.queued.push({
        order: this.#order++,
        batch,
        sequenceSpan: this.idempotent ? sequenceSpanOf(batch) : 0,
        attempts: 0,
        sequence: -1,
        identity: undefined,
        resolve: (outcome) => {
          settle();
          resolve(outcome);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      this.#schedule();
    });
  }

  /** Drains on the next turn of the event loop, so sends made together share requests. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    if (this.#draining) {
      this.#drainAgain = true;
      return;
    }
    this.#draining = true;
    try {
      do {
        this.#drainAgain = false;
        await this.#sendReady();
      } while (this.#drainAgain);
    } finally {
      this.#draining = false;
    }
  }

  /** Sends every batch that may go now, grouped by leader, one batch per partition per request. */
  async #sendReady(): Promise<void> {
    const now = Date.now();
    const max = this.maxInFlightPerPartition;
    const byBroker = new Map<BrokerConnection, PartitionQueue[]>();
    for (const q of this.#partitions.values()) {
      if (!q.sendable(now, max)) continue;
      if (this.idempotent && q.wantsIdentity()) {
        try {
          await this.#prepareIdentity(q);
        } catch (error) {
          this.#failQueued(q, error);
          continue;
        }
        if (!q.sendable(Date.now(), max)) continue;
      }
      let leader: BrokerConnection;
      try {
        leader = await this.#cluster.leaderFor(q.topic, q.partition);
      } catch (error) {
        this.#onRoutingFailure(q, error);
        continue;
      }
      let list = byBroker.get(leader);
      if (list === undefined) byBroker.set(leader, (list = []));
      list.push(q);
    }
    for (const [broker, queues] of byBroker) {
      for (;;) {
        const units: Unit[] = [];
        const at = Date.now();
        for (const q of queues) {
          if (!q.sendable(at, max)) continue;
          if (this.idempotent && q.wantsIdentity()) continue;
          const pending = q.take();
          if (pending !== undefined) units.push({ queue: q, pending });
        }
        if (units.length === 0) break;
        this.#request(broker, units);
      }
    }
    // Partitions backing off (now, or after a failure above) are woken by a timer.
    let wakeAt = Infinity;
    const after = Date.now();
    for (const q of this.#partitions.values()) {
      if (q.queued.length > 0 && q.retryAt > after) wakeAt = Math.min(wakeAt, q.retryAt);
    }
    if (wakeAt < Infinity) this.#wakeAt(wakeAt);
  }

  /**
   * Gives a partition the identity its next batch is stamped with: the producer's current
   * one, or a fresh one when the broker lost this partition's sequence state.
   */
  async #prepareIdentity(q: PartitionQueue): Promise<void> {
    if (q.inFlight.length > 0) return;
    let identity = await this.producerIdentity();
    if (q.needsNewIdentity && q.identity === identity) identity = await this.#renewIdentity(identity);
    if (q.inFlight.length === 0 && q.wantsIdentity()) q.adoptIdentity(identity);
  }

  /** InitProducerId for a producer id to replace `stale`; concurrent callers share one request. */
  #renewIdentity(stale: ProducerIdentity | undefined): Promise<ProducerIdentity> {
    if (this.#current !== undefined && this.#current !== stale) return Promise.resolve(this.#current);
    if (this.#renewal !== undefined) return this.#renewal;
    const renewal = this.#cluster
      .withRetries(async () => {
        const broker = await this.#cluster.anyBroker();
        const { body } = await broker.send(ApiKey.InitProducerId, () => ({
          transactionalId: null,
          transactionTimeoutMs: 60_000,
        }));
        if (body.errorCode !== 0) {
          throw new BrokerError(body.errorCode, "InitProducerId", { broker: broker.nodeId });
        }
        return { producerId: body.producerId, producerEpoch: body.producerEpoch };
      })
      .then(async (identity) => {
        await this.#onIdentity?.(identity);
        this.#current = identity;
        return identity;
      });
    this.#renewal = renewal;
    const clear = (): void => {
      if (this.#renewal === renewal) this.#renewal = undefined;
    };
    renewal.then(clear, clear);
    return renewal;
  }

  /** Sends one Produce request and files each batch's answer. */
  #request(broker: BrokerConnection, units: readonly Unit[]): void {
    const topics = new Map<string, { index: number; records: Buffer }[]>();
    for (const { queue, pending } of units) {
      let list = topics.get(queue.topic);
      if (list === undefined) topics.set(queue.topic, (list = []));
      list.push({ index: queue.partition, records: pending.batch });
    }
    const request = {
      transactionalId: null,
      acks: this.acks,
      timeoutMs: this.#ackTimeoutMs,
      topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
    };
    const done = (): void => this.#schedule();
    if (this.acks === 0) {
      broker
        .sendOneWay(ApiKey.Produce, () => request, { minVersion: 3 })
        .then(
          () => {
            for (const u of units)
              this.#onSuccess(u, { baseOffset: -1n, logAppendTime: -1n, logStartOffset: -1n });
            done();
          },
          (error: unknown) => {
            for (const u of units) this.#onFailure(u.queue, u.pending, error, -1n);
            done();
          },
        );
      return;
    }
    broker
      .send(ApiKey.Produce, () => request, { minVersion: 3 })
      .then(
        ({ body }) => {
          const answers = new Map<string, (typeof body.responses)[number]["partitionResponses"][number]>();
          for (const t of body.responses) {
            for (const p of t.partitionResponses) answers.set(`${t.name}\u0000${p.index}`, p);
          }
          for (const u of units) {
            const p = answers.get(`${u.queue.topic}\u0000${u.queue.partition}`);
            if (p === undefined) {
              const e = new PartitionError(
                ErrorCode.UNKNOWN_SERVER_ERROR,
                u.queue.topic,
                u.queue.partition,
                broker.nodeId,
                "no answer for the partition",
              );
              this.#onFailure(u.queue, u.pending, e, -1n);
            } else if (p.errorCode === 0 || p.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
              // A duplicate is a retry of a batch the broker already has: written, once.
              const duplicate = p.errorCode !== 0;
              this.#onSuccess(u, {
                baseOffset: duplicate ? -1n : p.baseOffset,
                logAppendTime: duplicate ? -1n : p.logAppendTimeMs,
                logStartOffset: p.logStartOffset,
              });
            } else {
              const e = new PartitionError(
                p.errorCode,
                u.queue.topic,
                u.queue.partition,
                broker.nodeId,
                p.errorMessage,
              );
              this.#onFailure(u.queue, u.pending, e, p.logStartOffset);
            }
          }
          done();
        },
        (error: unknown) => {
          for (const u of units) this.#onFailure(u.queue, u.pending, error, -1n);
          done();
        },
      );
  }

  #onSuccess(u: Unit, outcome: BatchOutcome): void {
    u.queue.land(u.pending);
    // Only send()'s own batches are the pool's (one batch per buffer); a caller's produceRaw
    // batch is left alone. With acks=0 nothing proves an earlier attempt is out of its socket's
    // queue (a timed-out one stays there, on a connection that is kept), so those go to the GC.
    if (this.acks !== 0) this.#batchPool.give(u.pending.batch);
    u.pending.resolve(outcome);
  }

  /**
   * Files a failed attempt: retried (put back in order, after a backoff), or rejected with
   * the error. For an idempotent producer, sequence errors follow Kafka's rules (KIP-360): a
   * batch behind an unresolved one just waits for it; the first unresolved batch means the
   * broker lost our sequence state, and the partition restarts its sequences under a fresh
   * producer id. Batches moved to a new id were rejected by the broker, never written, so
   * resending them cannot duplicate records.
   */
  #onFailure(q: PartitionQueue, p: PendingBatch, error: unknown, logStartOffset: bigint): void {
    q.land(p);
    const code = error instanceof KafkaError ? error.code : undefined;
    if (this.idempotent && code !== undefined && SEQUENCE_ERRORS.has(code)) {
      const unknownStart = code === ErrorCode.UNKNOWN_PRODUCER_ID && logStartOffset < 0n;
      if (p.identity === q.identity && !q.hasEarlierUnresolved(p) && !unknownStart) q.needsNewIdentity = true;
      this.#retry(q, p, error, true);
      return;
    }
    if (this.idempotent && code !== undefined && EPOCH_ERRORS.has(code)) {
      // Behind a batch already refused for its epoch, or stamped before a move: restamp and resend.
      if (q.needsNewIdentity || p.identity !== q.identity) {
        this.#retry(q, p, error, true);
        return;
      }
      q.needsNewIdentity = true;
      p.reject(error as KafkaError);
      return;
    }
    this.#retry(q, p, error, false);
  }

  /**
   * The partition's leader could not be found (no leader yet, unknown topic, closed cluster).
   * The attempt counts against the head batch; when it may not be retried, every waiting
   * batch of the partition fails with the error, as each would.
   */
  #onRoutingFailure(q: PartitionQueue, error: unknown): void {
    const head = q.queued[0];
    if (head === undefined) return;
    head.attempts++;
    if (shouldRetry(error, head.attempts, this.#cluster.retry) && !this.#cluster.closed) {
      if (error instanceof KafkaError && isStaleMetadata(error.code)) this.#cluster.invalidateMetadata();
      q.retryAt = Math.max(q.retryAt, Date.now() + backoffMs(this.#cluster.retry, head.attempts));
      return;
    }
    this.#failQueued(q, error);
  }

  #retry(q: PartitionQueue, p: PendingBatch, error: unknown, always: boolean): void {
    const retry = this.#cluster.retry;
    const allowed = always ? p.attempts <= retry.retries : shouldRetry(error, p.attempts, retry);
    if (!allowed || this.#cluster.closed) {
      p.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (error instanceof KafkaError && isStaleMetadata(error.code)) this.#cluster.invalidateMetadata();
    q.retryAt = Math.max(q.retryAt, Date.now() + backoffMs(retry, Math.max(1, p.attempts)));
    q.requeue(p);
  }

  /** Rejects a partition's waiting batches after its identity could not be obtained. */
  #failQueued(q: PartitionQueue, error: unknown): void {
    const e = error instanceof Error ? error : new Error(String(error));
    for (const p of q.queued.splice(0)) p.reject(e);
  }

  #wakeAt(at: number): void {
    if (at >= this.#retryTimerAt && this.#retryTimer !== undefined) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimerAt = at;
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined;
        this.#retryTimerAt = Infinity;
        this.#schedule();
      },
      Math.max(0, at - Date.now()),
    );
  }
}

/** The batches of an entry, as views of its buffer. */
function splitBatches(entry: ProduceEntry): Buffer[] {
  const out: Buffer[] = [];
  for (const span of iterateBatches(entry.batches)) {
    if (span.truncated) {
      throw new PartitionError(
        ErrorCode.CORRUPT_MESSAGE,
        entry.topic,
        entry.partition,
        undefined,
        "records end inside a batch",
      );
    }
    out.push(entry.batches.subarray(span.start, span.end));
  }
  return out;
}
