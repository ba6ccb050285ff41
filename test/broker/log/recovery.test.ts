// Opening a log after a crash: torn and corrupt tails are cut off, segments after a bad
// batch are dropped, indexes that are missing, corrupt or point past the log are rebuilt,
// leftovers of interrupted file operations are removed, and the checkpoint is trusted only
// as far as it is valid. "Crash" here means a second instance opening the directory without
// the first one closing, as a restarted process would, with the files then damaged by hand.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { appendFile, readdir, readFile, stat, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, KafkaError } from "../../../src/protocol/error-codes.ts";
import { iterateBatches, readBatchHeader } from "../../../src/protocol/records/batch-header.ts";
import { PartitionLog } from "../../../src/broker/log/partition-log.ts";
import {
  decodePartitionCheckpoint,
  encodePartitionCheckpoint,
} from "../../../src/broker/log/checkpoint-file.ts";
import { T0, flipByte, makeBatch, openTestLog, rangesOf, readAll } from "./helpers.ts";

const SEG0 = "00000000000000000000";

/** A log with `batches` batches of 2 records written, left open as if the process died. */
async function crashedLog(t: TestContext, batches: number, overrides = {}) {
  const opened = await openTestLog(t, { indexIntervalBytes: 64, ...overrides });
  const sent: Buffer[] = [];
  for (let i = 0; i < batches; i++) {
    const b = makeBatch({ count: 2, valueSize: 20 + i });
    await opened.log.append(b);
    sent.push(b);
  }
  await opened.log.flush();
  return { ...opened, sent };
}

test("garbage after the last batch is cut off and appends continue after the valid data", async (t) => {
  const { dir, reopen, log: first } = await crashedLog(t, 5);
  const size = first.sizeInBytes;
  await appendFile(
    join(dir, `${SEG0}.log`),
    Buffer.from("this is not a record batch at all, just junk bytes"),
  );
  const log = await reopen();
  assert.equal(log.recovery.truncatedBytes, 50);
  assert.equal(log.logEndOffset, 10);
  assert.equal((await stat(join(dir, `${SEG0}.log`))).size, size);
  assert.equal((await log.append(makeBatch())).baseOffset, 10);
  assert.equal((await readAll(log)).length, 6);
});

test("a torn last batch is cut off", async (t) => {
  const { dir, reopen, log: first } = await crashedLog(t, 5);
  await truncate(join(dir, `${SEG0}.log`), first.sizeInBytes - 9);
  const log = await reopen();
  assert.equal(log.logEndOffset, 8);
  assert.deepEqual((await readAll(log)).flatMap(rangesOf).at(-1), [6, 7]);
});

test("a zero-filled tail (a file extended but never written) is cut off", async (t) => {
  const { dir, reopen } = await crashedLog(t, 3);
  await appendFile(join(dir, `${SEG0}.log`), Buffer.alloc(4096));
  const log = await reopen();
  assert.equal(log.logEndOffset, 6);
  assert.equal(log.recovery.truncatedBytes, 4096);
});

test("a batch failing its CRC is cut off with everything after it", async (t) => {
  const { dir, reopen, sent } = await crashedLog(t, 5);
  const path = join(dir, `${SEG0}.log`);
  const bytes = await readFile(path);
  const third = (sent[0] as Buffer).length + (sent[1] as Buffer).length;
  flipByte(bytes, third + 70, 0x55);
  await writeFile(path, bytes);
  const log = await reopen();
  assert.equal(log.logEndOffset, 4);
  assert.equal((await readAll(log)).length, 2);
});

