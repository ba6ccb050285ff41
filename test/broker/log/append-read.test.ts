// Offset assignment and read semantics: batches stored exactly as sent but for baseOffset
// and leader epoch, whole batches from the one holding the requested offset, maxBytes with
// at least one batch (KIP-74), the upTo limit, and the same answers from memory and disk.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CompressionCodec } from "../../../src/protocol/compression/index.ts";
import { ErrorCode, KafkaError } from "../../../src/protocol/error-codes.ts";
import { decodeBatch, decodeBatches, encodeBatch } from "../../../src/protocol/records/batch-codec.ts";
import {
  BASE_OFFSET_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  TimestampType,
  readBatchHeader,
  timestampTypeOf,
  verifyBatchCrc,
} from "../../../src/protocol/records/batch-header.ts";
import { T0, makeBatch, openTestLog, rangesOf, readAll } from "./helpers.ts";

async function expectCode(p: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof KafkaError && e.code === code);
}

test("offsets are assigned consecutively from 0, batch after batch", async (t) => {
  const { log } = await openTestLog(t);
  const counts = [1, 5, 2, 7];
  let expected = 0;
  for (const count of counts) {
    const r = await log.append(makeBatch({ count }));
    assert.deepEqual(r, {
      baseOffset: expected,
      lastOffset: expected + count - 1,
      logAppendTime: -1,
      logStartOffset: 0,
      recordCount: count,
    });
    expected += count;
  }
  assert.equal(log.logEndOffset, 15);
  assert.equal(log.highWatermark, 15);
});

test("concurrent appends resolve in call order with increasing offsets", async (t) => {
  const { log } = await openTestLog(t);
  const order: number[] = [];
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      log.append(makeBatch({ count: 1 + (i % 3) })).then((r) => {
        order.push(i);
        return r;
      }),
    ),
  );
  assert.deepEqual(
    order,
    Array.from({ length: 200 }, (_, i) => i),
  );
  for (let i = 1; i < results.length; i++) {
    assert.equal(results[i]?.baseOffset, (results[i - 1]?.lastOffset ?? -2) + 1);
  }
});

test("stored batches are byte-identical to what was sent except baseOffset and leader epoch", async (t) => {
  const { log } = await openTestLog(t, {}, { leaderEpoch: 3 });
  for (const compression of [0, 1, 2, 3, 4]) {
    const sent = makeBatch({ count: 4, compression });
    const copy = Buffer.from(sent);
    const r = await log.append(sent);
    const stored = await log.read(r.baseOffset, 1);
    assert.equal(stored.length, copy.length);
    assert.equal(stored.readBigInt64BE(BASE_OFFSET_OFFSET), BigInt(r.baseOffset));
    assert.equal(stored.readInt32BE(PARTITION_LEADER_EPOCH_OFFSET), 3);
    assert.ok(stored.subarray(16).equals(copy.subarray(16)), `codec ${compression}`);
    assert.ok(verifyBatchCrc(stored));
    assert.equal(decodeBatch(stored).records.length, 4);
  }
});

test("a read returns whole batches starting with the one containing the offset", async (t) => {
  const { log } = await openTestLog(t);
  await log.append(makeBatch({ count: 3 })); // 0-2
  await log.append(makeBatch({ count: 3 })); // 3-5
  await log.append(makeBatch({ count: 3 })); // 6-8
  assert.deepEqual(rangesOf(await log.read(4, 10_000)), [
    [3, 5],
    [6, 8],
  ]);
  assert.deepEqual(rangesOf(await log.read(0, 10_000)), [
    [0, 2],
    [3, 5],
    [6, 8],
  ]);
});

test("maxBytes limits a read to whole batches, yet the first batch comes even if larger", async (t) => {
  const { log } = await openTestLog(t);
  const size = makeBatch({ valueSize: 100 }).length;
  for (let i = 0; i < 5; i++) await log.append(makeBatch({ valueSize: 100 }));
  assert.deepEqual(rangesOf(await log.read(0, 2 * size + 10)), [
    [0, 0],
    [1, 1],
  ]);
  assert.deepEqual(rangesOf(await log.read(1, 5)), [[1, 1]]);
  assert.equal((await log.read(1, 5, { minOneBatch: false })).length, 0);
  assert.equal((await log.read(1, 0)).length, size);
});

test("upTo excludes batches reaching it", async (t) => {
  const { log } = await openTestLog(t);
  await log.append(makeBatch({ count: 2 })); // 0-1
  await log.append(makeBatch({ count: 2 })); // 2-3
  await log.append(makeBatch({ count: 2 })); // 4-5
  assert.deepEqual(rangesOf(await log.read(0, 10_000, { upTo: 4 })), [
    [0, 1],
    [2, 3],
  ]);
  assert.deepEqual(rangesOf(await log.read(0, 10_000, { upTo: 3 })), [[0, 1]]);
  assert.equal((await log.read(2, 10_000, { upTo: 3 })).length, 0);
  assert.equal((await log.read(0, 10_000, { upTo: 100 })).length > 0, true);
});

