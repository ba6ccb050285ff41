// Header rewrites: payload bytes stay identical, the CRC stays valid (fixed up without
// reading the payload), and a corrupt batch is never given a fresh CRC.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CompressionCodec } from "../../../src/protocol/compression/index.ts";
import { decodeBatch, encodeBatch } from "../../../src/protocol/records/batch-codec.ts";
import {
  RECORDS_OFFSET,
  TimestampType,
  isTransactional,
  readBatchHeader,
  timestampTypeOf,
  verifyBatchCrc,
} from "../../../src/protocol/records/batch-header.ts";
import {
  copyBatchWithHeader,
  rewriteBatchHeader,
  type BatchHeaderPatch,
} from "../../../src/protocol/records/batch-rewrite.ts";
import { DecodeError, EncodeError } from "../../../src/protocol/errors.ts";

const T0 = 1_700_000_000_000;

function sample(compression: number, n = 20): Buffer {
  return encodeBatch({
    compression,
    timestamp: T0,
    producerId: 1000n,
    producerEpoch: 1,
    baseSequence: 5,
    records: Array.from({ length: n }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`value-${i}`.repeat(3)),
    })),
  });
}

const patchArb = fc.record(
  {
    baseOffset: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
    partitionLeaderEpoch: fc.integer({ min: -1, max: 0x7fffffff }),
    producerId: fc.bigInt({ min: -1n, max: (1n << 63n) - 1n }),
    producerEpoch: fc.integer({ min: -1, max: 0x7fff }),
    baseSequence: fc.integer({ min: -1, max: 0x7fffffff }),
    transactional: fc.boolean(),
    logAppendTime: fc.integer({ min: 0, max: 2 ** 45 }),
  },
  { requiredKeys: [] },
);

test("any patch keeps the payload bytes identical and leaves a valid CRC, for every codec", () => {
  fc.assert(
    fc.property(fc.constantFrom(0, 1, 2, 3, 4), fc.nat(40), patchArb, (codec, n, patch) => {
      const original = sample(codec, n);
      const b = Buffer.from(original);
      rewriteBatchHeader(b, 0, patch);
      assert.ok(verifyBatchCrc(b));
      assert.ok(b.subarray(RECORDS_OFFSET).equals(original.subarray(RECORDS_OFFSET)));
      const header = readBatchHeader(b);
      const before = readBatchHeader(original);
      assert.equal(header.baseOffset, patch.baseOffset ?? before.baseOffset);
      assert.equal(header.partitionLeaderEpoch, patch.partitionLeaderEpoch ?? before.partitionLeaderEpoch);
      assert.equal(header.producerId, patch.producerId ?? before.producerId);
      assert.equal(header.producerEpoch, patch.producerEpoch ?? before.producerEpoch);
      assert.equal(header.baseSequence, patch.baseSequence ?? before.baseSequence);
      assert.equal(isTransactional(header.attributes), patch.transactional ?? false);
      assert.equal(header.maxTimestamp, patch.logAppendTime ?? before.maxTimestamp);
      assert.equal(header.lastOffsetDelta, before.lastOffsetDelta);
      assert.equal(header.recordCount, before.recordCount);
      assert.equal(header.attributes & 7, codec);
    }),
    { numRuns: 300 },
  );
});

test("the rewritten producer fields are what a decoder then sees", () => {
  const b = sample(CompressionCodec.LZ4);
  rewriteBatchHeader(b, 0, { producerId: 424242n, producerEpoch: 9, baseSequence: 1_000_000 });
  const { header, records } = decodeBatch(b);
  assert.equal(header.producerId, 424242n);
  assert.equal(header.producerEpoch, 9);
  assert.equal(header.baseSequence, 1_000_000);
  assert.equal(records.length, 20);
});

test("logAppendTime marks the batch LogAppendTime, as a broker does for such topics", () => {
  const b = sample(CompressionCodec.NONE, 3);
  rewriteBatchHeader(b, 0, { logAppendTime: T0 + 99 });
  const { header, records } = decodeBatch(b);
  assert.equal(timestampTypeOf(header.attributes), TimestampType.LOG_APPEND_TIME);
  assert.deepEqual(
    records.map((r) => r.timestamp),
    [T0 + 99, T0 + 99, T0 + 99],
  );
});

test("baseOffset and partitionLeaderEpoch alone leave the CRC untouched", () => {
  const b = sample(CompressionCodec.NONE);
  const crc = b.readUInt32BE(17);
  rewriteBatchHeader(b, 0, { baseOffset: 1n << 40n, partitionLeaderEpoch: 12 });
  assert.equal(b.readUInt32BE(17), crc);
  assert.ok(verifyBatchCrc(b));
});

test("a batch in the middle of a blob is rewritten in place without touching its neighbours", () => {
  const a = sample(CompressionCodec.NONE, 2);
  const mid = sample(CompressionCodec.SNAPPY, 5);
  const blob = Buffer.concat([a, mid, a]);
  rewriteBatchHeader(blob, a.length, { producerId: 5n });
  assert.ok(blob.subarray(0, a.length).equals(a));
  assert.ok(blob.subarray(a.length + mid.length).equals(a));
  assert.ok(verifyBatchCrc(blob, a.length));
  assert.equal(readBatchHeader(blob, a.length).producerId, 5n);
});

test("copyBatchWithHeader leaves the source as it was", () => {
  const b = sample(CompressionCodec.GZIP);
  const before = Buffer.from(b);
  const copy = copyBatchWithHeader(b, 0, { producerEpoch: 3 });
  assert.ok(b.equals(before));
  assert.equal(readBatchHeader(copy).producerEpoch, 3);
  assert.ok(verifyBatchCrc(copy));
});

test("a corrupt batch is refused rather than given a fresh CRC", () => {
  const b = sample(CompressionCodec.NONE);
  b[b.length - 1] = (b[b.length - 1] as number) ^ 0x40;
  assert.throws(() => rewriteBatchHeader(b, 0, { producerId: 1n }), DecodeError);
  rewriteBatchHeader(b, 0, { producerId: 1n }, { verifyCrc: false });
  assert.equal(verifyBatchCrc(b), false, "the corruption is carried through, not hidden");
});

test("patch values out of range are EncodeErrors and change nothing", () => {
  const b = sample(CompressionCodec.NONE);
  const before = Buffer.from(b);
  const bad: BatchHeaderPatch[] = [
    { producerEpoch: 40000 },
    { baseSequence: -(2 ** 31) - 1 },
    { producerId: 1n << 63n },
    { partitionLeaderEpoch: 0.5 },
    { logAppendTime: 2 ** 60 },
  ];
  for (const patch of bad) assert.throws(() => rewriteBatchHeader(b, 0, patch), EncodeError);
  assert.ok(b.equals(before));
});

test("a truncated batch cannot be rewritten", () => {
  const b = sample(CompressionCodec.NONE);
  assert.throws(() => rewriteBatchHeader(b.subarray(0, b.length - 1), 0, { producerId: 2n }), DecodeError);
});