test("corruption in an unflushed older segment drops it from there and every later segment", async (t) => {
  const { dir, reopen } = await crashedLog(t, 12, { segmentBytes: 300 });
  const files = (await readdir(dir)).filter((f) => f.endsWith(".log")).sort();
  assert.ok(files.length >= 4, files.join(" "));
  // Without a checkpoint nothing counts as flushed: every segment is scanned.
  await writeFile(join(dir, "partition.checkpoint"), "damaged");
  const second = join(dir, files[1] as string);
  const bytes = await readFile(second);
  flipByte(bytes, bytes.length - 3);
  await writeFile(second, bytes);
  const log = await reopen();
  const base1 = Number((files[1] as string).slice(0, 20));
  const batchesInSecond = [...iterateBatches(bytes)].length;
  assert.equal(log.segmentInfo().length, 2);
  assert.equal(log.logEndOffset, base1 + 2 * (batchesInSecond - 1));
  assert.ok(!(await readdir(dir)).includes(files[2] as string));
  assert.equal(log.logStartOffset, 0);
});

test("a corrupt index of a flushed segment is rebuilt, never trusted", async (t) => {
  const {
    log: first,
    dir,
    config,
    clock,
  } = await openTestLog(t, { segmentBytes: 600, indexIntervalBytes: 1 });
  for (let i = 0; i < 12; i++) await first.append(makeBatch({ count: 2, valueSize: 30 }));
  const expected = await readAll(first);
  await first.close();
  // Entries pointing far past the end of the log file, and a time index of the wrong size.
  const bad = Buffer.alloc(16);
  bad.writeInt32BE(1, 0);
  bad.writeInt32BE(1_000_000, 4);
  bad.writeInt32BE(2, 8);
  bad.writeInt32BE(2_000_000, 12);
  await writeFile(join(dir, `${SEG0}.index`), bad);
  await writeFile(join(dir, `${SEG0}.timeindex`), Buffer.alloc(7));
  const log = await PartitionLog.open(dir, config, { now: clock.now });
  try {
    const got = await readAll(log);
    assert.equal(got.length, expected.length);
    got.forEach((b, i) => assert.ok(b.equals(expected[i] as Buffer)));
    assert.equal((await log.offsetForTimestamp(T0))?.offset, 0);
    const rebuilt = await readFile(join(dir, `${SEG0}.index`));
    assert.ok(rebuilt.length % 8 === 0 && !rebuilt.equals(bad));
  } finally {
    await log.close();
  }
});

for (const damage of ["deleted", "emptied"] as const) {
  test(`${damage} index files are rebuilt`, async (t) => {
    const {
      log: first,
      dir,
      config,
      clock,
    } = await openTestLog(t, { segmentBytes: 600, indexIntervalBytes: 1 });
    for (let i = 0; i < 12; i++)
      await first.append(makeBatch({ count: 2, valueSize: 30, timestamp: T0 + i }));
    await first.close();
    for (const f of await readdir(dir)) {
      if (f.endsWith(".index") || f.endsWith(".timeindex")) {
        if (damage === "deleted") await unlink(join(dir, f));
        else await writeFile(join(dir, f), "");
      }
    }
    const log = await PartitionLog.open(dir, config, { now: clock.now });
    try {
      assert.equal((await log.offsetForTimestamp(T0 + 7))?.offset, 14);
      assert.deepEqual(rangesOf(await log.read(15, 1))[0], [14, 15]);
      assert.equal((await log.maxTimestamp())?.offset, 22);
    } finally {
      await log.close();
    }
  });
}

test("the active segment's index from a clean shutdown is checked against the log", async (t) => {
  const { log: first, dir, config, clock } = await openTestLog(t, { indexIntervalBytes: 1 });
  for (let i = 0; i < 6; i++) await first.append(makeBatch({ count: 2 }));
  await first.close();
  const index = await readFile(join(dir, `${SEG0}.index`));
  index.writeInt32BE(index.readInt32BE(index.length - 4) + 5, index.length - 4);
  await writeFile(join(dir, `${SEG0}.index`), index);
  const log = await PartitionLog.open(dir, config, { now: clock.now });
  try {
    assert.equal(log.recovery.cleanShutdown, false);
    assert.equal(log.logEndOffset, 12);
    assert.equal((await readAll(log)).length, 6);
  } finally {
    await log.close();
  }
});