test("reading at the log end is empty; beyond it or below the start is OFFSET_OUT_OF_RANGE", async (t) => {
  const { log } = await openTestLog(t);
  await log.append(makeBatch({ count: 2 }));
  assert.equal((await log.read(2, 1000)).length, 0);
  await expectCode(log.read(3, 1000), ErrorCode.OFFSET_OUT_OF_RANGE);
  await log.deleteRecordsBefore(1);
  await expectCode(log.read(0, 1000), ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.deepEqual(rangesOf(await log.read(1, 1000)), [[0, 1]]);
});

test("reads from disk and from the tail cache give the same bytes", async (t) => {
  const small = await openTestLog(t, { segmentBytes: 8192, indexIntervalBytes: 256 }, { tailCacheBytes: 64 });
  const big = await openTestLog(t, { segmentBytes: 8192, indexIntervalBytes: 256 });
  for (let i = 0; i < 120; i++) {
    const spec = { count: 1 + (i % 4), valueSize: (i * 37) % 200 };
    await small.log.append(makeBatch(spec));
    await big.log.append(makeBatch(spec));
  }
  assert.ok(small.log.segmentInfo().length > 3);
  for (const offset of [0, 1, 17, 100, 150, 250, small.log.highWatermark - 1]) {
    for (const maxBytes of [1, 500, 3000, 100_000]) {
      const a = await small.log.read(offset, maxBytes);
      const b = await big.log.read(offset, maxBytes);
      assert.ok(a.equals(b), `offset ${offset} maxBytes ${maxBytes}`);
      const first = rangesOf(a)[0];
      assert.ok(first !== undefined && first[0] <= offset && offset <= first[1]);
    }
  }
  assert.equal((await readAll(small.log)).length, 120);
});

test("LogAppendTime topics stamp the broker time into maxTimestamp with a valid CRC", async (t) => {
  const { log, clock } = await openTestLog(t, { messageTimestampType: "LogAppendTime" });
  clock.t = T0 + 12_345;
  for (const compression of [CompressionCodec.NONE, CompressionCodec.SNAPPY]) {
    const r = await log.append(makeBatch({ count: 3, compression, timestamp: T0 - 99_999_999 }));
    assert.equal(r.logAppendTime, T0 + 12_345);
    const stored = await log.read(r.baseOffset, 1);
    const h = readBatchHeader(stored);
    assert.equal(timestampTypeOf(h.attributes), TimestampType.LOG_APPEND_TIME);
    assert.equal(h.maxTimestamp, T0 + 12_345);
    assert.ok(verifyBatchCrc(stored));
    for (const rec of decodeBatch(stored).records) assert.equal(rec.timestamp, T0 + 12_345);
  }
});

test("the log takes old timestamps on CreateTime topics by default", async (t) => {
  const { log } = await openTestLog(t);
  const r = await log.append(makeBatch({ timestamp: 1000 }));
  assert.equal(r.logAppendTime, -1);
});

test("appendAtOffsets keeps the batches' own offsets and gaps and refuses going back", async (t) => {
  const { log } = await openTestLog(t);
  const at = (base: bigint, count: number): Buffer =>
    encodeBatch({
      baseOffset: base,
      timestamp: T0,
      records: Array.from({ length: count }, () => ({ value: Buffer.from("v") })),
    });
  const sent = at(10n, 3);
  const copy = Buffer.from(sent);
  const r = await log.appendAtOffsets(sent);
  assert.deepEqual([r.baseOffset, r.lastOffset], [10, 12]);
  await log.appendAtOffsets(Buffer.concat([at(20n, 2), at(30n, 1)]));
  assert.equal(log.logEndOffset, 31);
  assert.ok((await log.read(10, 1)).equals(copy));
  assert.deepEqual(rangesOf(await log.read(15, 10_000)), [
    [20, 21],
    [30, 30],
  ]);
  await expectCode(log.appendAtOffsets(at(25n, 1)), ErrorCode.INVALID_RECORD);
  await expectCode(log.appendAtOffsets(Buffer.concat([at(40n, 2), at(41n, 1)])), ErrorCode.INVALID_RECORD);
  assert.equal(log.logEndOffset, 31);
});

test("appendAtOffsets far above the active segment's range starts a new segment", async (t) => {
  const { log } = await openTestLog(t);
  await log.append(makeBatch());
  const far = encodeBatch({ baseOffset: 2n ** 33n, timestamp: T0, records: [{ value: Buffer.from("x") }] });
  await log.appendAtOffsets(far);
  assert.deepEqual(
    log.segmentInfo().map((s) => s.baseOffset),
    [0, 2 ** 33],
  );
  assert.deepEqual(rangesOf(await log.read(1, 1000)), [[2 ** 33, 2 ** 33]]);
});

test("decoded records of a read carry the assigned offsets", async (t) => {
  const { log } = await openTestLog(t);
  await log.append(makeBatch({ count: 2 }));
  await log.append(makeBatch({ count: 3 }));
  const batches = decodeBatches(await log.read(0, 100_000));
  const offsets = batches.flatMap((b) => b.records.map((r) => Number(b.header.baseOffset) + r.offsetDelta));
  assert.deepEqual(offsets, [0, 1, 2, 3, 4]);
});
