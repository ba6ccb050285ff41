// Idempotent producers: retried batches answered with their original offsets and never
// written twice, sequence gaps and fenced epochs refused with Kafka's codes, sequence
// wrap-around, and producer state rebuilt when the log is reopened (cleanly or after a crash).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, KafkaError } from "../../../src/protocol/error-codes.ts";
import { PartitionLog } from "../../../src/broker/log/partition-log.ts";
import { lastSequence } from "../../../src/broker/log/producer-state.ts";
import { makeBatch, openTestLog, readAll, type BatchSpec } from "./helpers.ts";

const INT32_MAX = 0x7fffffff;

function idem(baseSequence: number, count = 1, producerEpoch = 0, producerId = 42n): Buffer {
  const spec: BatchSpec = { count, producerId, producerEpoch, baseSequence };
  return makeBatch(spec);
}

async function expectCode(p: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof KafkaError && e.code === code);
}

test("a retried batch is answered with its original offsets and written once", async (t) => {
  const { log } = await openTestLog(t);
  const first = await log.append(idem(0, 3));
  await log.append(idem(3, 2));
  const size = log.sizeInBytes;
  const retry = await log.append(idem(0, 3));
  assert.deepEqual(retry, first);
  assert.equal(log.sizeInBytes, size);
  assert.equal(log.logEndOffset, 5);
});

