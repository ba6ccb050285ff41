// The log cleaner on one partition log: latest value per key, offsets kept, tombstones and
// their delete horizon, compressed batches, transactions, producer state, the limits of what
// may be cleaned (active segment, min.compaction.lag.ms, last stable offset), compact,delete,
// and fetches running while segments are swapped.
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { test } from "node:test";
import { CompressionCodec } from "../../../src/protocol/compression/index.ts";
import { encodeBatch, encodeEndTxnMarkerBatch } from "../../../src/protocol/records/batch-codec.ts";
import {
  compressionOf,
  hasDeleteHorizon,
  verifyBatchCrc,
} from "../../../src/protocol/records/batch-header.ts";
import type { PartitionLog } from "../../../src/broker/log/partition-log.ts";
import { T0, openTestLog, readAll } from "./helpers.ts";
import { cleanerFor, latestByKey, readRecords } from "./cleaner-helpers.ts";

const COMPACT = {
  cleanupPolicy: "compact",
  segmentBytes: 2048,
  minCleanableDirtyRatio: 0.01,
  fileDeleteDelayMs: 0,
} as const;

/** Appends one record per call; returns offset → [key, value] of what was written. */
async function writeUpdates(
  log: PartitionLog,
  count: number,
  keys: number,
  opts: { from?: number; prefix?: string } = {},
): Promise<Map<number, [string, string]>> {
  const written = new Map<number, [string, string]>();
  for (let i = opts.from ?? 0; i < (opts.from ?? 0) + count; i++) {
    const key = `${opts.prefix ?? "k"}${i % keys}`;
    const value = `v${i}`;
    const r = await log.append(
      encodeBatch({ timestamp: T0 + i, records: [{ key: Buffer.from(key), value: Buffer.from(value) }] }),
    );
    written.set(r.baseOffset, [key, value]);
  }
  await log.flush();
  return written;
}

test("a topic with many updates per key compacts to the latest value per key, at the offsets they were written", async (t) => {
  const { log, clock } = await openTestLog(t, COMPACT);
  const written = await writeUpdates(log, 400, 10);
  const before = log.sizeInBytes;
  const cleaner = cleanerFor(log, clock);
  const round = await cleaner.cleanOnce();
  assert.ok(round !== null, "the log qualified for cleaning");
  assert.ok(round.result.segmentsReplaced > 1);
  assert.ok(log.sizeInBytes < before / 2, `size ${log.sizeInBytes} after, ${before} before`);

  const { records } = await readRecords(log);
  // Every record kept is byte-for-byte the one written at that offset.
  for (const r of records) assert.deepEqual([r.key, r.value], written.get(r.offset), `offset ${r.offset}`);
  // Reading from the start gives the same state as the full history.
  assert.deepEqual(
    latestByKey(records),
    latestByKey([...written.values()].map(([key, value]) => ({ key, value }))),
  );
  // In the cleaned part each key appears once.
  const activeBase = log.segmentInfo().at(-1)?.baseOffset ?? 0;
  const cleanedKeys = records.filter((r) => r.offset < activeBase).map((r) => r.key);
  assert.equal(new Set(cleanedKeys).size, cleanedKeys.length);
  assert.equal(log.logEndOffset, 400);
  assert.equal(log.logStartOffset, 0);
});

test("a cleaned log reopens (clean shutdown and crash) with the same records and no cleaner files left", async (t) => {
  const { log, clock, reopen } = await openTestLog(t, COMPACT);
  await writeUpdates(log, 300, 7);
  await cleanerFor(log, clock).cleanOnce();
  const expected = await readRecords(log);
  // A crash: the log is not closed.
  const crashed = await reopen();
  assert.deepEqual((await readRecords(crashed)).records, expected.records);
  await crashed.close();
  const clean = await reopen();
  assert.deepEqual((await readRecords(clean)).records, expected.records);
  const names = await readdir(clean.dir);
  assert.deepEqual(
    names.filter((n) => /\.(cleaned|swap|cleaner-swap)$/.test(n)),
    [],
  );
});

