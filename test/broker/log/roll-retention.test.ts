// Segment rolls (size, time, full index), retention by time and size, DeleteRecords, and
// the ListOffsets lookups (by timestamp, newest timestamp) across segments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { CompressionCodec } from "../../../src/protocol/compression/index.ts";
import { ErrorCode, KafkaError } from "../../../src/protocol/error-codes.ts";
import { PartitionLog } from "../../../src/broker/log/partition-log.ts";
import { logConfig } from "../../../src/broker/log/log-config.ts";
import { Clock, T0, makeBatch, openTestLog, rangesOf, readAll } from "./helpers.ts";

const HOUR = 3_600_000;

test("a segment rolls before segment.bytes would be exceeded, at the next batch's offset", async (t) => {
  const { log } = await openTestLog(t, { segmentBytes: 1000 });
  const size = makeBatch({ count: 2, valueSize: 100 }).length;
  for (let i = 0; i < 10; i++) await log.append(makeBatch({ count: 2, valueSize: 100 }));
  const segs = log.segmentInfo();
  const perSegment = Math.floor(1000 / size);
  assert.equal(segs.length, Math.ceil(10 / perSegment));
  segs.forEach((s, i) => {
    assert.equal(s.baseOffset, i * perSegment * 2);
    assert.ok(s.size <= 1000);
  });
  assert.equal((await readAll(log)).length, 10);
});

test("a segment rolls when segment.ms passed since its first batch's timestamp", async (t) => {
  const { log, clock } = await openTestLog(t, { segmentMs: HOUR });
  await log.append(makeBatch({ timestamp: T0 }));
  await log.append(makeBatch({ timestamp: T0 + HOUR }));
  assert.equal(log.segmentInfo().length, 1);
  clock.t = T0 + HOUR + 1;
  await log.append(makeBatch({ timestamp: T0 + HOUR + 1 }));
  assert.deepEqual(
    log.segmentInfo().map((s) => s.baseOffset),
    [0, 2],
  );
});

test("applyRetention rolls an idle active segment once segment.ms has passed", async (t) => {
  const { log, clock } = await openTestLog(t, { segmentMs: HOUR, retentionMs: -1 });
  await log.append(makeBatch({ timestamp: T0 }));
  clock.t = T0 + HOUR + 1;
  assert.equal(await log.applyRetention(), 0);
  assert.deepEqual(
    log.segmentInfo().map((s) => s.baseOffset),
    [0, 1],
  );
  assert.equal(log.segmentInfo()[1]?.size, 0);
});

test("a segment rolls when its index would be full", async (t) => {
  // 24 bytes: an offset index of 3 entries, a time index of 2.
  const { log } = await openTestLog(t, { segmentIndexBytes: 24, indexIntervalBytes: 1 });
  for (let i = 0; i < 12; i++) await log.append(makeBatch());
  assert.ok(log.segmentInfo().length >= 4, JSON.stringify(log.segmentInfo()));
  assert.equal((await readAll(log)).length, 12);
});