test("any of the last five batches is recognised as a duplicate; an older one is out of order", async (t) => {
  const { log } = await openTestLog(t);
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await log.append(idem(i * 2, 2)));
  for (let i = 1; i < 6; i++) assert.deepEqual(await log.append(idem(i * 2, 2)), results[i]);
  await expectCode(log.append(idem(0, 2)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(log.logEndOffset, 12);
});

test("a retry of a batch still being written waits for it and gets its offsets", async (t) => {
  const { log } = await openTestLog(t);
  const a = log.append(idem(0, 2));
  const b = log.append(idem(0, 2));
  const [ra, rb] = await Promise.all([a, b]);
  assert.deepEqual(rb, ra);
  assert.equal((await readAll(log)).length, 1);
});

test("a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER and writes nothing", async (t) => {
  const { log } = await openTestLog(t);
  await log.append(idem(0, 2));
  await expectCode(log.append(idem(3)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  await expectCode(log.append(idem(1)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(log.logEndOffset, 2);
  assert.equal((await log.append(idem(2))).baseOffset, 2);
});

test("an older epoch is INVALID_PRODUCER_EPOCH", async (t) => {
  const { log } = await openTestLog(t);
  await log.append(idem(0, 1, 5));
  await expectCode(log.append(idem(1, 1, 4)), ErrorCode.INVALID_PRODUCER_EPOCH);
  await expectCode(log.append(idem(0, 1, 4)), ErrorCode.INVALID_PRODUCER_EPOCH);
  assert.equal(log.logEndOffset, 1);
});

test("a new epoch must start at sequence 0", async (t) => {
  const { log } = await openTestLog(t);
  await log.append(idem(0, 3, 1));
  await expectCode(log.append(idem(3, 1, 2)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  await log.append(idem(0, 1, 2));
  assert.equal(log.producerState(42)?.producerEpoch, 2);
  // The old epoch is now fenced, even for a retry of its batches.
  await expectCode(log.append(idem(0, 3, 1)), ErrorCode.INVALID_PRODUCER_EPOCH);
});

test("a producer the log does not know may start at any sequence, as Kafka 3.x/4.x accept", async (t) => {
  const { log } = await openTestLog(t);
  const r = await log.append(idem(1000, 2));
  assert.equal(r.baseOffset, 0);
  await expectCode(log.append(idem(1003)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  await log.append(idem(1002));
});

test("sequences wrap from int32 max to 0", async (t) => {
  const { log } = await openTestLog(t);
  assert.equal(lastSequence(INT32_MAX - 1, 2), 0);
  await log.append(idem(INT32_MAX - 3, 2)); // ..max-2
  await log.append(idem(INT32_MAX - 1, 3)); // max-1, max, 0
  const r = await log.append(idem(1, 1));
  assert.equal(r.baseOffset, 5);
  const state = log.producerState(42);
  assert.deepEqual(
    state?.batches.map((b) => [b.firstSeq, b.lastSeq]),
    [
      [INT32_MAX - 3, INT32_MAX - 2],
      [INT32_MAX - 1, 0],
      [1, 1],
    ],
  );
  await log.append(idem(2));
});

test("producers are independent of each other", async (t) => {
  const { log } = await openTestLog(t);
  await log.append(idem(0, 1, 0, 1n));
  await log.append(idem(0, 1, 0, 2n));
  await log.append(idem(1, 1, 0, 1n));
  assert.deepEqual(await log.append(idem(0, 1, 0, 2n)), {
    baseOffset: 1,
    lastOffset: 1,
    logAppendTime: -1,
    logStartOffset: 0,
    recordCount: 1,
  });
});

test("a duplicate on a LogAppendTime topic answers the original append time", async (t) => {
  const { log, clock } = await openTestLog(t, { messageTimestampType: "LogAppendTime" });
  const first = await log.append(idem(0, 2));
  clock.t += 5000;
  assert.deepEqual(await log.append(idem(0, 2)), first);
});

test("producer state survives a clean close and reopen (from the snapshot)", async (t) => {
  const { log, dir, config, clock } = await openTestLog(t, { segmentBytes: 300 });
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await log.append(idem(i, 1, 0)));
  await log.close();
  assert.ok((await readdir(dir)).includes("00000000000000000006.snapshot"));
  const reopened = await PartitionLog.open(dir, config, { now: clock.now });
  try {
    assert.equal(reopened.recovery.cleanShutdown, true);
    assert.deepEqual(await reopened.append(idem(5, 1, 0)), { ...results[5], logStartOffset: 0 });
    await expectCode(reopened.append(idem(7, 1, 0)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal((await reopened.append(idem(6, 1, 0))).baseOffset, 6);
  } finally {
    await reopened.close();
  }
});

test("producer state survives a crash (rebuilt from segment snapshots and the log)", async (t) => {
  const { log, dir, config, clock } = await openTestLog(t, { segmentBytes: 300 });
  for (let i = 0; i < 8; i++) await log.append(idem(i * 2, 2, 3));
  // No close: a second instance opens the directory as a restarted process would.
  const reopened = await PartitionLog.open(dir, config, { now: clock.now });
  try {
    assert.equal(reopened.recovery.cleanShutdown, false);
    assert.equal(reopened.producerState(42)?.producerEpoch, 3);
    assert.equal(reopened.producerState(42)?.batches.at(-1)?.lastSeq, 15);
    assert.equal((await reopened.append(idem(14, 2, 3))).baseOffset, 14);
    await expectCode(reopened.append(idem(2, 1, 2)), ErrorCode.INVALID_PRODUCER_EPOCH);
  } finally {
    await reopened.close();
  }
});

test("producer state is rebuilt from the log when every snapshot is gone or corrupt", async (t) => {
  const { log, dir, config, clock } = await openTestLog(t, { segmentBytes: 300 });
  for (let i = 0; i < 8; i++) await log.append(idem(i, 1, 1));
  await log.close();
  const snapshots = (await readdir(dir)).filter((f) => f.endsWith(".snapshot"));
  assert.ok(snapshots.length >= 2);
  await writeFile(join(dir, snapshots[0] as string), "garbage");
  for (const f of snapshots.slice(1)) await unlink(join(dir, f));
  const reopened = await PartitionLog.open(dir, config, { now: clock.now });
  try {
    assert.equal(reopened.producerState(42)?.batches.length, 5);
    assert.equal((await reopened.append(idem(7, 1, 1))).baseOffset, 7);
  } finally {
    await reopened.close();
  }
});
