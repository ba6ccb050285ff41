// A link's durable state, kept on the cluster it writes to: a compacted topic of JSON records
// (registrations with producer ids, per-partition checkpoints, offset-map runs). A link
// restarted anywhere reads it back; a link going the other way reads it to avoid loops.
import type { Admin } from "../client/admin.ts";
import type { Cluster } from "../client/cluster.ts";
import { fetchRaw } from "../client/consumer.ts";
import { PartitionError } from "../client/errors.ts";
import { listOffsets, OffsetSpec } from "../client/offsets.ts";
import { Producer } from "../client/producer.ts";
import { createTopic } from "./create-topic.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { decodeBatches, encodeBatch } from "../protocol/records/batch-codec.ts";
import { isControl, iterateBatches } from "../protocol/records/batch-header.ts";

/** The state topic's name on every cluster a link writes to. */
export const LINK_STATE_TOPIC = "__ferry_link_state";

export type StateValue = Record<string, unknown>;

export interface StateWrite {
  key: string;
  /** null deletes the key (a tombstone). */
  value: StateValue | null;
}

/** The records of a cluster's link state topic, read to its end and kept current. */
export class LinkStateStore {
  readonly #cluster: Cluster;
  readonly #entries = new Map<string, StateValue>();
  readonly #producer: Producer;
  #position = 0;
  #queue: Promise<void> = Promise.resolve();
  #exists: boolean;

  private constructor(cluster: Cluster, exists: boolean) {
    this.#cluster = cluster;
    this.#exists = exists;
    this.#producer = new Producer(cluster, { acks: -1, idempotent: true });
  }

  /**
   * Opens the state topic of a cluster the link writes to, creating it (compacted, one
   * partition) when missing, and reads it to the end.
   */
  static async open(cluster: Cluster, admin: Admin): Promise<LinkStateStore> {
    const topics = await admin.listTopics({ includeInternal: true });
    if (!topics.includes(LINK_STATE_TOPIC)) {
      await createTopic(cluster, admin, {
        name: LINK_STATE_TOPIC,
        numPartitions: 1,
        replicationFactor: -1,
        configs: { "cleanup.policy": "compact" },
      });
    }
    const store = new LinkStateStore(cluster, true);
    await store.refresh();
    return store;
  }

  /** Opens a cluster's state topic for reading only (empty when the topic does not exist). */
  static async openReadOnly(cluster: Cluster, admin: Admin): Promise<LinkStateStore> {
    const topics = await admin.listTopics({ includeInternal: true });
    const store = new LinkStateStore(cluster, topics.includes(LINK_STATE_TOPIC));
    await store.refresh();
    return store;
  }

  get(key: string): StateValue | undefined {
    return this.#entries.get(key);
  }

  /** Entries whose key starts with prefix. */
  *entries(prefix: string): Generator<[string, StateValue]> {
    for (const e of this.#entries) if (e[0].startsWith(prefix)) yield e;
  }

  /** Reads records appended since the last read, up to the high watermark. */
  async refresh(): Promise<void> {
    if (!this.#exists) {
      // A read-only store whose topic appeared since (a link started writing into this cluster).
      const metadata = await this.#cluster.refreshMetadata([LINK_STATE_TOPIC]);
      if (metadata.topics.get(LINK_STATE_TOPIC)?.errorCode !== 0) return;
      this.#exists = true;
    }
    const [end] = await listOffsets(this.#cluster, [
      { topic: LINK_STATE_TOPIC, partition: 0, timestamp: OffsetSpec.LATEST },
    ]);
    const target = Number(end?.offset ?? 0n);
    while (this.#position < target) {
      const [answer] = await fetchRaw(
        this.#cluster,
        [{ topic: LINK_STATE_TOPIC, partition: 0, offset: BigInt(this.#position) }],
        { maxWaitMs: 0, maxBytes: 16 << 20, partitionMaxBytes: 16 << 20 },
      );
      if (answer === undefined) return;
      if (answer.error !== undefined) {
        if (
          answer.error.code === ErrorCode.OFFSET_OUT_OF_RANGE &&
          this.#position < Number(answer.logStartOffset)
        ) {
          this.#position = Number(answer.logStartOffset);
          continue;
        }
        throw answer.error;
      }
      const before = this.#position;
      for (const batch of decodeBatches(wholeBatches(answer.records))) {
        const base = Number(batch.header.baseOffset);
        this.#position = Math.max(this.#position, base + batch.header.lastOffsetDelta + 1);
        if (isControl(batch.header.attributes)) continue;
        for (const r of batch.records) {
          if (base + r.offsetDelta < before || r.key === null) continue;
          const key = r.key.toString("utf8");
          if (r.value === null) this.#entries.delete(key);
          else this.#entries.set(key, JSON.parse(r.value.toString("utf8")) as StateValue);
        }
      }
      if (this.#position === before) break;
    }
  }

  /**
   * Writes entries in one batch (atomic: all or none) and applies them locally once
   * acknowledged. Writes are serialised, so a write built from the current state (see update)
   * never overtakes another.
   */
  write(writes: readonly StateWrite[]): Promise<void> {
    return this.update(() => writes);
  }

  /** Builds writes from the state as it is when their turn comes, then writes them. */
  update(build: (store: this) => readonly StateWrite[]): Promise<void> {
    const run = this.#queue.then(() => this.#write(build(this)));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #write(writes: readonly StateWrite[]): Promise<void> {
    if (writes.length === 0) return;
    if (!this.#exists) throw new PartitionError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, LINK_STATE_TOPIC, 0);
    const batch = encodeBatch({
      records: writes.map((w) => ({
        key: Buffer.from(w.key, "utf8"),
        value: w.value === null ? null : Buffer.from(JSON.stringify(w.value), "utf8"),
      })),
    });
    await this.#producer.produceRaw(LINK_STATE_TOPIC, 0, batch);
    for (const w of writes) {
      if (w.value === null) this.#entries.delete(w.key);
      else this.#entries.set(w.key, w.value);
    }
  }
}

function wholeBatches(records: Buffer): Buffer {
  let end = 0;
  for (const span of iterateBatches(records)) if (!span.truncated) end = span.end;
  return records.subarray(0, end);
}