test("leftover temp and deleted files are removed at open", async (t) => {
  const { dir, reopen } = await crashedLog(t, 2);
  await writeFile(join(dir, "partition.checkpoint.123-1.tmp"), "half written");
  await writeFile(join(dir, "00000000000000000000.log.deleted"), "old");
  await writeFile(join(dir, "00000000000000000099.index"), "orphan");
  await reopen();
  const files = await readdir(dir);
  assert.ok(!files.some((f) => f.endsWith(".tmp") || f.endsWith(".deleted")), files.join(" "));
  assert.ok(!files.includes("00000000000000000099.index"));
});

test("the clean-shutdown flag is set by close and cleared by open", async (t) => {
  const { log, dir, config, clock } = await openTestLog(t);
  await log.append(makeBatch());
  await log.close();
  const cp = decodePartitionCheckpoint(await readFile(join(dir, "partition.checkpoint")));
  assert.deepEqual(cp, { logStartOffset: 0, recoveryPoint: 1, cleanShutdown: true });
  const second = await PartitionLog.open(dir, config, { now: clock.now });
  assert.equal(second.recovery.cleanShutdown, true);
  assert.equal(
    decodePartitionCheckpoint(await readFile(join(dir, "partition.checkpoint")))?.cleanShutdown,
    false,
  );
  // Crash: the next open must not trust anything beyond the recovery point.
  const third = await PartitionLog.open(dir, config, { now: clock.now });
  assert.equal(third.recovery.cleanShutdown, false);
  await third.close();
});

test("a checkpoint that fails its CRC is ignored", async (t) => {
  const good = encodePartitionCheckpoint({ logStartOffset: 7, recoveryPoint: 9, cleanShutdown: false });
  assert.deepEqual(decodePartitionCheckpoint(good), {
    logStartOffset: 7,
    recoveryPoint: 9,
    cleanShutdown: false,
  });
  const bad = Buffer.from(good.toString().replace("logStartOffset 7", "logStartOffset 8"));
  assert.equal(decodePartitionCheckpoint(bad), null);
  const { log, dir, reopen } = await crashedLog(t, 3);
  await log.deleteRecordsBefore(2);
  await writeFile(join(dir, "partition.checkpoint"), bad);
  const reopened = await reopen();
  assert.equal(reopened.logStartOffset, 0);
  assert.equal(reopened.logEndOffset, 6);
});

test("a checkpoint ahead of the surviving data restarts the log empty at logStartOffset", async (t) => {
  const { dir, reopen } = await crashedLog(t, 3);
  await writeFile(
    join(dir, "partition.checkpoint"),
    encodePartitionCheckpoint({ logStartOffset: 50, recoveryPoint: 0, cleanShutdown: false }),
  );
  const log = await reopen();
  assert.equal(log.logStartOffset, 50);
  assert.equal(log.logEndOffset, 50);
  assert.equal((await log.append(makeBatch())).baseOffset, 50);
});

test("an empty directory becomes an empty log at offset 0", async (t) => {
  const { log, dir } = await openTestLog(t);
  assert.deepEqual([log.logStartOffset, log.logEndOffset, log.highWatermark], [0, 0, 0]);
  assert.ok((await readdir(dir)).includes(`${SEG0}.log`));
  assert.equal(readBatchHeader(makeBatch()).magic, 2);
});

test("a flushed segment damaged after recovery trusted it fails reads with KAFKA_STORAGE_ERROR, not silence", async (t) => {
  const { log: first, dir, reopen } = await openTestLog(t, { segmentBytes: 1000 });
  for (let i = 0; i < 6; i++) await first.append(makeBatch({ count: 2, valueSize: 100 }));
  await first.close();
  const path = join(dir, `${SEG0}.log`);
  const bytes = await readFile(path);
  const second = 12 + bytes.readInt32BE(8);
  bytes.writeInt32BE(3, second + 8); // the second batch's length field
  await writeFile(path, bytes);
  const log = await reopen();
  await assert.rejects(
    log.read(2, 1000),
    (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.KAFKA_STORAGE_ERROR,
  );
  assert.deepEqual(rangesOf(await log.read(0, 1)), [[0, 1]]);
});
