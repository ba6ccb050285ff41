// The log's transaction bookkeeping: the last stable offset held at the first offset of the
// oldest open transaction, the aborted-transaction index (Kafka's .txnindex) answering
// read_committed fetches, both maintained whatever writes the batches (client appends,
// coordinator markers, appendAtOffsets for mirrors) and rebuilt after a restart or a crash.
import assert from "node:assert/strict";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { encodeBatch, encodeEndTxnMarkerBatch } from "../../../src/protocol/records/batch-codec.ts";
import { AbortedTxnIndex, decodeTxnIndex, encodeTxnIndex } from "../../../src/broker/log/txn-index.ts";
import type { PartitionLog } from "../../../src/broker/log/partition-log.ts";
import { openTestLog, T0 } from "./helpers.ts";

let seqs = new Map<number, number>();

/** A transactional data batch of `count` records from producer pid at epoch (sequences continue per producer). */
function txnBatch(pid: number, count: number, epoch = 0, baseOffset = 0n): Buffer {
  const seq = seqs.get(pid) ?? 0;
  seqs.set(pid, seq + count);
  return encodeBatch({
    records: Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`p${pid}-${seq + i}`) })),
    producerId: BigInt(pid),
    producerEpoch: epoch,
    baseSequence: seq,
    transactional: true,
    timestamp: T0,
    baseOffset,
  });
}

function marker(pid: number, commit: boolean, epoch = 0, baseOffset = 0n): Buffer {
  return encodeEndTxnMarkerBatch({
    commit,
    coordinatorEpoch: 0,
    producerId: BigInt(pid),
    producerEpoch: epoch,
    timestamp: T0,
    baseOffset,
  });
}

function plainBatch(count: number, baseOffset = 0n): Buffer {
  return encodeBatch({
    records: Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`plain-${i}`) })),
    timestamp: T0,
    baseOffset,
  });
}

async function endTxn(log: PartitionLog, pid: number, commit: boolean, epoch = 0): Promise<number> {
  return (await log.append(marker(pid, commit, epoch), { origin: "coordinator" })).baseOffset;
}

test("the last stable offset stops at the first offset of the oldest open transaction", async (t) => {
  seqs = new Map();
  const { log } = await openTestLog(t);
  await log.append(plainBatch(2)); // 0-1
  await log.append(txnBatch(1, 3)); // 2-4, producer 1 opens at 2
  await log.append(plainBatch(1)); // 5
  await log.append(txnBatch(2, 2)); // 6-7, producer 2 opens at 6
  assert.equal(log.highWatermark, 8);
  assert.equal(log.lastStableOffset, 2);
  assert.deepEqual(
    [...log.openTransactions()],
    [
      [1, 2],
      [2, 6],
    ],
  );
  await endTxn(log, 1, true); // 8
  assert.equal(log.lastStableOffset, 6, "producer 2's transaction still holds it");
  await endTxn(log, 2, false); // 9
  assert.equal(log.lastStableOffset, 10, "nothing open: the high watermark");
  assert.equal(log.openTransactions().size, 0);
});

test("an aborted transaction is listed for reads that overlap it, a committed one is not", async (t) => {
  seqs = new Map();
  const { log } = await openTestLog(t);
  await log.append(txnBatch(1, 2)); // 0-1
  await log.append(txnBatch(2, 2)); // 2-3
  await endTxn(log, 1, false); // 4: abort 1 (first 0)
  await endTxn(log, 2, true); // 5: commit 2
  await log.append(txnBatch(1, 2)); // 6-7
  await endTxn(log, 1, false); // 8: abort 1 (first 6)
  assert.deepEqual(log.abortedTransactions(0, 9), [
    { producerId: 1, firstOffset: 0, lastOffset: 4, lastStableOffset: 2 },
    { producerId: 1, firstOffset: 6, lastOffset: 8, lastStableOffset: 9 },
  ]);
  assert.deepEqual(
    log.abortedTransactions(5, 9)?.map((a) => a.firstOffset),
    [6],
    "a marker before the read is not listed",
  );
  assert.deepEqual(
    log.abortedTransactions(0, 2)?.map((a) => a.firstOffset),
    [0],
    "the second abort began after the read's end",
  );
  assert.equal(log.abortedTransactions(9, 20), null);
});

test("the index scan stops once an entry's stable offset reaches the end of the read", () => {
  const index = new AbortedTxnIndex();
  index.add({ producerId: 1, firstOffset: 0, lastOffset: 10, lastStableOffset: 11 });
  index.add({ producerId: 2, firstOffset: 5, lastOffset: 20, lastStableOffset: 21 });
  // A read of [0, 8): the first entry's LSO (11) passes 8, so no later transaction began below 8.
  assert.deepEqual(
    index.collect(0, 8)?.map((e) => e.producerId),
    [1],
  );
  // A read of [0, 15) must include producer 2, which began at 5 and aborted at 20.
  assert.deepEqual(
    index.collect(0, 15)?.map((e) => e.producerId),
    [1, 2],
  );
  index.add({ producerId: 3, firstOffset: 1, lastOffset: 20, lastStableOffset: 30 });
  assert.equal(index.size, 2, "an entry at or below the last marker offset is a replay and ignored");
  index.dropBelow(11);
  assert.deepEqual(
    index.collect(0, 100)?.map((e) => e.producerId),
    [2],
  );
});

