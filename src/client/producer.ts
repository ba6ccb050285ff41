// Producing to a cluster: produceRaw sends pre-built record batches unchanged (the link's
// path), or, when idempotent, with only producer id/epoch/sequence rewritten in the header;
// send() builds batches from records. One Produce request per leader broker per round.
import { ErrorCode } from "../protocol/error-codes.ts";
import { ApiKey } from "../protocol/generated/index.ts";
import { encodeBatch } from "../protocol/records/batch-codec.ts";
import { iterateBatches, readBatchHeader } from "../protocol/records/batch-header.ts";
import { rewriteBatchHeader } from "../protocol/records/batch-rewrite.ts";
import type { RecordInput } from "../protocol/records/record.ts";
import type { BrokerConnection } from "./broker-connection.ts";
import type { Cluster } from "./cluster.ts";
import { BrokerError, PartitionError, isStaleMetadata } from "./errors.ts";
import { partitionForKey } from "./partitioner.ts";
import { backoffMs, shouldRetry, sleep } from "./retry.ts";

/** Kafka's acks: 0 (no answer), 1 (leader), -1 (all in-sync replicas). */
export type Acks = 0 | 1 | -1;

export interface ProducerOptions {
  /** Default -1 ("all"); idempotence requires it. */
  acks?: Acks;
  /** Kafka's enable.idempotence (default false): producer id and per-partition sequences. */
  idempotent?: boolean;
  /** How long the broker may wait for replication (the Produce request's timeout). */
  ackTimeoutMs?: number;
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

interface Unit {
  entry: number;
  topic: string;
  partition: number;
  batch: Buffer;
}

interface UnitResult {
  baseOffset: bigint;
  logAppendTime: bigint;
  logStartOffset: bigint;
}

const MAX_SEQUENCE = 0x7fffffff;

/** A producer on a Cluster; close() releases nothing but its state (the cluster owns connections). */
export class Producer {
  readonly acks: Acks;
  readonly idempotent: boolean;
  readonly #cluster: Cluster;
  readonly #ackTimeoutMs: number;
  readonly #sequences = new Map<string, number>();
  readonly #partitionTails = new Map<string, Promise<void>>();
  #producerId: Promise<{ producerId: bigint; producerEpoch: number }> | undefined;
  #roundRobin = 0;

  constructor(cluster: Cluster, options: ProducerOptions = {}) {
    this.#cluster = cluster;
    this.acks = options.acks ?? -1;
    this.idempotent = options.idempotent ?? false;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
    if (this.idempotent && this.acks !== -1) throw new RangeError("an idempotent producer needs acks=-1");
  }

  /** The producer id and epoch of an idempotent producer (InitProducerId on first use). */
  producerIdentity(): Promise<{ producerId: bigint; producerEpoch: number }> {
    if (this.#producerId === undefined) {
      const init = this.#cluster.withRetries(async () => {
        const broker = await this.#cluster.anyBroker();
        const { body } = await broker.send(ApiKey.InitProducerId, () => ({
          transactionalId: null,
          transactionTimeoutMs: 60_000,
        }));
        if (body.errorCode !== 0) {
          throw new BrokerError(body.errorCode, "InitProducerId", { broker: broker.nodeId });
        }
        return { producerId: body.producerId, producerEpoch: body.producerEpoch };
      });
      this.#producerId = init;
      init.catch(() => {
        if (this.#producerId === init) this.#producerId = undefined;
      });
    }
    return this.#producerId;
  }

  /** Sends pre-built batches to one partition; see produceRawMany. */
  async produceRaw(topic: string, partition: number, batches: Buffer): Promise<ProduceResult> {
    const [result] = await this.produceRawMany([{ topic, partition, batches }]);
    if (result === undefined) throw new Error("produceRawMany returned no result");
    return result;
  }

  /**
   * Sends pre-built batches to several partitions, grouped into one Produce request per leader.
   * Kafka takes one batch per partition per request, so an entry of n batches takes n rounds.
   * Retriable errors are retried with the same bytes (and, idempotent, the same sequences).
   */
  async produceRawMany(entries: readonly ProduceEntry[]): Promise<ProduceResult[]> {
    const units = entries.map((e, i) => splitBatches(e).map((batch) => ({ ...e, entry: i, batch })));
    const results: ProduceResult[] = entries.map((e) => ({
      topic: e.topic,
      partition: e.partition,
      baseOffset: -1n,
      logAppendTime: -1n,
      logStartOffset: -1n,
    }));
    const release = this.idempotent ? await this.#lockPartitions(entries) : () => undefined;
    try {
      const identity = this.idempotent ? await this.producerIdentity() : undefined;
      const rounds = Math.max(0, ...units.map((u) => u.length));
      for (let round = 0; round < rounds; round++) {
        const roundUnits = units.flatMap((u) => (round < u.length ? [u[round] as Unit] : []));
        if (identity !== undefined) for (const unit of roundUnits) this.#assignSequence(unit, identity);
        const outcomes = await this.#sendRound(roundUnits);
        roundUnits.forEach((unit, i) => {
          const r = results[unit.entry];
          const o = outcomes[i];
          if (r === undefined || o === undefined) return;
          if (round === 0) r.baseOffset = o.baseOffset;
          r.logAppendTime = o.logAppendTime;
          r.logStartOffset = o.logStartOffset;
        });
      }
    } finally {
      release();
    }
    return results;
  }

