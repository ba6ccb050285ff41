// Record batches between @platformatic/kafka and our record-batch codec, in every codec
// (none, gzip, snappy, lz4, zstd): its batches decode with ours to the records it was given
// and, uncompressed, re-encode to the same bytes; ours decode with its reader.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Reader, createRecordsBatch, readRecordsBatch, type MessageRecord } from "@platformatic/kafka";
import { CompressionCodec } from "../../src/protocol/compression/index.ts";
import { decodeBatch, encodeBatch } from "../../src/protocol/records/batch-codec.ts";
import { assertMatches } from "./compat-helpers.ts";

const T0 = 1_700_000_000_000n;

/** Messages for batch tests: headers, a null key, a record stamped before the first, and a
 * compressible value long enough for multi-byte varints. */
function batchMessages(): MessageRecord[] {
  return [
    {
      topic: "orders",
      key: Buffer.from("k1"),
      value: Buffer.from("v1"),
      timestamp: T0,
      headers: new Map([
        [Buffer.from("trace-id"), Buffer.from("abc")],
        [Buffer.from("empty"), Buffer.alloc(0)],
      ]),
    },
    { topic: "orders", value: Buffer.from("v2"), timestamp: T0 + 5n },
    { topic: "orders", key: Buffer.from("k3"), value: Buffer.from("v3"), timestamp: T0 - 3n },
    {
      topic: "orders",
      key: Buffer.from("k4"),
      value: Buffer.from("abcdefgh".repeat(200)),
      timestamp: T0 + 9n,
    },
  ];
}

/** batchMessages() as our decoder returns them. */
function ourRecords(): {
  timestamp: number;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer;
  headers: { key: string; value: Buffer }[];
}[] {
  return batchMessages().map((m, i) => ({
    timestamp: Number(m.timestamp),
    offsetDelta: i,
    key: m.key ?? null,
    value: m.value,
    headers: [...(m.headers ?? new Map<Buffer, Buffer>())].map(([k, v]) => ({ key: k.toString(), value: v })),
  }));
}

const BATCH_OPTIONS = {
  transactionalId: "txn-1",
  producerId: 4000n,
  producerEpoch: 2,
  partitionLeaderEpoch: 6,
};

const CODECS = [
  ["none", CompressionCodec.NONE],
  ["gzip", CompressionCodec.GZIP],
  ["snappy", CompressionCodec.SNAPPY],
  ["lz4", CompressionCodec.LZ4],
  ["zstd", CompressionCodec.ZSTD],
] as const;

for (const [name, codec] of CODECS) {
  test(`a platformatic record batch (${name}) decodes with our decoder to the records it was built from`, () => {
    const bytes = createRecordsBatch(batchMessages(), { ...BATCH_OPTIONS, compression: name }).buffer;
    const { header, records } = decodeBatch(bytes);
    assertMatches(header, {
      baseOffset: 0n,
      batchLength: bytes.length - 12,
      partitionLeaderEpoch: 6,
      magic: 2,
      attributes: codec | 0x10,
      lastOffsetDelta: 3,
      baseTimestamp: Number(T0),
      maxTimestamp: Number(T0) + 9,
      producerId: 4000n,
      producerEpoch: 2,
      baseSequence: 0,
      recordCount: 4,
    });
    assertMatches(records, ourRecords());
  });

  test(`platformatic decodes our record batch (${name}) to the records we encoded`, () => {
    const bytes = encodeBatch({
      records: ourRecords(),
      compression: codec,
      baseOffset: 1000n,
      partitionLeaderEpoch: 6,
      transactional: true,
      producerId: 4000n,
      producerEpoch: 2,
      baseSequence: 17,
    });
    const reader = Reader.from(bytes);
    assertMatches(readRecordsBatch(reader), {
      firstOffset: 1000n,
      length: bytes.length - 12,
      partitionLeaderEpoch: 6,
      magic: 2,
      attributes: codec | 0x10,
      lastOffsetDelta: 3,
      firstTimestamp: T0,
      maxTimestamp: T0 + 9n,
      producerId: 4000n,
      producerEpoch: 2,
      firstSequence: 17,
      records: batchMessages().map((m, i) => ({
        attributes: 0,
        timestampDelta: (m.timestamp ?? 0n) - T0,
        offsetDelta: i,
        key: m.key ?? null,
        value: m.value,
        headers: [...(m.headers ?? new Map<Buffer, Buffer>())],
      })),
    });
    assert.equal(reader.remaining, 0);
  });
}

test("an uncompressed platformatic record batch re-encodes with our encoder to the same bytes", () => {
  const bytes = createRecordsBatch(batchMessages(), BATCH_OPTIONS).buffer;
  const { header, records } = decodeBatch(bytes);
  const ours = encodeBatch({
    records,
    baseOffset: header.baseOffset,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    transactional: true,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
  });
  assert.equal(ours.toString("hex"), bytes.toString("hex"));
});
