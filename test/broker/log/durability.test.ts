// The flush policy (flush.messages fsyncs before the ack, shared by appends written
// together; flush.ms on a timer; nothing by default), a failing disk taking the log offline
// with KAFKA_STORAGE_ERROR, and what close() and delete() leave behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, readdir, stat } from "node:fs/promises";
import { ErrorCode, KafkaError } from "../../../src/protocol/error-codes.ts";
import { makeBatch, openTestLog, readAll } from "./helpers.ts";

/** Counts FileHandle.datasync calls while fn runs; optionally makes writes fail. */
async function withFileHandleSpy<T>(
  fn: (spy: { syncs: number; failWrites: boolean }) => Promise<T>,
): Promise<T> {
  const probe = await open(import.meta.filename, "r");
  const proto = Object.getPrototypeOf(probe) as {
    datasync: (this: unknown) => Promise<void>;
    write: (this: unknown, ...args: unknown[]) => Promise<unknown>;
  };
  await probe.close();
  const { datasync, write } = proto;
  const spy = { syncs: 0, failWrites: false };
  proto.datasync = function (this: unknown) {
    spy.syncs++;
    return datasync.call(this);
  };
  proto.write = function (this: unknown, ...args: unknown[]) {
    if (spy.failWrites)
      return Promise.reject(Object.assign(new Error("EIO: i/o error, write"), { code: "EIO" }));
    return write.apply(this, args);
  };
  try {
    return await fn(spy);
  } finally {
    proto.datasync = datasync;
    proto.write = write;
  }
}

test("by default appends are acknowledged without an fsync", async (t) => {
  const { log } = await openTestLog(t);
  await withFileHandleSpy(async (spy) => {
    for (let i = 0; i < 20; i++) await log.append(makeBatch());
    assert.equal(spy.syncs, 0);
  });
});

test("flush.messages=1 fsyncs before each acknowledgement", async (t) => {
  const { log } = await openTestLog(t, { flushMessages: 1 });
  await log.append(makeBatch()); // the first fsync also syncs the new file's directory
  await withFileHandleSpy(async (spy) => {
    for (let i = 0; i < 10; i++) {
      const before = spy.syncs;
      await log.append(makeBatch());
      assert.equal(spy.syncs, before + 1);
    }
  });
});

test("flush.messages counts records: every 5 records one fsync", async (t) => {
  const { log } = await openTestLog(t, { flushMessages: 5 });
  await withFileHandleSpy(async (spy) => {
    for (let i = 0; i < 10; i++) await log.append(makeBatch({ count: 1 }));
    assert.equal(spy.syncs, 2);
  });
});

test("appends written together share one fsync (group commit)", async (t) => {
  const { log } = await openTestLog(t, { flushMessages: 1 });
  await log.append(makeBatch());
  await withFileHandleSpy(async (spy) => {
    await Promise.all(Array.from({ length: 100 }, () => log.append(makeBatch())));
    assert.ok(spy.syncs < 50, `${spy.syncs} fsyncs for 100 appends`);
  });
});

test("flush.ms fsyncs written data after that many milliseconds", async (t) => {
  const { log } = await openTestLog(t, { flushMs: 30 });
  await withFileHandleSpy(async (spy) => {
    await log.append(makeBatch());
    assert.equal(spy.syncs, 0);
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(spy.syncs, 1);
  });
});

test("a failed write takes the log offline: pending and later appends get KAFKA_STORAGE_ERROR", async (t) => {
  const { log, reopen } = await openTestLog(t);
  await log.append(makeBatch({ count: 2 }));
  await withFileHandleSpy(async (spy) => {
    spy.failWrites = true;
    const results = await Promise.allSettled([log.append(makeBatch()), log.append(makeBatch())]);
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.ok(r.reason instanceof KafkaError && r.reason.code === ErrorCode.KAFKA_STORAGE_ERROR);
    }
    spy.failWrites = false;
    await assert.rejects(
      log.append(makeBatch()),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.KAFKA_STORAGE_ERROR,
    );
  });
  assert.equal(log.highWatermark, 2);
  assert.equal((await log.read(0, 1000)).length > 0, true, "reads still work");
  const restarted = await reopen();
  assert.equal(restarted.logEndOffset, 2);
  assert.equal((await restarted.append(makeBatch())).baseOffset, 2);
});

test("appends and reads after close are refused with NOT_LEADER_OR_FOLLOWER", async (t) => {
  const { log } = await openTestLog(t);
  const pending = log.append(makeBatch());
  await log.close();
  assert.equal((await pending).baseOffset, 0, "an append accepted before close is written");
  const refused = (e: unknown): boolean =>
    e instanceof KafkaError && e.code === ErrorCode.NOT_LEADER_OR_FOLLOWER;
  await assert.rejects(log.append(makeBatch()), refused);
  await assert.rejects(log.read(0, 100), refused);
});

test("close writes everything out, so the next open finds the same log", async (t) => {
  const { log, dir, reopen } = await openTestLog(t, { segmentBytes: 500 });
  const appends = Array.from({ length: 30 }, () => log.append(makeBatch({ count: 3 })));
  await log.close();
  await Promise.all(appends);
  const again = await reopen();
  assert.equal(again.recovery.cleanShutdown, true);
  assert.equal(again.logEndOffset, 90);
  assert.equal((await readAll(again)).length, 30);
  assert.ok((await stat(dir)).isDirectory());
});

test("delete removes the partition directory", async (t) => {
  const { log, dir } = await openTestLog(t);
  await log.append(makeBatch());
  await log.delete();
  await assert.rejects(readdir(dir), /ENOENT/);
});