test("time retention deletes segments whose newest record is older than retention.ms", async (t) => {
  const { log, dir, clock } = await openTestLog(t, {
    segmentBytes: 200,
    retentionMs: HOUR,
    fileDeleteDelayMs: 0,
  });
  for (let i = 0; i < 6; i++) {
    clock.t = T0 + i * HOUR;
    await log.append(makeBatch({ timestamp: clock.t, valueSize: 100 }));
  }
  assert.equal(log.segmentInfo().length, 6);
  clock.t = T0 + 5 * HOUR - 1;
  // Segments with records at T0..T0+3h are older than one hour.
  assert.equal(await log.applyRetention(), 4);
  assert.equal(log.logStartOffset, 4);
  assert.deepEqual((await readAll(log)).flatMap(rangesOf), [
    [4, 4],
    [5, 5],
  ]);
  await assert.rejects(
    log.read(3, 100),
    (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE,
  );
  await new Promise((r) => setTimeout(r, 20));
  const files = await readdir(dir);
  assert.ok(!files.some((f) => f.startsWith("00000000000000000000.")), files.join(" "));
  assert.ok(!files.some((f) => f.endsWith(".deleted")), files.join(" "));
});

test("time retention can delete the active segment: the log rolls, empties and keeps its offsets", async (t) => {
  const { log, clock } = await openTestLog(t, { retentionMs: HOUR });
  await log.append(makeBatch({ count: 3, timestamp: T0 }));
  clock.t = T0 + 2 * HOUR;
  assert.equal(await log.applyRetention(), 1);
  assert.equal(log.logStartOffset, 3);
  assert.equal(log.logEndOffset, 3);
  assert.equal((await log.read(3, 1000)).length, 0);
  const r = await log.append(makeBatch({ timestamp: clock.t }));
  assert.equal(r.baseOffset, 3);
});

test("size retention deletes the oldest segments while the log exceeds retention.bytes", async (t) => {
  const size = makeBatch({ valueSize: 100 }).length;
  const { log } = await openTestLog(t, {
    segmentBytes: size,
    retentionBytes: 3 * size,
    fileDeleteDelayMs: 0,
  });
  for (let i = 0; i < 6; i++) await log.append(makeBatch({ valueSize: 100 }));
  assert.equal(log.segmentInfo().length, 6);
  assert.equal(await log.applyRetention(), 3);
  assert.equal(log.sizeInBytes, 3 * size);
  assert.equal(log.logStartOffset, 3);
});

test("retention never deletes anything on a compact-only topic", async (t) => {
  const { log, clock } = await openTestLog(t, {
    segmentBytes: 300,
    retentionMs: 1,
    retentionBytes: 1,
    cleanupPolicy: "compact",
  });
  for (let i = 0; i < 3; i++) await log.append(makeBatch({ valueSize: 150, timestamp: T0 }));
  clock.t = T0 + 10 * HOUR;
  assert.equal(await log.applyRetention(), 0);
  assert.equal(log.logStartOffset, 0);
});

test("deleteRecordsBefore moves logStartOffset, deletes whole segments below it and survives a restart", async (t) => {
  const { log, dir, config, clock } = await openTestLog(t, { segmentBytes: 250, fileDeleteDelayMs: 0 });
  for (let i = 0; i < 5; i++) await log.append(makeBatch({ count: 2, valueSize: 60 }));
  assert.equal(log.segmentInfo().length, 5);
  assert.equal(await log.deleteRecordsBefore(5), 5);
  assert.deepEqual(
    log.segmentInfo().map((s) => s.baseOffset),
    [4, 6, 8],
  );
  assert.equal(await log.deleteRecordsBefore(3), 5, "never moves back");
  await assert.rejects(
    log.deleteRecordsBefore(11),
    (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE,
  );
  assert.deepEqual(rangesOf(await log.read(5, 100_000))[0], [4, 5]);
  await log.close();
  const reopened = await PartitionLog.open(dir, config, { now: clock.now });
  assert.equal(reopened.logStartOffset, 5);
  assert.equal(reopened.logEndOffset, 10);
  await reopened.close();
});

test("deleteRecordsBefore the high watermark empties the readable log", async (t) => {
  const { log } = await openTestLog(t);
  await log.append(makeBatch({ count: 4 }));
  assert.equal(await log.deleteRecordsBefore(4), 4);
  assert.equal((await log.read(4, 1000)).length, 0);
  assert.equal((await log.append(makeBatch())).baseOffset, 4);
});

test("offsetForTimestamp finds the first record at or after a timestamp, inside batches and across segments", async (t) => {
  const { log } = await openTestLog(t, { segmentBytes: 400, indexIntervalBytes: 1 });
  // Records at T0 + 10*i; batches of 3 records, some compressed.
  for (let b = 0; b < 8; b++) {
    const records = [0, 1, 2].map((j) => ({
      value: Buffer.from(`r${b}-${j}`),
      timestamp: T0 + 10 * (3 * b + j),
    }));
    await log.append(
      makeBatch({ records, compression: b % 2 === 0 ? CompressionCodec.NONE : CompressionCodec.GZIP }),
    );
  }
  assert.ok(log.segmentInfo().length > 2);
  for (const [ts, offset] of [
    [T0 - 5, 0],
    [T0, 0],
    [T0 + 1, 1],
    [T0 + 40, 4],
    [T0 + 41, 5],
    [T0 + 230, 23],
  ] as const) {
    assert.deepEqual(
      await log.offsetForTimestamp(ts),
      { offset, timestamp: T0 + 10 * offset, leaderEpoch: 0 },
      `ts ${ts - T0}`,
    );
  }
  assert.equal(await log.offsetForTimestamp(T0 + 231), null);
  await log.deleteRecordsBefore(7);
  assert.equal((await log.offsetForTimestamp(T0))?.offset, 7);
});

test("offsetForTimestamp handles timestamps that go back and forth", async (t) => {
  const { log } = await openTestLog(t, { indexIntervalBytes: 1 });
  const stamps = [50, 10, 60, 20, 70, 30];
  for (const s of stamps) await log.append(makeBatch({ timestamp: T0 + s }));
  assert.equal((await log.offsetForTimestamp(T0 + 55))?.offset, 2);
  assert.equal((await log.offsetForTimestamp(T0 + 15))?.offset, 0);
  assert.equal((await log.offsetForTimestamp(T0 + 65))?.offset, 4);
});

test("offsetForTimestamp on a LogAppendTime topic answers the first record of the batch", async (t) => {
  const { log, clock } = await openTestLog(t, { messageTimestampType: "LogAppendTime" });
  clock.t = T0 + 100;
  await log.append(makeBatch({ count: 3 }));
  clock.t = T0 + 200;
  await log.append(makeBatch({ count: 3 }));
  assert.deepEqual(await log.offsetForTimestamp(T0 + 150), {
    offset: 3,
    timestamp: T0 + 200,
    leaderEpoch: 0,
  });
});

test("maxTimestamp answers the first record carrying the newest timestamp", async (t) => {
  const { log } = await openTestLog(t, { segmentBytes: 300 });
  assert.equal(await log.maxTimestamp(), null);
  await log.append(makeBatch({ records: [{ value: Buffer.from("a"), timestamp: T0 + 5 }] }));
  const records = [T0 + 1, T0 + 99, T0 + 3, T0 + 99].map((timestamp) => ({
    value: Buffer.from("x"),
    timestamp,
  }));
  await log.append(makeBatch({ records }));
  await log.append(makeBatch({ records: [{ value: Buffer.from("z"), timestamp: T0 + 7 }], valueSize: 200 }));
  assert.deepEqual(await log.maxTimestamp(), { offset: 2, timestamp: T0 + 99, leaderEpoch: 0 });
});

test("a rolled segment's index and time index files are written", async (t) => {
  const { log, dir } = await openTestLog(t, { segmentBytes: 300, indexIntervalBytes: 1 });
  for (let i = 0; i < 4; i++) await log.append(makeBatch({ valueSize: 100 }));
  await log.flush();
  const files = await readdir(dir);
  for (const f of [
    "00000000000000000000.index",
    "00000000000000000000.timeindex",
    "00000000000000000002.snapshot",
  ]) {
    assert.ok(files.includes(f), `${f} in ${files.join(" ")}`);
  }
});

test("setConfig changes segment.bytes for later appends", async (t) => {
  const { log } = await openTestLog(t);
  await log.append(makeBatch({ valueSize: 100 }));
  log.setConfig(logConfig({ segmentBytes: 200 }));
  await log.append(makeBatch({ valueSize: 100 }));
  assert.equal(log.segmentInfo().length, 2);
  assert.throws(() => log.setConfig(logConfig({ segmentBytes: 0 })), KafkaError);
});

test("producers idle longer than producer.id.expiration.ms are forgotten by applyRetention", async (t) => {
  const { log, clock } = await openTestLog(t, { producerIdExpirationMs: HOUR, retentionMs: -1 });
  await log.append(makeBatch({ producerId: 1n, producerEpoch: 0, baseSequence: 0, timestamp: T0 }));
  clock.t = T0 + HOUR - 1;
  await log.applyRetention();
  assert.ok(log.producerState(1) !== undefined);
  clock.t = T0 + HOUR;
  await log.applyRetention();
  assert.equal(log.producerState(1), undefined);
});

test("the clock passed at open is used for LogAppendTime", async (t) => {
  const clock = new Clock(T0 + 5);
  const { log } = await openTestLog(t, { messageTimestampType: "LogAppendTime" }, { clock });
  assert.equal((await log.append(makeBatch())).logAppendTime, T0 + 5);
});