test("a second cleaning only maps the new dirty records and keeps the latest across old and new", async (t) => {
  const { log, clock } = await openTestLog(t, COMPACT);
  const cleaner = cleanerFor(log, clock);
  const first = await writeUpdates(log, 200, 5);
  const r1 = await cleaner.cleanOnce();
  assert.ok(r1 !== null);
  const second = await writeUpdates(log, 200, 8, { from: 200 });
  const r2 = await cleaner.cleanOnce();
  assert.ok(r2 !== null);
  assert.equal(
    r2.choice.firstDirty,
    r1.result.endOffset,
    "the dirty part starts where the last cleaning ended",
  );
  const { records } = await readRecords(log);
  const all = [...first.values(), ...second.values()].map(([key, value]) => ({ key, value }));
  assert.deepEqual(latestByKey(records), latestByKey(all));
});

test("nothing is cleaned while the dirty ratio is below min.cleanable.dirty.ratio", async (t) => {
  const { log, clock } = await openTestLog(t, {
    ...COMPACT,
    segmentBytes: 1024,
    minCleanableDirtyRatio: 0.6,
  });
  const cleaner = cleanerFor(log, clock);
  await writeUpdates(log, 300, 300);
  const first = await cleaner.cleanOnce();
  assert.equal(first?.choice.dirtyRatio, 1, "a log never cleaned is all dirty");
  await writeUpdates(log, 100, 300, { from: 300 });
  const next = await cleaner.chooseLog();
  assert.ok(next === null, `dirty ratio ${next?.dirtyRatio} is below 0.6`);
  await writeUpdates(log, 400, 300, { from: 400 });
  const later = await cleaner.chooseLog();
  assert.ok(later !== null && later.dirtyRatio >= 0.6, `dirty ratio ${later?.dirtyRatio} reached 0.6`);
});

test("the active segment and segments newer than min.compaction.lag.ms are never cleaned", async (t) => {
  const { log, clock } = await openTestLog(t, { ...COMPACT, minCompactionLagMs: 1_000_000 });
  // Record timestamps T0+i: all newer than the lag at the test clock.
  await writeUpdates(log, 300, 5);
  const cleaner = cleanerFor(log, clock);
  assert.ok((await cleaner.chooseLog()) === null);
  clock.t = T0 + 2_000_000;
  const round = await cleaner.cleanOnce();
  assert.ok(round !== null);
  const activeBase = log.segmentInfo().at(-1)?.baseOffset ?? 0;
  assert.equal(round.result.endOffset, activeBase);
});

test("tombstones stay until delete.retention.ms after the cleaning that first saw them, then disappear", async (t) => {
  const { log, clock } = await openTestLog(t, { ...COMPACT, deleteRetentionMs: 60_000 });
  await writeUpdates(log, 100, 10);
  // Delete k0..k4.
  for (let k = 0; k < 5; k++) {
    await log.append(encodeBatch({ timestamp: T0, records: [{ key: Buffer.from(`k${k}`), value: null }] }));
  }
  await writeUpdates(log, 100, 3, { from: 1000, prefix: "other" }); // roll past the tombstones
  const cleaner = cleanerFor(log, clock);
  assert.ok((await cleaner.cleanOnce()) !== null);
  const first = await readRecords(log);
  let records = first.records;
  const batches = first.batches;
  const tombstones = records.filter((r) => r.value === null).map((r) => r.key);
  assert.deepEqual(tombstones.sort(), ["k0", "k1", "k2", "k3", "k4"]);
  assert.ok(batches.some((b) => hasDeleteHorizon(b.attributes) && b.baseTimestamp === T0 + 60_000));

  clock.t = T0 + 59_999;
  assert.ok((await cleaner.chooseLog()) === null, "not yet due");
  clock.t = T0 + 60_000;
  const round = await cleaner.cleanOnce();
  assert.ok(round !== null);
  assert.equal(round.choice.reason, "delete-horizon");
  ({ records } = await readRecords(log));
  assert.deepEqual(
    records.filter((r) => r.value === null),
    [],
  );
  for (let k = 0; k < 5; k++) assert.ok(!records.some((r) => r.key === `k${k}`), `k${k} is gone`);
});

