// Full batch encoding and decoding: property round trips with every codec, Kafka's special
// batches (control, LogAppendTime, delete horizon, compacted gaps, empty), and the typed
// errors both directions raise.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CompressionCodec,
  DecompressionLimitError,
  codecName,
} from "../../../src/protocol/compression/index.ts";
import {
  decodeBatch,
  decodeBatches,
  encodeBatch,
  encodeEndTxnMarkerBatch,
  recordOffset,
  type EncodeBatchOptions,
} from "../../../src/protocol/records/batch-codec.ts";
import {
  ATTRIBUTES_OFFSET,
  CRC_OFFSET,
  RECORD_COUNT_OFFSET,
  TimestampType,
  computeBatchCrc,
  hasDeleteHorizon,
  isControl,
  isTransactional,
  timestampTypeOf,
} from "../../../src/protocol/records/batch-header.ts";
import {
  ControlRecordType,
  decodeControlKey,
  decodeEndTxnMarkerValue,
} from "../../../src/protocol/records/control.ts";
import type { DecodedRecord, RecordInput } from "../../../src/protocol/records/record.ts";
import { DecodeError, EncodeError } from "../../../src/protocol/errors.ts";

const CODECS = [0, 1, 2, 3, 4] as const;
const T0 = 1_700_000_000_000;

const bytes = (maxLength: number) => fc.option(fc.uint8Array({ maxLength }), { nil: null });

const recordArb = fc.record({
  key: bytes(40),
  value: bytes(300),
  headers: fc.array(fc.record({ key: fc.string({ unit: "grapheme", maxLength: 12 }), value: bytes(20) }), {
    maxLength: 3,
  }),
  timestamp: fc.oneof(
    fc.integer({ min: T0 - 1000, max: T0 + 1000 }),
    fc.integer({ min: -(2 ** 51), max: 2 ** 51 }),
    fc.constant(-1),
  ),
  gap: fc.nat(3),
});

const batchArb = fc.record({
  records: fc.array(recordArb, { maxLength: 25 }),
  compression: fc.constantFrom(...CODECS),
  baseOffset: fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }),
  producerId: fc.bigInt({ min: -1n, max: (1n << 63n) - 1n }),
  producerEpoch: fc.integer({ min: -1, max: 0x7fff }),
  baseSequence: fc.integer({ min: -1, max: 0x7fffffff }),
  partitionLeaderEpoch: fc.integer({ min: -1, max: 0x7fffffff }),
  transactional: fc.boolean(),
});

function withOffsets(
  records: {
    gap: number;
    timestamp: number;
    key: Uint8Array | null;
    value: Uint8Array | null;
    headers: { key: string; value: Uint8Array | null }[];
  }[],
): RecordInput[] {
  let delta = -1;
  return records.map(({ gap, ...rec }) => {
    delta += 1 + gap;
    return { ...rec, offsetDelta: delta };
  });
}

function hex(b: Uint8Array | null | undefined): string | null {
  return b === null || b === undefined ? null : Buffer.from(b).toString("hex");
}

function plain(r: RecordInput | DecodedRecord) {
  return {
    key: hex(r.key),
    value: hex(r.value),
    headers: (r.headers ?? []).map((h) => [h.key, hex(h.value)]),
    timestamp: r.timestamp,
    offsetDelta: r.offsetDelta,
  };
}

test("batches of arbitrary records round-trip with every codec", () => {
  fc.assert(
    fc.property(batchArb, (b) => {
      const records = withOffsets(b.records);
      const encoded = encodeBatch({ ...b, records });
      const { header, records: decoded } = decodeBatch(encoded);
      assert.equal(header.baseOffset, b.baseOffset);
      assert.equal(header.producerId, b.producerId);
      assert.equal(header.producerEpoch, b.producerEpoch);
      assert.equal(header.baseSequence, b.baseSequence);
      assert.equal(header.partitionLeaderEpoch, b.partitionLeaderEpoch);
      assert.equal(isTransactional(header.attributes), b.transactional);
      assert.equal(header.attributes & 7, b.compression);
      assert.equal(header.recordCount, records.length);
      assert.equal(header.batchLength, encoded.length - 12);
      assert.deepEqual(decoded.map(plain), records.map(plain));
      if (records.length > 0) {
        assert.equal(header.baseTimestamp, records[0]?.timestamp);
        assert.equal(header.maxTimestamp, Math.max(-1, ...records.map((r) => r.timestamp ?? 0)));
        assert.equal(header.lastOffsetDelta, records.at(-1)?.offsetDelta);
      }
    }),
    { numRuns: 250 },
  );
});