test(".txnindex files use Kafka's 34-byte entries and are checked when read", () => {
  const entries = [
    { producerId: 7, firstOffset: 3, lastOffset: 9, lastStableOffset: 10 },
    { producerId: 8, firstOffset: 4, lastOffset: 12, lastStableOffset: 13 },
  ];
  const bytes = encodeTxnIndex(entries);
  assert.equal(bytes.length, 68);
  assert.equal(bytes.readInt16BE(0), 0, "entry version 0");
  assert.equal(bytes.readBigInt64BE(2), 7n);
  assert.equal(bytes.readBigInt64BE(10), 3n);
  assert.equal(bytes.readBigInt64BE(18), 9n);
  assert.equal(bytes.readBigInt64BE(26), 10n);
  assert.deepEqual(decodeTxnIndex(bytes, 0, 20), entries);
  assert.throws(() => decodeTxnIndex(bytes.subarray(0, 40), 0, 20), /whole number of entries/);
  assert.throws(() => decodeTxnIndex(bytes, 10, 20), /outside/);
});

test("appendAtOffsets rebuilds transaction state from mirrored data and control batches", async (t) => {
  seqs = new Map();
  const { log } = await openTestLog(t);
  // A source log: txn data of producer 5 at 100-101, producer 6 at 102, abort 5 at 103, commit 6 at 105.
  await log.appendAtOffsets(Buffer.concat([txnBatch(5, 2, 3, 100n), txnBatch(6, 1, 0, 102n)]));
  assert.equal(log.lastStableOffset, 100);
  await log.appendAtOffsets(marker(5, false, 3, 103n));
  assert.equal(log.lastStableOffset, 102);
  await log.appendAtOffsets(Buffer.concat([marker(6, true, 0, 105n), plainBatch(2, 106n)]));
  assert.equal(log.lastStableOffset, 108);
  assert.equal(log.highWatermark, 108);
  assert.deepEqual(log.abortedTransactions(100, 108), [
    { producerId: 5, firstOffset: 100, lastOffset: 103, lastStableOffset: 102 },
  ]);
  assert.equal(log.producerState(5)?.producerEpoch, 3);
});

test("transaction state survives a clean restart and a crash (no close), and rolled segments keep .txnindex files", async (t) => {
  seqs = new Map();
  const tl = await openTestLog(t, { segmentBytes: 400 });
  const log = tl.log;
  await log.append(txnBatch(1, 2)); // 0-1
  await endTxn(log, 1, false); // 2
  for (let i = 0; i < 6; i++) await log.append(plainBatch(3));
  await log.append(txnBatch(2, 1)); // open at the end
  const open = log.lastStableOffset;
  await log.append(txnBatch(3, 1));
  await endTxn(log, 3, false);
  const expected = log.abortedTransactions(0, log.highWatermark);
  assert.equal(expected?.length, 2);
  assert.ok(log.segmentInfo().length > 1, "segments rolled");
  // Rolled segments write their .txnindex in the background; flush() waits for that work.
  await log.flush();
  assert.ok(
    (await readdir(tl.dir)).some((n) => n.endsWith(".txnindex")),
    "the rolled segment holding the first abort has a .txnindex file",
  );

  // Crash: reopen without closing. Recovery scans from the recovery point.
  const crashed = await tl.reopen();
  assert.equal(crashed.recovery.cleanShutdown, false);
  assert.equal(crashed.lastStableOffset, open);
  assert.deepEqual(crashed.abortedTransactions(0, crashed.highWatermark), expected);
  await crashed.close();

  // Clean restart: everything from files and the snapshot.
  const clean = await tl.reopen();
  assert.equal(clean.recovery.cleanShutdown, true);
  assert.equal(clean.lastStableOffset, open);
  assert.deepEqual(clean.abortedTransactions(0, clean.highWatermark), expected);
  await endTxn(clean, 2, true);
  assert.equal(clean.lastStableOffset, clean.highWatermark);
});

test("an unreadable .txnindex file is rebuilt from the log", async (t) => {
  seqs = new Map();
  const tl = await openTestLog(t, { segmentBytes: 300 });
  await tl.log.append(txnBatch(1, 2));
  await endTxn(tl.log, 1, false);
  for (let i = 0; i < 6; i++) await tl.log.append(plainBatch(3));
  const expected = tl.log.abortedTransactions(0, tl.log.highWatermark);
  await tl.log.close();
  const files = (await readdir(tl.dir)).filter((n) => n.endsWith(".txnindex"));
  assert.ok(files.length > 0);
  for (const f of files) await writeFile(join(tl.dir, f), Buffer.from("garbage"));
  const reopened = await tl.reopen();
  assert.deepEqual(reopened.abortedTransactions(0, reopened.highWatermark), expected);
});

test("retention that deletes a segment drops the aborted transactions whose markers were in it", async (t) => {
  seqs = new Map();
  const tl = await openTestLog(t, { segmentBytes: 300 });
  await tl.log.append(txnBatch(1, 2));
  await endTxn(tl.log, 1, false);
  for (let i = 0; i < 8; i++) await tl.log.append(plainBatch(3));
  assert.equal(tl.log.abortedTransactions(0, tl.log.highWatermark)?.length, 1);
  const second = tl.log.segmentInfo()[1]?.baseOffset ?? 0;
  await tl.log.deleteRecordsBefore(second);
  assert.equal(tl.log.abortedTransactions(0, tl.log.highWatermark), null);
});