test("record timestamps and headers are unchanged when a batch is re-encoded, and so is its tombstone's key", async (t) => {
  const { log, clock } = await openTestLog(t, COMPACT);
  const records = Array.from({ length: 20 }, (_, i) => ({
    key: Buffer.from(`k${i % 4}`),
    value: i === 19 ? null : Buffer.from(`v${i}`),
    timestamp: T0 + 1000 * i,
    headers: [{ key: "h", value: Buffer.from(`x${i}`) }],
  }));
  await log.append(encodeBatch({ records }));
  await writeUpdates(log, 100, 50, { from: 100, prefix: "other" });
  await cleanerFor(log, clock).cleanOnce();
  const seen = (await readRecords(log)).records.filter((r) => r.offset < 20);
  assert.deepEqual(
    seen.map((r) => [r.offset, r.key, r.value, r.timestamp, r.headers.join()]),
    [16, 17, 18, 19].map((i) => [i, `k${i % 4}`, i === 19 ? null : `v${i}`, T0 + 1000 * i, `h=x${i}`]),
  );
  const first = (await readAll(log))[0];
  assert.ok(first !== undefined && verifyBatchCrc(first));
});

for (const [name, codec] of Object.entries(CompressionCodec)) {
  if (codec === CompressionCodec.NONE) continue;
  test(`compressed batches (${name}) are re-compressed with their codec, keeping base and last offsets`, async (t) => {
    const { log, clock } = await openTestLog(t, { ...COMPACT, segmentBytes: 4096 });
    const written = new Map<number, [string, string]>();
    for (let b = 0; b < 30; b++) {
      const recs = Array.from({ length: 10 }, (_, i) => ({
        key: Buffer.from(`k${(b * 10 + i) % 13}`),
        value: Buffer.from(`value ${b * 10 + i} `.repeat(5)),
      }));
      const r = await log.append(encodeBatch({ timestamp: T0, compression: codec, records: recs }));
      recs.forEach((rec, i) =>
        written.set(r.baseOffset + i, [rec.key.toString(), (rec.value as Buffer).toString()]),
      );
    }
    await log.flush();
    const original = (await readAll(log)).map((b) => b.readBigInt64BE(0));
    assert.ok((await cleanerFor(log, clock).cleanOnce()) !== null);
    const { records, batches } = await readRecords(log);
    for (const r of records) assert.deepEqual([r.key, r.value], written.get(r.offset));
    assert.deepEqual(
      latestByKey(records),
      latestByKey([...written.values()].map(([key, value]) => ({ key, value }))),
    );
    for (const b of batches) {
      if (b.recordCount > 0) assert.equal(compressionOf(b.attributes), codec);
      assert.equal(b.lastOffsetDelta, 9, "a batch keeps its last offset");
      assert.ok(original.includes(b.baseOffset), "a batch keeps its base offset");
    }
  });
}

