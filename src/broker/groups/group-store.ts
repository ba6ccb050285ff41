// Durable group state: the GroupStore interface the coordinator writes through, and the binary
// key/value records it stores, laid out as Kafka's __consumer_offsets records so the two can be
// compared byte for byte. Big-endian, Kafka's non-flexible encodings (int16-length strings, -1
// for null; int32-length bytes; int32-count arrays):
//
//   key   int16 version
//         0|1 offset commit:  group string, topic string, partition int32
//         2   group metadata: group string
//   value (null = tombstone: the offset, or the whole group, is deleted)
//     offset commit: int16 version, then
//         0 offset int64, metadata string, commitTimestamp int64
//         1 offset int64, metadata string, commitTimestamp int64, expireTimestamp int64
//         2 offset int64, metadata string, commitTimestamp int64
//         3 offset int64, leaderEpoch int32, metadata string, commitTimestamp int64
//       (written as 3, or as 1 when the commit carried a retention time, as Kafka does)
//     group metadata: int16 version (written as 3), then protocolType string,
//       generation int32, protocol nullable string, leader nullable string,
//       currentStateTimestamp int64 (v2+, -1 unknown), members [memberId string,
//       groupInstanceId nullable string (v3+), clientId string, clientHost string,
//       rebalanceTimeout int32 (v1+), sessionTimeout int32, subscription bytes, assignment bytes]
//
// The last record for a key wins; a store may compact away all but the last one per key.
import { DecodeError } from "../../protocol/errors.ts";
import { Reader } from "../../protocol/reader.ts";
import { Writer } from "../../protocol/writer.ts";
import type { CommittedOffset } from "./offsets.ts";

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

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface StoredGroup {
  /** "" when the group has none (a group that only holds offsets). */
  protocolType: string;
  generationId: number;
  protocolName: string | null;
  leaderId: string | null;
  stateTimestampMs: number | null;
  members: StoredMember[];
}

export type GroupRecord =
  | { kind: "offset"; groupId: string; topic: string; partition: number; value: CommittedOffset | null }
  | { kind: "group"; groupId: string; value: StoredGroup | null };

const OFFSET_KEY_VERSION = 1;
const GROUP_KEY_VERSION = 2;
const GROUP_VALUE_VERSION = 3;

export function encodeGroupRecord(r: GroupRecord): StoredRecord {
  const k = new Writer(64);
  if (r.kind === "offset") {
    k.int16(OFFSET_KEY_VERSION).string(r.groupId).string(r.topic).int32(r.partition);
    return { key: copy(k), value: r.value === null ? null : encodeOffsetValue(r.value) };
  }
  k.int16(GROUP_KEY_VERSION).string(r.groupId);
  return { key: copy(k), value: r.value === null ? null : encodeGroupValue(r.value) };
}

function copy(w: Writer): Buffer {
  return Buffer.from(w.finish());
}

function encodeOffsetValue(o: CommittedOffset): Buffer {
  const w = new Writer(64);
  if (o.expireTimestampMs !== null) {
    w.int16(1).int64(o.offset).string(o.metadata).int64(BigInt(o.commitTimestampMs));
    w.int64(BigInt(o.expireTimestampMs));
  } else {
    w.int16(3).int64(o.offset).int32(o.leaderEpoch).string(o.metadata).int64(BigInt(o.commitTimestampMs));
  }
  return copy(w);
}

function encodeGroupValue(g: StoredGroup): Buffer {
  const w = new Writer(256);
  w.int16(GROUP_VALUE_VERSION).string(g.protocolType).int32(g.generationId);
  w.nullableString(g.protocolName)
    .nullableString(g.leaderId)
    .int64(BigInt(g.stateTimestampMs ?? -1));
  w.int32(g.members.length);
  for (const m of g.members) {
    w.string(m.memberId).nullableString(m.groupInstanceId).string(m.clientId).string(m.clientHost);
    w.int32(m.rebalanceTimeoutMs).int32(m.sessionTimeoutMs).bytes(m.subscription).bytes(m.assignment);
  }
  return copy(w);
}

/** Decodes one stored record; throws DecodeError for versions or bytes it does not know. */
export function decodeGroupRecord(rec: StoredRecord): GroupRecord {
  const k = new Reader(rec.key);
  const keyVersion = k.int16();
  if (keyVersion === 0 || keyVersion === 1) {
    const groupId = k.string();
    const topic = k.string();
    const partition = k.int32();
    end(k, "offset commit key");
    return {
      kind: "offset",
      groupId,
      topic,
      partition,
      value: rec.value === null ? null : decodeOffset(rec.value),
    };
  }
  if (keyVersion === GROUP_KEY_VERSION) {
    const groupId = k.string();
    end(k, "group metadata key");
    return { kind: "group", groupId, value: rec.value === null ? null : decodeGroup(rec.value) };
  }
  throw new DecodeError(`group store: unknown key version ${keyVersion}`);
}

function end(r: Reader, what: string): void {
  if (r.remaining !== 0)
    throw new DecodeError(`group store: ${r.remaining} trailing bytes after the ${what}`);
}

function decodeOffset(value: Buffer): CommittedOffset {
  const r = new Reader(value);
  const v = r.int16();
  if (v < 0 || v > 3) throw new DecodeError(`group store: unknown offset commit value version ${v}`);
  const offset = r.int64();
  const leaderEpoch = v >= 3 ? r.int32() : -1;
  const metadata = r.string();
  const commitTimestampMs = Number(r.int64());
  const expire = v === 1 ? Number(r.int64()) : -1;
  end(r, "offset commit value");
  return {
    offset,
    leaderEpoch,
    metadata,
    commitTimestampMs,
    expireTimestampMs: expire === -1 ? null : expire,
  };
}

function decodeGroup(value: Buffer): StoredGroup {
  const r = new Reader(value);
  const v = r.int16();
  if (v < 0 || v > GROUP_VALUE_VERSION)
    throw new DecodeError(`group store: unknown group metadata version ${v}`);
  const protocolType = r.string();
  const generationId = r.int32();
  const protocolName = r.nullableString();
  const leaderId = r.nullableString();
  const ts = v >= 2 ? Number(r.int64()) : -1;
  const n = r.arrayLength();
  const members: StoredMember[] = [];
  for (let i = 0; i < n; i++) {
    const memberId = r.string();
    const groupInstanceId = v >= 3 ? r.nullableString() : null;
    const clientId = r.string();
    const clientHost = r.string();
    const rebalance = v >= 1 ? r.int32() : -1;
    const sessionTimeoutMs = r.int32();
    // Copies: the stored buffer may be a large read the members must not keep alive.
    const subscription = Buffer.from(r.bytes());
    const assignment = Buffer.from(r.bytes());
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      // Kafka's rule for records from before rebalance timeouts existed.
      rebalanceTimeoutMs: rebalance === -1 ? sessionTimeoutMs : rebalance,
      sessionTimeoutMs,
      subscription,
      assignment,
    });
  }
  end(r, "group metadata value");
  return {
    protocolType,
    generationId,
    protocolName,
    leaderId,
    stateTimestampMs: ts === -1 ? null : ts,
    members,
  };
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
