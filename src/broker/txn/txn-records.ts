// The records the transaction coordinator keeps in __transaction_state, laid out as Kafka's
// TransactionLogKey/TransactionLogValue (version 0, non-flexible; big-endian, int16-length
// strings, int32-count arrays):
//
//   key    int16 version (0), transactionalId string
//   value  int16 version (0), producerId int64, producerEpoch int16, timeoutMs int32,
//          status int8 (TXN_STATES index), partitions nullable [topic string, [partition int32]],
//          lastUpdateTimestamp int64, startTimestamp int64
//   (null value = tombstone: the transactional id expired)
//
// Version 1 (flexible, with tagged previous/next producer ids) is read too. The last record
// per key wins, so the topic is compacted.
import { DecodeError } from "../../protocol/errors.ts";
import { Reader } from "../../protocol/reader.ts";
import { Writer } from "../../protocol/writer.ts";
import {
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  txnStateOf,
  txnStatusOf,
  type TopicPartition,
  type TxnRecordValue,
} from "./txn-metadata.ts";

/** One stored record of the transaction log. */
export interface TxnStoredRecord {
  key: Buffer;
  value: Buffer | null;
}

/**
 * Where the coordinator keeps its state. `append` resolves once the records are durable and
 * stores concurrent appends in call order; `load` yields everything appended, oldest first.
 */
export interface TxnStore {
  append(records: TxnStoredRecord[]): Promise<void>;
  load(): AsyncIterable<TxnStoredRecord>;
}

const KEY_VERSION = 0;
const VALUE_VERSION = 0;

/** The record of a transactional id's state (value null: a tombstone). */
export function encodeTxnRecord(transactionalId: string, value: TxnRecordValue | null): TxnStoredRecord {
  const k = new Writer(32 + transactionalId.length * 3);
  k.int16(KEY_VERSION).string(transactionalId);
  return { key: Buffer.from(k.finish()), value: value === null ? null : encodeValue(value) };
}

function encodeValue(v: TxnRecordValue): Buffer {
  const w = new Writer(64);
  w.int16(VALUE_VERSION)
    .int64(BigInt(v.producerId))
    .int16(v.producerEpoch)
    .int32(v.timeoutMs)
    .int8(txnStatusOf(v.state));
  const byTopic = new Map<string, number[]>();
  for (const p of v.partitions) {
    const list = byTopic.get(p.topic);
    if (list === undefined) byTopic.set(p.topic, [p.partition]);
    else list.push(p.partition);
  }
  w.int32(byTopic.size);
  for (const [topic, partitions] of byTopic) {
    w.string(topic).int32(partitions.length);
    for (const p of partitions) w.int32(p);
  }
  w.int64(BigInt(v.lastUpdateTimestamp)).int64(BigInt(v.startTimestamp));
  return Buffer.from(w.finish());
}

/** Decodes a stored record: the transactional id and its state (null for a tombstone). */
export function decodeTxnRecord(rec: TxnStoredRecord): {
  transactionalId: string;
  value: TxnRecordValue | null;
} {
  const k = new Reader(rec.key);
  const keyVersion = k.int16();
  if (keyVersion !== KEY_VERSION) throw new DecodeError(`transaction log: unknown key version ${keyVersion}`);
  const transactionalId = k.string();
  if (k.remaining !== 0) throw new DecodeError(`transaction log: ${k.remaining} trailing key bytes`);
  return { transactionalId, value: rec.value === null ? null : decodeValue(rec.value) };
}

function decodeValue(buf: Buffer): TxnRecordValue {
  const r = new Reader(buf);
  const version = r.int16();
  if (version < 0 || version > 1) throw new DecodeError(`transaction log: unknown value version ${version}`);
  const flexible = version >= 1;
  const producerId = Number(r.int64());
  const producerEpoch = r.int16();
  const timeoutMs = r.int32();
  const status = r.int8();
  const state = txnStateOf(status);
  if (state === undefined) throw new DecodeError(`transaction log: unknown transaction status ${status}`);
  const partitions: TopicPartition[] = [];
  const topics = flexible ? r.uvarint() - 1 : r.int32();
  for (let i = 0; i < topics; i++) {
    const topic = flexible ? r.compactString() : r.string();
    const n = flexible ? r.uvarint() - 1 : r.int32();
    for (let j = 0; j < n; j++) partitions.push({ topic, partition: r.int32() });
    if (flexible) r.skipTaggedFields();
  }
  const lastUpdateTimestamp = Number(r.int64());
  const startTimestamp = Number(r.int64());
  if (flexible) r.skipTaggedFields();
  if (r.remaining !== 0) throw new DecodeError(`transaction log: ${r.remaining} trailing value bytes`);
  return {
    producerId,
    producerEpoch,
    lastProducerId: NO_PRODUCER_ID,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    timeoutMs,
    state,
    partitions,
    lastUpdateTimestamp,
    startTimestamp,
  };
}

/** A TxnStore in memory, for tests. */
export class MemoryTxnStore implements TxnStore {
  readonly records: TxnStoredRecord[] = [];
  /** When set, appends fail with it (a log gone offline). */
  failWith: Error | null = null;

  append(records: TxnStoredRecord[]): Promise<void> {
    if (this.failWith !== null) return Promise.reject(this.failWith);
    this.records.push(...records);
    return Promise.resolve();
  }

  async *load(): AsyncIterable<TxnStoredRecord> {
    for (const r of this.records.slice()) yield await Promise.resolve(r);
  }
}