  /** Builds batches from records (one per partition) and produces them. */
  async send(
    topic: string,
    records: readonly ProducerRecord[],
    options: SendOptions = {},
  ): Promise<ProduceResult[]> {
    const meta = await this.#cluster.withRetries(() => this.#cluster.topic(topic));
    const count = meta.partitions.length;
    const byPartition = new Map<number, RecordInput[]>();
    for (const record of records) {
      const partition =
        options.partition ??
        record.partition ??
        (record.key != null ? partitionForKey(record.key, count) : this.#roundRobin++ % count);
      let list = byPartition.get(partition);
      if (list === undefined) byPartition.set(partition, (list = []));
      list.push(record);
    }
    const compression = options.compression ?? 0;
    return this.produceRawMany(
      [...byPartition].map(([partition, list]) => ({
        topic,
        partition,
        batches: encodeBatch({ records: list, compression }),
      })),
    );
  }

  /** Waits for partitions' earlier idempotent sends, so sequences stay in order. */
  async #lockPartitions(entries: readonly ProduceEntry[]): Promise<() => void> {
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const waits: Promise<void>[] = [];
    for (const key of new Set(entries.map((e) => `${e.topic}\u0000${e.partition}`))) {
      const tail = this.#partitionTails.get(key);
      if (tail !== undefined) waits.push(tail);
      this.#partitionTails.set(key, done);
      void done.then(() => {
        if (this.#partitionTails.get(key) === done) this.#partitionTails.delete(key);
      });
    }
    await Promise.all(waits);
    return release;
  }

  #assignSequence(unit: Unit, identity: { producerId: bigint; producerEpoch: number }): void {
    const key = `${unit.topic}\u0000${unit.partition}`;
    const sequence = this.#sequences.get(key) ?? 0;
    const header = readBatchHeader(unit.batch, 0);
    rewriteBatchHeader(unit.batch, 0, { ...identity, baseSequence: sequence });
    const next = sequence + header.lastOffsetDelta + 1;
    this.#sequences.set(key, next > MAX_SEQUENCE ? next - MAX_SEQUENCE - 1 : next);
  }

  /** Sends one batch per unit, retrying the failed units until all succeed or one may not. */
  async #sendRound(units: readonly Unit[]): Promise<UnitResult[]> {
    const outcomes: UnitResult[] = new Array<UnitResult>(units.length);
    let pending = units.map((unit, index) => ({ unit, index }));
    for (let attempt = 1; ; attempt++) {
      const failures: { unit: Unit; index: number; error: unknown }[] = [];
      const groups = new Map<BrokerConnection, { unit: Unit; index: number }[]>();
      for (const p of pending) {
        try {
          const leader = await this.#cluster.leaderFor(p.unit.topic, p.unit.partition);
          let group = groups.get(leader);
          if (group === undefined) groups.set(leader, (group = []));
          group.push(p);
        } catch (error) {
          failures.push({ ...p, error });
        }
      }
      await Promise.all(
        [...groups].map(async ([broker, group]) => {
          try {
            const answers = await this.#produceTo(
              broker,
              group.map((g) => g.unit),
            );
            group.forEach((g, i) => {
              const answer = answers[i];
              if (answer instanceof PartitionError) failures.push({ ...g, error: answer });
              else if (answer !== undefined) outcomes[g.index] = answer;
            });
          } catch (error) {
            for (const g of group) failures.push({ ...g, error });
          }
        }),
      );
      if (failures.length === 0) return outcomes;
      const fatal = failures.find((f) => !shouldRetry(f.error, attempt, this.#cluster.retry));
      if (fatal !== undefined || this.#cluster.closed) throw fatal?.error ?? failures[0]?.error;
      if (failures.some((f) => isStaleMetadata((f.error as { code: number }).code))) {
        this.#cluster.invalidateMetadata();
      }
      await sleep(backoffMs(this.#cluster.retry, attempt));
      pending = failures.map(({ unit, index }) => ({ unit, index }));
    }
  }

  /** One Produce request; per unit the outcome or the partition's error. */
  async #produceTo(
    broker: BrokerConnection,
    units: readonly Unit[],
  ): Promise<(UnitResult | PartitionError)[]> {
    const topics = new Map<string, { index: number; records: Buffer }[]>();
    for (const u of units) {
      let list = topics.get(u.topic);
      if (list === undefined) topics.set(u.topic, (list = []));
      list.push({ index: u.partition, records: u.batch });
    }
    const request = {
      transactionalId: null,
      acks: this.acks,
      timeoutMs: this.#ackTimeoutMs,
      topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
    };
    if (this.acks === 0) {
      await broker.sendOneWay(ApiKey.Produce, () => request, { minVersion: 3 });
      return units.map(() => ({ baseOffset: -1n, logAppendTime: -1n, logStartOffset: -1n }));
    }
    const { body } = await broker.send(ApiKey.Produce, () => request, { minVersion: 3 });
    const answers = new Map<string, UnitResult | PartitionError>();
    for (const t of body.responses) {
      for (const p of t.partitionResponses) {
        const key = `${t.name}\u0000${p.index}`;
        if (p.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
          // A retry of a batch the broker already has: it is written, once.
          answers.set(key, { baseOffset: -1n, logAppendTime: -1n, logStartOffset: p.logStartOffset });
        } else if (p.errorCode !== 0) {
          answers.set(key, new PartitionError(p.errorCode, t.name, p.index, broker.nodeId, p.errorMessage));
        } else {
          answers.set(key, {
            baseOffset: p.baseOffset,
            logAppendTime: p.logAppendTimeMs,
            logStartOffset: p.logStartOffset,
          });
        }
      }
    }
    return units.map(
      (u) =>
        answers.get(`${u.topic}\u0000${u.partition}`) ??
        new PartitionError(ErrorCode.UNKNOWN_SERVER_ERROR, u.topic, u.partition, broker.nodeId, "no answer"),
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
