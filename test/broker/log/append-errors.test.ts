// Every way an append is refused, with the Kafka error code a real broker answers, and the
// promise that a refused append leaves the log (memory and disk) exactly as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { CompressionCodec } from "../../../src/protocol/compression/index.ts";
import { ErrorCode, KafkaError } from "../../../src/protocol/error-codes.ts";
import { encodeEndTxnMarkerBatch } from "../../../src/protocol/records/batch-codec.ts";
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  MAGIC_OFFSET,
  RECORDS_OFFSET,
  TimestampType,
  computeBatchCrc,
  readBatchHeader,
  verifyBatchCrc,
} from "../../../src/protocol/records/batch-header.ts";
import { RecordValidationError } from "../../../src/broker/log/log-validator.ts";
import type { PartitionLog } from "../../../src/broker/log/partition-log.ts";
import { T0, flipByte, makeBatch, openTestLog } from "./helpers.ts";

async function expectRefused(
  log: PartitionLog,
  dir: string,
  records: Buffer,
  code: number,
): Promise<KafkaError> {
  const before = { leo: log.logEndOffset, hw: log.highWatermark, size: log.sizeInBytes };
  const fileBefore = (await stat(join(dir, "00000000000000000000.log"))).size;
  const err = await log.append(records).then(
    () => assert.fail("append was accepted"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof KafkaError, `expected a KafkaError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.deepEqual({ leo: log.logEndOffset, hw: log.highWatermark, size: log.sizeInBytes }, before);
  await log.flush();
  assert.equal((await stat(join(dir, "00000000000000000000.log"))).size, fileBefore);
  return err;
}

function withFixedCrc(b: Buffer): Buffer {
  b.writeUInt32BE(computeBatchCrc(b), CRC_OFFSET);
  return b;
}

test("a batch failing its CRC check is CORRUPT_MESSAGE", async (t) => {
  const { log, dir } = await openTestLog(t);
  const b = makeBatch({ count: 3 });
  flipByte(b, b.length - 1);
  await expectRefused(log, dir, b, ErrorCode.CORRUPT_MESSAGE);
});

test("a batch length below the smallest message is CORRUPT_MESSAGE", async (t) => {
  const { log, dir } = await openTestLog(t);
  const b = makeBatch();
  b.writeInt32BE(10, BATCH_LENGTH_OFFSET);
  await expectRefused(log, dir, b, ErrorCode.CORRUPT_MESSAGE);
});

test("a v2 batch shorter than its header is CORRUPT_MESSAGE", async (t) => {
  const { log, dir } = await openTestLog(t);
  const b = makeBatch().subarray(0, 40);
  b.writeInt32BE(28, BATCH_LENGTH_OFFSET);
  await expectRefused(log, dir, b, ErrorCode.CORRUPT_MESSAGE);
});

test("a magic above 2 is CORRUPT_MESSAGE", async (t) => {
  const { log, dir } = await openTestLog(t);
  const b = makeBatch();
  b[MAGIC_OFFSET] = 3;
  await expectRefused(log, dir, b, ErrorCode.CORRUPT_MESSAGE);
});

test("magic 0 and 1 are INVALID_RECORD, as Kafka answers Produce v3+", async (t) => {
  const { log, dir } = await openTestLog(t);
  for (const magic of [0, 1]) {
    const b = makeBatch();
    b[MAGIC_OFFSET] = magic;
    await expectRefused(log, dir, b, ErrorCode.INVALID_RECORD);
  }
});

test("a truncated batch (no complete batch at all) is INVALID_RECORD, as in Kafka", async (t) => {
  const { log, dir } = await openTestLog(t);
  const b = makeBatch({ count: 5 });
  await expectRefused(log, dir, b.subarray(0, b.length - 7), ErrorCode.INVALID_RECORD);
  await expectRefused(log, dir, Buffer.alloc(0), ErrorCode.INVALID_RECORD);
});

test("bytes after a complete batch that do not make a batch are dropped, as Kafka trims them", async (t) => {
  const { log } = await openTestLog(t);
  const b = makeBatch({ count: 2 });
  const blob = Buffer.concat([b, b.subarray(0, 30)]);
  const r = await log.append(blob);
  assert.deepEqual([r.baseOffset, r.lastOffset], [0, 1]);
  assert.equal(log.sizeInBytes, b.length);
});

test("more than one batch in a client append is INVALID_RECORD", async (t) => {
  const { log, dir } = await openTestLog(t);
  await expectRefused(log, dir, Buffer.concat([makeBatch(), makeBatch()]), ErrorCode.INVALID_RECORD);
});

test("a non-zero baseOffset from a client is INVALID_RECORD unless allowed", async (t) => {
  const { log, dir } = await openTestLog(t);
  const b = makeBatch({ baseOffset: 5n });
  await expectRefused(log, dir, b, ErrorCode.INVALID_RECORD);
  const r = await log.append(makeBatch({ baseOffset: 5n }), { requireZeroBaseOffset: false });
  assert.equal(r.baseOffset, 0);
});

test("lastOffsetDelta + 1 different from the record count is INVALID_RECORD", async (t) => {
  const { log, dir } = await openTestLog(t);
  await expectRefused(log, dir, makeBatch({ count: 2, lastOffsetDelta: 4 }), ErrorCode.INVALID_RECORD);
});

test("a batch with no records is INVALID_RECORD from a client", async (t) => {
  const { log, dir } = await openTestLog(t);
  await expectRefused(log, dir, makeBatch({ records: [] }), ErrorCode.INVALID_RECORD);
});

test("a control batch from a client is INVALID_RECORD", async (t) => {
  const { log, dir } = await openTestLog(t);
  const marker = encodeEndTxnMarkerBatch({
    commit: true,
    coordinatorEpoch: 1,
    producerId: 9n,
    producerEpoch: 0,
  });
  await expectRefused(log, dir, marker, ErrorCode.INVALID_RECORD);
});

test("a producer id with a negative base sequence is INVALID_RECORD", async (t) => {
  const { log, dir } = await openTestLog(t);
  await expectRefused(
    log,
    dir,
    makeBatch({ producerId: 4n, producerEpoch: 0, baseSequence: -1 }),
    ErrorCode.INVALID_RECORD,
  );
});

test("a malformed record inside an uncompressed batch is INVALID_RECORD with its index", async (t) => {
  const { log, dir } = await openTestLog(t);
  const b = makeBatch({ count: 3 });
  // The first record's length varint: claim more bytes than the batch holds.
  b[RECORDS_OFFSET] = 0x7e;
  const err = await expectRefused(log, dir, withFixedCrc(b), ErrorCode.INVALID_RECORD);
  assert.ok(err instanceof RecordValidationError);
  assert.equal(err.recordErrors[0]?.batchIndex, 0);
});

test("a record count larger than the records present is INVALID_RECORD", async (t) => {
  const { log, dir } = await openTestLog(t);
  const b = makeBatch({ count: 2, lastOffsetDelta: 2 });
  b.writeInt32BE(3, 57);
  await expectRefused(log, dir, withFixedCrc(b), ErrorCode.INVALID_RECORD);
});

test("records without a key on a compacted topic are INVALID_RECORD", async (t) => {
  const { log, dir } = await openTestLog(t, { cleanupPolicy: "compact" });
  await expectRefused(
    log,
    dir,
    makeBatch({ records: [{ value: Buffer.from("v") }] }),
    ErrorCode.INVALID_RECORD,
  );
  const gz = makeBatch({
    compression: CompressionCodec.GZIP,
    records: [{ key: null, value: Buffer.from("v") }],
  });
  await expectRefused(log, dir, gz, ErrorCode.INVALID_RECORD);
  await log.append(makeBatch({ records: [{ key: Buffer.from("k"), value: Buffer.from("v") }] }));
});

test("a batch above max.message.bytes is MESSAGE_TOO_LARGE", async (t) => {
  const { log, dir } = await openTestLog(t, { maxMessageBytes: 500 });
  await expectRefused(log, dir, makeBatch({ valueSize: 600 }), ErrorCode.MESSAGE_TOO_LARGE);
});

test("records larger than segment.bytes are RECORD_LIST_TOO_LARGE", async (t) => {
  const { log, dir } = await openTestLog(t, { segmentBytes: 300 });
  await expectRefused(log, dir, makeBatch({ valueSize: 400 }), ErrorCode.RECORD_LIST_TOO_LARGE);
});

test("an unknown compression codec is CORRUPT_MESSAGE", async (t) => {
  const { log, dir } = await openTestLog(t);
  const b = makeBatch();
  b.writeInt16BE(b.readInt16BE(ATTRIBUTES_OFFSET) | 5, ATTRIBUTES_OFFSET);
  await expectRefused(log, dir, withFixedCrc(b), ErrorCode.CORRUPT_MESSAGE);
});

test("a timestamp beyond message.timestamp.after.max.ms (1 hour by default) is INVALID_TIMESTAMP", async (t) => {
  const { log, dir } = await openTestLog(t);
  await expectRefused(log, dir, makeBatch({ timestamp: T0 + 3_600_001 }), ErrorCode.INVALID_TIMESTAMP);
  const lz4 = makeBatch({ compression: CompressionCodec.LZ4, timestamp: T0 + 7_200_000 });
  await expectRefused(log, dir, lz4, ErrorCode.INVALID_TIMESTAMP);
  await log.append(makeBatch({ timestamp: T0 + 3_600_000 }));
});

test("a timestamp older than message.timestamp.before.max.ms is INVALID_TIMESTAMP, compressed or not", async (t) => {
  const { log, dir } = await openTestLog(t, { messageTimestampBeforeMaxMs: 1000 });
  const old = [
    { value: Buffer.from("a"), timestamp: T0 },
    { value: Buffer.from("b"), timestamp: T0 - 5000 },
  ];
  await expectRefused(log, dir, makeBatch({ records: old }), ErrorCode.INVALID_TIMESTAMP);
  await expectRefused(
    log,
    dir,
    makeBatch({ records: old, compression: CompressionCodec.ZSTD }),
    ErrorCode.INVALID_TIMESTAMP,
  );
});

test("a producer-set LogAppendTime batch on a LogAppendTime topic is INVALID_TIMESTAMP", async (t) => {
  const { log, dir } = await openTestLog(t, { messageTimestampType: "LogAppendTime" });
  await expectRefused(
    log,
    dir,
    makeBatch({ timestampType: TimestampType.LOG_APPEND_TIME }),
    ErrorCode.INVALID_TIMESTAMP,
  );
});

test("an uncompressed batch whose header maxTimestamp is wrong is stored with the true one", async (t) => {
  const { log } = await openTestLog(t);
  const records = [
    { value: Buffer.from("a"), timestamp: T0 - 10 },
    { value: Buffer.from("b"), timestamp: T0 - 5 },
  ];
  await log.append(makeBatch({ records, maxTimestamp: T0 - 1000 }));
  const stored = await log.read(0, 1000);
  assert.equal(readBatchHeader(stored).maxTimestamp, T0 - 5);
  assert.ok(verifyBatchCrc(stored));
});

test("the append after refused ones still starts at offset 0", async (t) => {
  const { log, dir } = await openTestLog(t);
  const bad = makeBatch();
  flipByte(bad, bad.length - 1, 1);
  await expectRefused(log, dir, bad, ErrorCode.CORRUPT_MESSAGE);
  await expectRefused(log, dir, makeBatch({ baseOffset: 3n }), ErrorCode.INVALID_RECORD);
  const r = await log.append(makeBatch({ count: 4 }));
  assert.deepEqual([r.baseOffset, r.lastOffset, r.recordCount], [0, 3, 4]);
});