test("transactions: aborted data is removed, committed data kept, markers kept until their data is gone and delete.retention.ms passed", async (t) => {
  const { log, clock } = await openTestLog(t, {
    ...COMPACT,
    deleteRetentionMs: 1000,
    producerIdExpirationMs: 10_000,
  });
  const aborter = 7n;
  const committer = 8n;
  const txnBatch = (pid: bigint, seq: number, key: string, value: string): Buffer =>
    encodeBatch({
      timestamp: T0,
      transactional: true,
      producerId: pid,
      producerEpoch: 0,
      baseSequence: seq,
      records: [{ key: Buffer.from(key), value: Buffer.from(value) }],
    });
  const marker = (pid: bigint, commit: boolean): Buffer =>
    encodeEndTxnMarkerBatch({
      commit,
      coordinatorEpoch: 0,
      producerId: pid,
      producerEpoch: 0,
      timestamp: T0,
    });
  const coordinator = { origin: "coordinator" } as const;
  await log.append(txnBatch(aborter, 0, "a", "aborted-1"), coordinator);
  await log.append(txnBatch(committer, 0, "c", "committed-1"), coordinator);
  await log.append(txnBatch(aborter, 1, "b", "aborted-2"), coordinator);
  const abortAt = (await log.append(marker(aborter, false), coordinator)).baseOffset;
  const commitAt = (await log.append(marker(committer, true), coordinator)).baseOffset;
  await writeUpdates(log, 100, 20, { from: 100, prefix: "f" });
  const cleaner = cleanerFor(log, clock);
  const markersOf = (batches: { attributes: number; baseOffset: bigint }[]): number[] =>
    batches.filter((b) => (b.attributes & 0x20) !== 0).map((b) => Number(b.baseOffset));

  assert.ok((await cleaner.cleanOnce()) !== null);
  let { records, batches } = await readRecords(log);
  const values = records.map((r) => r.value);
  assert.ok(!values.includes("aborted-1") && !values.includes("aborted-2"), "aborted records are gone");
  assert.ok(values.includes("committed-1"));
  assert.deepEqual(markersOf(batches), [abortAt, commitAt]);
  assert.equal(
    log.abortedTransactions(0, log.highWatermark)?.length,
    1,
    "the abort is still reported with its marker",
  );

  // The committed value is replaced; the producers expire, so their last batches may go too.
  await log.append(
    encodeBatch({ timestamp: T0, records: [{ key: Buffer.from("c"), value: Buffer.from("plain") }] }),
  );
  await writeUpdates(log, 100, 20, { from: 300, prefix: "f" });
  clock.t = T0 + 20_000;
  await log.applyRetention();
  assert.ok((await cleaner.cleanOnce()) !== null);
  ({ batches } = await readRecords(log));
  assert.deepEqual(
    markersOf(batches),
    [abortAt, commitAt],
    "markers outlive the cleaning that removes their data",
  );

  await writeUpdates(log, 100, 20, { from: 500, prefix: "f" });
  assert.ok((await cleaner.cleanOnce()) !== null);
  ({ batches } = await readRecords(log));
  const horizons = batches
    .filter((b) => (b.attributes & 0x20) !== 0)
    .map((b) => hasDeleteHorizon(b.attributes));
  assert.deepEqual(horizons, [true, true], "markers of transactions without data get a delete horizon");

  clock.t = T0 + 20_000 + 1000;
  await writeUpdates(log, 100, 20, { from: 700, prefix: "f" });
  assert.ok((await cleaner.cleanOnce()) !== null);
  ({ records, batches } = await readRecords(log));
  assert.deepEqual(markersOf(batches), [], "markers are removed once the horizon passed");
  assert.equal(
    log.abortedTransactions(0, log.highWatermark),
    null,
    "no aborted transaction is reported any more",
  );
  assert.ok(records.some((r) => r.value === "plain"));
});

test("an open transaction holds cleaning back at the last stable offset", async (t) => {
  const { log, clock } = await openTestLog(t, COMPACT);
  await writeUpdates(log, 50, 5);
  const open = await log.append(
    encodeBatch({
      timestamp: T0,
      transactional: true,
      producerId: 9n,
      producerEpoch: 0,
      baseSequence: 0,
      records: [{ key: Buffer.from("k1"), value: Buffer.from("pending") }],
    }),
    { origin: "coordinator" },
  );
  await writeUpdates(log, 300, 5, { from: 50 });
  assert.equal(log.lastStableOffset, open.baseOffset);
  const round = await cleanerFor(log, clock).cleanOnce();
  assert.ok(round !== null);
  assert.ok(round.result.endOffset <= open.baseOffset, `cleaned up to ${round.result.endOffset}`);
  const { records } = await readRecords(log);
  assert.ok(records.some((r) => r.value === "pending"));
  assert.ok(
    records.filter((r) => r.offset > open.baseOffset).length >= 250,
    "nothing after the open transaction was cleaned",
  );
});

test("an idempotent producer's last batch survives cleaning (emptied if need be), so its sequence continues after a restart", async (t) => {
  const { log, clock, reopen } = await openTestLog(t, COMPACT);
  const pid = 42n;
  for (let s = 0; s < 50; s++) {
    await log.append(
      encodeBatch({
        timestamp: T0,
        producerId: pid,
        producerEpoch: 0,
        baseSequence: s,
        records: [{ key: Buffer.from("same"), value: Buffer.from(`v${s}`) }],
      }),
    );
  }
  // Newer values of the producer's key from elsewhere make its last batch redundant.
  await log.append(
    encodeBatch({ timestamp: T0, records: [{ key: Buffer.from("same"), value: Buffer.from("other") }] }),
  );
  await writeUpdates(log, 100, 10, { from: 100 });
  assert.ok((await cleanerFor(log, clock).cleanOnce()) !== null);
  const { batches } = await readRecords(log);
  const mine = batches.filter((b) => b.producerId === pid);
  assert.equal(mine.length, 1, "only the producer's last batch is left");
  assert.equal(mine[0]?.baseSequence, 49);
  assert.equal(mine[0]?.recordCount, 0);
  const restarted = await reopen();
  assert.equal(restarted.producerState(pid)?.batches.at(-1)?.lastSeq, 49);
  // The next sequence is accepted, a retry of the last batch is answered as a duplicate.
  const retry = await restarted.append(
    encodeBatch({
      timestamp: T0,
      producerId: pid,
      producerEpoch: 0,
      baseSequence: 49,
      records: [{ key: Buffer.from("same"), value: Buffer.from("v49") }],
    }),
  );
  assert.equal(retry.baseOffset, 49);
  await restarted.append(
    encodeBatch({
      timestamp: T0,
      producerId: pid,
      producerEpoch: 0,
      baseSequence: 50,
      records: [{ key: Buffer.from("same"), value: Buffer.from("v50") }],
    }),
  );
});