for (const codec of CODECS) {
  test(`a decoded ${codecName(codec)} batch re-encodes to the same bytes`, () => {
    const encoded = encodeBatch({
      compression: codec,
      timestamp: T0,
      producerId: 9n,
      producerEpoch: 2,
      baseSequence: 40,
      records: Array.from({ length: 50 }, (_, i) => ({
        key: Buffer.from(`key-${i % 7}`),
        value: Buffer.from(`value ${i} `.repeat(i % 5)),
        headers: i % 3 === 0 ? [{ key: "trace", value: Buffer.from([i]) }] : [],
        timestamp: T0 + i * 3,
      })),
    });
    const { header, records } = decodeBatch(encoded);
    const again = encodeBatch({
      compression: codec,
      baseOffset: header.baseOffset,
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      records,
    });
    assert.ok(again.equals(encoded));
  });
}

test("record timestamps far from the base timestamp round-trip exactly", () => {
  const stamps = [T0, T0 - 86_400_000 * 400, T0 + 2 ** 40, 0, -1, 2 ** 52];
  const encoded = encodeBatch({ records: stamps.map((timestamp) => ({ value: null, timestamp })) });
  assert.deepEqual(
    decodeBatch(encoded).records.map((r) => r.timestamp),
    stamps,
  );
});

test("records of a LogAppendTime batch all carry the batch's maxTimestamp, as the Java client reports", () => {
  const encoded = encodeBatch({
    timestampType: TimestampType.LOG_APPEND_TIME,
    maxTimestamp: T0 + 5000,
    records: [
      { value: null, timestamp: T0 },
      { value: null, timestamp: T0 + 1 },
    ],
  });
  const { header, records } = decodeBatch(encoded);
  assert.equal(timestampTypeOf(header.attributes), TimestampType.LOG_APPEND_TIME);
  assert.deepEqual(
    records.map((r) => r.timestamp),
    [T0 + 5000, T0 + 5000],
  );
});

test("a delete horizon becomes the base timestamp and sets its attribute", () => {
  const encoded = encodeBatch({
    deleteHorizonMs: T0 + 86_400_000,
    records: [{ value: null, timestamp: T0 }],
  });
  const { header, records } = decodeBatch(encoded);
  assert.ok(hasDeleteHorizon(header.attributes));
  assert.equal(header.baseTimestamp, T0 + 86_400_000);
  assert.equal(records[0]?.timestamp, T0);
  assert.throws(() => encodeBatch({ deleteHorizonMs: T0, baseTimestamp: T0, records: [] }), EncodeError);
});

test("a compacted batch keeps its offset gaps and its lastOffsetDelta", () => {
  const encoded = encodeBatch({
    baseOffset: 100n,
    lastOffsetDelta: 9,
    records: [0, 3, 7].map((offsetDelta) => ({ value: Buffer.from("x"), offsetDelta, timestamp: T0 })),
  });
  const { header, records } = decodeBatch(encoded);
  assert.equal(header.lastOffsetDelta, 9);
  assert.deepEqual(
    records.map((r) => recordOffset(header, r)),
    [100n, 103n, 107n],
  );
});

test("an empty batch, as compaction leaves behind, decodes to no records whatever its codec", () => {
  const empty = encodeBatch({
    baseOffset: 50n,
    lastOffsetDelta: 4,
    producerId: 3n,
    producerEpoch: 0,
    baseSequence: 10,
    records: [],
  });
  assert.equal(empty.length, 61);
  assert.deepEqual(decodeBatch(empty).records, []);
  // Kafka writes such a header with the original codec bits and no payload at all.
  empty.writeInt16BE(CompressionCodec.ZSTD, ATTRIBUTES_OFFSET);
  empty.writeUInt32BE(computeBatchCrc(empty), CRC_OFFSET);
  assert.deepEqual(decodeBatch(empty).records, []);
});

test("an end-transaction marker is a transactional control batch with a control key and value", () => {
  const encoded = encodeEndTxnMarkerBatch({
    commit: true,
    coordinatorEpoch: 12,
    producerId: 77n,
    producerEpoch: 4,
    timestamp: T0,
  });
  const { header, records } = decodeBatch(encoded);
  assert.ok(isControl(header.attributes));
  assert.ok(isTransactional(header.attributes));
  assert.equal(header.baseSequence, -1);
  assert.equal(records.length, 1);
  const record = records[0] as DecodedRecord;
  assert.deepEqual(decodeControlKey(record.key), { version: 0, type: ControlRecordType.COMMIT });
  assert.deepEqual(decodeEndTxnMarkerValue(record.value), { version: 0, coordinatorEpoch: 12 });
  const abort = decodeBatch(
    encodeEndTxnMarkerBatch({ commit: false, coordinatorEpoch: 1, producerId: 1n, producerEpoch: 0 }),
  );
  assert.equal(decodeControlKey(abort.records[0]?.key ?? null).type, ControlRecordType.ABORT);
});

