// Record batches between kafkajs and our record-batch codec: kafkajs' encoder output (plain
// and gzip; headers, null keys and values, timestamps before the first) decodes with ours to
// the same records and, uncompressed, re-encodes to the same bytes; ours decodes with kafkajs'.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CompressionCodec } from "../../src/protocol/compression/index.ts";
import { decodeBatch, encodeBatch } from "../../src/protocol/records/batch-codec.ts";
import { assertMatches } from "./compat-helpers.ts";
import {
  KjsCompression,
  KjsDecoder,
  kjsDecodeRecordBatch,
  kjsRecord,
  kjsRecordBatch,
} from "./kafkajs-internals.ts";

const T0 = 1_700_000_000_000;

/** The records both sides build: headers (one key twice), a null key, a null value, a
 * record stamped before the batch's first timestamp, and a value long enough for multi-byte varints. */
const BATCH_RECORDS = [
  {
    key: "k1",
    value: "v1",
    delta: 0,
    headers: [
      ["trace-id", "abc"],
      ["multi", "x"],
      ["multi", "y"],
    ],
  },
  { key: null, value: "v2", delta: 5, headers: [] },
  { key: "k3", value: null, delta: -3, headers: [] },
  { key: "k4", value: "x".repeat(300), delta: 9, headers: [["empty", ""]] },
] as const;

const BATCH = {
  baseOffset: 1000n,
  partitionLeaderEpoch: 4,
  producerId: 4000n,
  producerEpoch: 2,
  baseSequence: 17,
  baseTimestamp: T0,
  maxTimestamp: T0 + 9,
  lastOffsetDelta: BATCH_RECORDS.length - 1,
};

function kafkajsHeaders(headers: readonly (readonly [string, string])[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of headers) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

async function kafkajsBatch(compression: number): Promise<Buffer> {
  const batch = await kjsRecordBatch({
    compression,
    firstOffset: BATCH.baseOffset.toString(),
    firstTimestamp: BATCH.baseTimestamp,
    maxTimestamp: BATCH.maxTimestamp,
    partitionLeaderEpoch: BATCH.partitionLeaderEpoch,
    lastOffsetDelta: BATCH.lastOffsetDelta,
    transactional: true,
    producerId: BATCH.producerId.toString(),
    producerEpoch: BATCH.producerEpoch,
    firstSequence: BATCH.baseSequence,
    records: BATCH_RECORDS.map((r, i) =>
      kjsRecord({
        offsetDelta: i,
        timestampDelta: r.delta,
        key: r.key,
        value: r.value,
        headers: kafkajsHeaders(r.headers),
      }),
    ),
  });
  return batch.buffer;
}

/** Our view of BATCH_RECORDS, as decodeBatch returns them. */
const OUR_RECORDS = BATCH_RECORDS.map((r, i) => ({
  attributes: 0,
  timestamp: BATCH.baseTimestamp + r.delta,
  offsetDelta: i,
  key: r.key === null ? null : Buffer.from(r.key),
  value: r.value === null ? null : Buffer.from(r.value),
  headers: r.headers.map(([key, value]) => ({ key, value: Buffer.from(value) })),
}));

for (const [name, codec, kjsCodec] of [
  ["uncompressed", CompressionCodec.NONE, KjsCompression.None],
  ["gzip", CompressionCodec.GZIP, KjsCompression.GZIP],
] as const) {
  test(`a ${name} kafkajs record batch decodes with our decoder to the records it was built from`, async () => {
    const bytes = await kafkajsBatch(kjsCodec);
    const decoded = decodeBatch(bytes);
    assertMatches(decoded.header, {
      baseOffset: BATCH.baseOffset,
      batchLength: bytes.length - 12,
      partitionLeaderEpoch: BATCH.partitionLeaderEpoch,
      magic: 2,
      attributes: codec | 0x10,
      lastOffsetDelta: BATCH.lastOffsetDelta,
      baseTimestamp: BATCH.baseTimestamp,
      maxTimestamp: BATCH.maxTimestamp,
      producerId: BATCH.producerId,
      producerEpoch: BATCH.producerEpoch,
      baseSequence: BATCH.baseSequence,
      recordCount: BATCH_RECORDS.length,
    });
    assertMatches(decoded.records, OUR_RECORDS);
  });

  test(`kafkajs decodes our ${name} record batch to the records we encoded`, async () => {
    const bytes = encodeBatch({ ...BATCH, compression: codec, transactional: true, records: OUR_RECORDS });
    const decoded = await kjsDecodeRecordBatch(new KjsDecoder(bytes));
    assertMatches(decoded, {
      firstOffset: String(BATCH.baseOffset),
      firstTimestamp: String(BATCH.baseTimestamp),
      maxTimestamp: String(BATCH.maxTimestamp),
      partitionLeaderEpoch: BATCH.partitionLeaderEpoch,
      inTransaction: true,
      isControlBatch: false,
      lastOffsetDelta: BATCH.lastOffsetDelta,
      producerId: String(BATCH.producerId),
      producerEpoch: BATCH.producerEpoch,
      firstSequence: BATCH.baseSequence,
      records: BATCH_RECORDS.map((r, i) => ({
        offset: String(BATCH.baseOffset + BigInt(i)),
        timestamp: String(BATCH.baseTimestamp + r.delta),
        key: r.key === null ? null : Buffer.from(r.key),
        value: r.value === null ? null : Buffer.from(r.value),
        headers: Object.fromEntries(
          Object.entries(kafkajsHeaders(r.headers)).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.map((x) => Buffer.from(x)) : Buffer.from(v),
          ]),
        ),
      })),
    });
  });
}

test("an uncompressed kafkajs record batch re-encodes with our encoder to the same bytes", async () => {
  const bytes = await kafkajsBatch(KjsCompression.None);
  const { header, records } = decodeBatch(bytes);
  const ours = encodeBatch({
    records,
    baseOffset: header.baseOffset,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    transactional: true,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    baseTimestamp: header.baseTimestamp,
    maxTimestamp: header.maxTimestamp,
    lastOffsetDelta: header.lastOffsetDelta,
  });
  assert.equal(ours.toString("hex"), bytes.toString("hex"));
});