test("compact,delete: retention deletes old segments and the cleaner compacts the rest", async (t) => {
  const { log, clock } = await openTestLog(t, {
    ...COMPACT,
    cleanupPolicy: "compact,delete",
    retentionBytes: 8000,
  });
  await writeUpdates(log, 400, 10);
  assert.ok((await log.applyRetention()) > 0);
  const start = log.logStartOffset;
  assert.ok(start > 0);
  const round = await cleanerFor(log, clock).cleanOnce();
  assert.ok(round !== null);
  assert.equal(round.choice.firstDirty, start, "the dirty part starts at logStartOffset");
  const { records } = await readRecords(log);
  assert.ok(records.every((r) => r.offset >= start));
});

test("fetches running during cleaning always get whole, valid batches and the same latest state", async (t) => {
  const { log, clock } = await openTestLog(t, { ...COMPACT, fileDeleteDelayMs: 60_000 });
  const written = await writeUpdates(log, 600, 10);
  const expected = latestByKey([...written.values()].map(([key, value]) => ({ key, value })));
  let stop = false;
  let reads = 0;
  const reader = (async () => {
    while (!stop) {
      const { records } = await readRecords(log);
      for (const r of records) assert.deepEqual([r.key, r.value], written.get(r.offset));
      assert.deepEqual(latestByKey(records), expected);
      for (const b of await readAll(log)) assert.ok(verifyBatchCrc(b));
      reads++;
    }
  })();
  const round = await cleanerFor(log, clock, { sliceBytes: 1024 }).cleanOnce();
  stop = true;
  await reader;
  assert.ok(round !== null && round.result.groups > 0);
  assert.ok(reads > 0);
});

test("with more dirty keys than log.cleaner.dedupe.buffer.size holds, a prefix is cleaned and later rounds finish", async (t) => {
  const { log, clock } = await openTestLog(t, COMPACT);
  const written = await writeUpdates(log, 600, 200);
  // 64 slots: 57 keys per round at the default load factor.
  const cleaner = cleanerFor(log, clock, { dedupeBufferBytes: 64 * 24 });
  const first = await cleaner.cleanOnce();
  assert.ok(first !== null);
  assert.ok(first.result.mapFull);
  assert.ok(first.result.endOffset > 0 && first.result.endOffset < first.choice.uncleanable);
  let rounds = 1;
  let last = first;
  while (last.result.mapFull && rounds < 50) {
    const next = await cleaner.cleanOnce();
    assert.ok(next !== null);
    assert.ok(next.result.endOffset > last.result.endOffset, "every round makes progress");
    last = next;
    rounds++;
  }
  assert.ok(!last.result.mapFull);
  const { records } = await readRecords(log);
  for (const r of records) assert.deepEqual([r.key, r.value], written.get(r.offset));
  assert.deepEqual(
    latestByKey(records),
    latestByKey([...written.values()].map(([key, value]) => ({ key, value }))),
  );
});

test("log.cleaner.io.max.bytes.per.second slows the cleaner down", async (t) => {
  const { log, clock } = await openTestLog(t, COMPACT);
  await writeUpdates(log, 400, 10);
  const started = performance.now();
  const round = await cleanerFor(log, clock, { ioMaxBytesPerSecond: 100_000 }).cleanOnce();
  const seconds = (performance.now() - started) / 1000;
  assert.ok(round !== null);
  const bytes = round.result.bytesRead + round.result.mapBytesRead;
  assert.ok(seconds >= (bytes / 100_000) * 0.8, `${bytes} bytes in ${seconds} s`);
});
