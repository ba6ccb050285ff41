// The v2 header: layout, attribute bits, magic detection, CRC checks, and walking a
// records blob that may end in a partial batch.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeBatch } from "../../../src/protocol/records/batch-codec.ts";
import {
  CRC_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORD_COUNT_OFFSET,
  TimestampType,
  UnsupportedMagicError,
  batchSize,
  compressionOf,
  hasDeleteHorizon,
  isControl,
  isTransactional,
  iterateBatches,
  makeAttributes,
  readBatchHeader,
  readMagic,
  timestampTypeOf,
  verifyBatchCrc,
} from "../../../src/protocol/records/batch-header.ts";
import { DecodeError } from "../../../src/protocol/errors.ts";

function batch(n: number, baseOffset = 0n): Buffer {
  const records = Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`value ${i}`) }));
  return encodeBatch({ baseOffset, records, timestamp: 1_700_000_000_000 });
}

// A magic v1 message as Kafka 0.10 wrote it: offset, size, crc, magic 1, attributes,
// timestamp, null key, value.
function legacyV1Message(): Buffer {
  const value = Buffer.from("old");
  const b = Buffer.alloc(12 + 4 + 1 + 1 + 8 + 4 + 4 + value.length);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt8(1, 16);
  b.writeInt32BE(-1, 26);
  b.writeInt32BE(value.length, 30);
  value.copy(b, 34);
  return b;
}

test("the header layout adds up to 61 bytes", () => {
  assert.equal(RECORD_BATCH_OVERHEAD, 61);
  assert.equal(CRC_OFFSET, 17);
  assert.equal(RECORD_COUNT_OFFSET, 57);
});

test("attribute bits round-trip through makeAttributes and the helpers", () => {
  for (let compression = 0; compression <= 4; compression++) {
    for (const timestampType of [TimestampType.CREATE_TIME, TimestampType.LOG_APPEND_TIME]) {
      for (const flags of [0, 1, 2, 3, 4, 7]) {
        const a = makeAttributes({
          compression,
          timestampType,
          transactional: (flags & 1) !== 0,
          control: (flags & 2) !== 0,
          deleteHorizon: (flags & 4) !== 0,
        });
        assert.equal(compressionOf(a), compression);
        assert.equal(timestampTypeOf(a), timestampType);
        assert.equal(isTransactional(a), (flags & 1) !== 0);
        assert.equal(isControl(a), (flags & 2) !== 0);
        assert.equal(hasDeleteHorizon(a), (flags & 4) !== 0);
      }
    }
  }
  assert.equal(
    makeAttributes({ compression: 3, timestampType: 1, transactional: true, control: true }),
    0x3b,
  );
});

test("readBatchHeader needs only the 61 header bytes", () => {
  const b = batch(3, 1000n);
  const header = readBatchHeader(b.subarray(0, RECORD_BATCH_OVERHEAD));
  assert.equal(header.baseOffset, 1000n);
  assert.equal(header.recordCount, 3);
  assert.equal(header.batchLength, b.length - 12);
  assert.throws(() => readBatchHeader(b.subarray(0, 60)), DecodeError);
});

test("the magic byte of an old message can be read, and v2 readers refuse it with a typed error", () => {
  const old = legacyV1Message();
  assert.equal(readMagic(old), 1);
  assert.throws(
    () => readBatchHeader(old),
    (e: unknown) => e instanceof UnsupportedMagicError && e.magic === 1 && e.code === 43,
  );
  assert.throws(() => verifyBatchCrc(old), UnsupportedMagicError);
});

test("readMagic on too few bytes is a DecodeError", () => {
  assert.throws(() => readMagic(Buffer.alloc(16)), DecodeError);
});

test("a batchLength below the header size is corrupt", () => {
  const b = batch(1);
  b.writeInt32BE(40, 8);
  assert.throws(() => readBatchHeader(b), DecodeError);
});

test("a timestamp beyond 2^53 ms is refused rather than rounded", () => {
  const b = batch(1);
  b.writeBigInt64BE(1n << 60n, 35);
  assert.throws(() => readBatchHeader(b), DecodeError);
});

test("verifyBatchCrc accepts intact batches and rejects any flipped payload bit", () => {
  const b = batch(5);
  assert.ok(verifyBatchCrc(b));
  for (let i = 21; i < b.length; i += 7) {
    b[i] = (b[i] as number) ^ 0x10;
    assert.equal(verifyBatchCrc(b), false, `byte ${i}`);
    b[i] = (b[i] as number) ^ 0x10;
  }
});

test("the CRC does not cover baseOffset or partitionLeaderEpoch", () => {
  const b = batch(2);
  b.writeBigInt64BE(123456n, 0);
  b.writeInt32BE(77, 12);
  assert.ok(verifyBatchCrc(b));
});

test("verifyBatchCrc on a batch cut short is a DecodeError", () => {
  const b = batch(2);
  assert.throws(() => verifyBatchCrc(b.subarray(0, b.length - 1)), DecodeError);
});

test("iterateBatches walks batches one by one", () => {
  const parts = [batch(1, 0n), batch(4, 1n), batch(2, 5n)];
  const blob = Buffer.concat(parts);
  const spans = [...iterateBatches(blob)];
  let pos = 0;
  assert.deepEqual(
    spans,
    parts.map((p) => {
      const span = { start: pos, end: pos + p.length, truncated: false };
      pos += p.length;
      return span;
    }),
  );
  assert.equal(batchSize(blob, spans[1]?.start), parts[1]?.length);
});

test("iterateBatches reports a trailing partial batch instead of throwing", () => {
  const first = batch(1);
  const second = batch(3);
  for (const cut of [1, 11, 12, 30, second.length - 1]) {
    const blob = Buffer.concat([first, second.subarray(0, cut)]);
    assert.deepEqual(
      [...iterateBatches(blob)],
      [
        { start: 0, end: first.length, truncated: false },
        { start: first.length, end: blob.length, truncated: true },
      ],
      `cut at ${cut}`,
    );
  }
});

test("iterateBatches over an empty blob yields nothing", () => {
  assert.deepEqual([...iterateBatches(Buffer.alloc(0))], []);
});

test("iterateBatches walks old-format messages too, so callers can read their magic", () => {
  const blob = Buffer.concat([legacyV1Message(), batch(1)]);
  const spans = [...iterateBatches(blob)];
  assert.equal(spans.length, 2);
  assert.deepEqual(
    spans.map((s) => readMagic(blob, s.start)),
    [1, 2],
  );
});

test("iterateBatches rejects a length no batch can have", () => {
  const b = batch(1);
  b.writeInt32BE(-5, 8);
  assert.throws(() => [...iterateBatches(b)], DecodeError);
  b.writeInt32BE(20, 8); // too short for v2, though a v0 message could be this small
  assert.throws(() => [...iterateBatches(b)], DecodeError);
});

test("iterateBatches respects a sub-range", () => {
  const a = batch(1);
  const blob = Buffer.concat([Buffer.from("xx"), a, Buffer.from("yy")]);
  assert.deepEqual(
    [...iterateBatches(blob, 2, 2 + a.length)],
    [{ start: 2, end: 2 + a.length, truncated: false }],
  );
  assert.throws(() => [...iterateBatches(blob, 5, blob.length + 1)], DecodeError);
});
