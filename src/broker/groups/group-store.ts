// Durable group state: the GroupStore interface the coordinator writes through, and the binary
// key/value records it stores, laid out as Kafka's __consumer_offsets records (the codec is
// protocol/consumer-offsets.ts, shared with the link) so the two can be compared byte for byte.
// The last record for a key wins; a store may compact away all but the last one per key.
import {
  decodeConsumerOffsetsRecord,
  encodeConsumerOffsetsRecord,
  type ConsumerOffsetsRecord,
  type GroupMetadataMember,
  type GroupMetadataValue,
} from "../../protocol/consumer-offsets.ts";

/** One stored record: binary key and value (null = tombstone). */
export interface StoredRecord {
  key: Buffer;
  value: Buffer | null;
  /**
   * Set on a transactional offset commit (TxnOffsetCommit): the producer whose transaction
   * it belongs to. Such a record takes effect only once a COMMIT marker for that producer
   * follows it, and is dropped at an ABORT marker (Kafka's transactional batches).
   */
  txn?: TxnProducer;
}

/** The producer of a transactional offset commit. */
export interface TxnProducer {
  producerId: number;
  producerEpoch: number;
}

/** A transaction marker in the store: the producer's pending offset commits take effect or are dropped. */
export interface StoredTxnMarker {
  marker: "commit" | "abort";
  producerId: number;
}

/** Whether a loaded item is a transaction marker. */
export function isTxnMarker(item: StoredRecord | StoredTxnMarker): item is StoredTxnMarker {
  return "marker" in item;
}

/**
 * Where the coordinator keeps its state. `append` resolves once the records are durable (an
 * offset commit is answered only then). It is called again before earlier calls resolved
 * (concurrent commits), and must store records in call order. `load` yields everything
 * appended so far, oldest first (or a compaction keeping the last record per key).
 */
export interface GroupStore {
  append(records: StoredRecord[]): Promise<void>;
  load(): AsyncIterable<StoredRecord | StoredTxnMarker>;
  /** Whether the store keeps transactional records and markers (a log-backed store does). */
  readonly transactional?: boolean;
}

export type StoredMember = GroupMetadataMember;
export type StoredGroup = GroupMetadataValue;
export type GroupRecord = ConsumerOffsetsRecord;

export function encodeGroupRecord(r: GroupRecord): StoredRecord {
  return encodeConsumerOffsetsRecord(r);
}

/** Decodes one stored record; throws DecodeError for versions or bytes it does not know. */
export function decodeGroupRecord(rec: StoredRecord): GroupRecord {
  return decodeConsumerOffsetsRecord(rec.key, rec.value);
}

/**
 * Appends through a GroupStore and runs each append's continuation in append order, whatever
 * order the store settles in. The continuation gets null, or the error the append failed with.
 */
export class GroupWriter {
  readonly #store: GroupStore;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(store: GroupStore) {
    this.#store = store;
  }

  /** Appends records (of one transaction when txn is given) and runs `then` in append order. */
  write<T>(records: GroupRecord[], then: (error: Error | null) => T, txn?: TxnProducer): Promise<T> {
    let appended: Promise<unknown>;
    try {
      const stored = records.map(encodeGroupRecord);
      if (txn !== undefined) for (const r of stored) r.txn = txn;
      appended = records.length === 0 ? Promise.resolve() : this.#store.append(stored);
    } catch (e) {
      appended = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    // Settle into a value at once, so a failed append is never an unhandled rejection.
    const outcome = appended.then(
      () => null,
      (e: unknown) => (e instanceof Error ? e : new Error(`group store append failed: ${String(e)}`)),
    );
    const result = this.#tail.then(() => outcome).then(then);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every write so far has run its continuation. */
  async drain(): Promise<void> {
    await this.#tail;
  }
}

/** A GroupStore in memory: for tests, and for brokers that keep no data directory. */
export class MemoryGroupStore implements GroupStore {
  readonly records: (StoredRecord | StoredTxnMarker)[] = [];
  readonly transactional = true;

  append(records: StoredRecord[]): Promise<void> {
    this.records.push(...records);
    return Promise.resolve();
  }

  /** Stores a transaction marker (the broker's transaction coordinator writes them to the log). */
  appendMarker(producerId: number, commit: boolean): void {
    this.records.push({ marker: commit ? "commit" : "abort", producerId });
  }

  async *load(): AsyncIterable<StoredRecord | StoredTxnMarker> {
    // A snapshot: appends during a load are not replayed twice.
    for (const r of this.records.slice()) yield await Promise.resolve(r);
  }
}