test("malformed control keys and marker values are DecodeErrors", () => {
  assert.throws(() => decodeControlKey(null), DecodeError);
  assert.throws(() => decodeControlKey(Buffer.from([0, 0, 1])), DecodeError);
  assert.throws(() => decodeControlKey(Buffer.from([0xff, 0xff, 0, 1])), DecodeError);
  assert.deepEqual(decodeControlKey(Buffer.from([0, 3, 0, 1])), { version: 3, type: 1 });
  assert.throws(() => decodeEndTxnMarkerValue(Buffer.from([0, 0, 0, 0, 1])), DecodeError);
});

test("values a batch cannot carry are EncodeErrors", () => {
  const base: EncodeBatchOptions = { records: [{ value: null }] };
  const bad: Partial<EncodeBatchOptions>[] = [
    { compression: 5 },
    { producerEpoch: 0x8000 },
    { baseSequence: 2 ** 31 },
    { partitionLeaderEpoch: 1.5 },
    { producerId: 1n << 63n },
    { baseOffset: -(1n << 63n) - 1n },
    { timestamp: 2 ** 53 },
    {
      records: [
        { value: null, offsetDelta: 2 },
        { value: null, offsetDelta: 2 },
      ],
    },
    { records: [{ value: null, offsetDelta: -1 }] },
    { records: [{ value: null, offsetDelta: 5 }], lastOffsetDelta: 4 },
    { records: [{ value: null, attributes: 300 }] },
    {
      records: [
        { value: null, timestamp: -(2 ** 52) },
        { value: null, timestamp: 2 ** 52 },
      ],
    },
  ];
  for (const patch of bad) {
    assert.throws(
      () => encodeBatch({ ...base, ...patch }),
      EncodeError,
      JSON.stringify(patch, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
    );
  }
});

test("a batch failing its CRC is refused unless verification is off", () => {
  const encoded = encodeBatch({ records: [{ value: Buffer.from("payload") }] });
  encoded[encoded.length - 2] = (encoded[encoded.length - 2] as number) ^ 1;
  assert.throws(() => decodeBatch(encoded), /CRC/);
  assert.equal(decodeBatch(encoded, 0, { verifyCrc: false }).records.length, 1);
});

function withCount(encoded: Buffer, count: number): Buffer {
  const b = Buffer.from(encoded);
  b.writeInt32BE(count, RECORD_COUNT_OFFSET);
  b.writeUInt32BE(computeBatchCrc(b), CRC_OFFSET);
  return b;
}

test("a record count claiming two billion records fails at once without allocating for them", () => {
  const encoded = encodeBatch({ records: [{ value: Buffer.from("x") }] });
  const started = process.hrtime.bigint();
  assert.throws(() => decodeBatch(withCount(encoded, 0x7fffffff)), DecodeError);
  assert.ok(process.hrtime.bigint() - started < 50_000_000n);
  assert.throws(() => decodeBatch(withCount(encoded, -1)), DecodeError);
});

test("a record count that disagrees with the records is corrupt", () => {
  const encoded = encodeBatch({ records: [{ value: Buffer.from("a") }, { value: Buffer.from("b") }] });
  assert.throws(() => decodeBatch(withCount(encoded, 1)), /after its 1 records/);
  assert.throws(() => decodeBatch(withCount(encoded, 3)), DecodeError);
});

test("an unknown codec in the attributes is a DecodeError", () => {
  const encoded = encodeBatch({ records: [{ value: Buffer.from("x") }] });
  encoded.writeInt16BE(6, ATTRIBUTES_OFFSET);
  encoded.writeUInt32BE(computeBatchCrc(encoded), CRC_OFFSET);
  assert.throws(() => decodeBatch(encoded), DecodeError);
});

test("maxDecompressedBytes caps what a compressed batch may expand to", () => {
  const encoded = encodeBatch({
    compression: CompressionCodec.ZSTD,
    records: [{ value: Buffer.alloc(2_000_000) }],
  });
  assert.ok(encoded.length < 1000);
  assert.throws(() => decodeBatch(encoded, 0, { maxDecompressedBytes: 1_000_000 }), DecompressionLimitError);
  assert.equal(decodeBatch(encoded).records[0]?.value?.length, 2_000_000);
});

test("a truncated batch is a DecodeError", () => {
  const encoded = encodeBatch({ records: [{ value: Buffer.from("x") }] });
  assert.throws(() => decodeBatch(encoded.subarray(0, encoded.length - 1)), DecodeError);
});

test("decodeBatches decodes every complete batch of a blob and skips a trailing partial one", () => {
  const a = encodeBatch({ baseOffset: 0n, records: [{ value: Buffer.from("a") }] });
  const b = encodeBatch({
    baseOffset: 1n,
    compression: CompressionCodec.LZ4,
    records: [{ value: Buffer.from("b") }, { value: null }],
  });
  const blob = Buffer.concat([a, b, a.subarray(0, 20)]);
  assert.deepEqual(
    decodeBatches(blob).map((batch) => batch.records.length),
    [1, 2],
  );
});
