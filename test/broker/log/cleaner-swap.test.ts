// Crash safety of the log cleaner's segment swap: whatever a crash leaves of a swap (the
// .cleaned files, the range record, .swap files, old files renamed to .deleted), reopening
// the log yields either the old segments or the new one, whole, and no leftover files.
import assert from "node:assert/strict";
import { readdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { encodeBatch } from "../../../src/protocol/records/batch-codec.ts";
import { iterateBatches } from "../../../src/protocol/records/batch-header.ts";
import { writeFileAtomic } from "../../../src/broker/log/checkpoint-file.ts";
import { CleanedSegmentWriter, SWAP_RANGE_SUFFIX } from "../../../src/broker/log/cleaner-swap.ts";
import { offsetFileName } from "../../../src/broker/log/log-files.ts";
import { segmentLimits } from "../../../src/broker/log/log-state.ts";
import { T0, openTestLog } from "./helpers.ts";
import { readRecords, type SeenRecord } from "./cleaner-helpers.ts";

interface Prepared {
  dir: string;
  reopen: () => ReturnType<Awaited<ReturnType<typeof openTestLog>>["reopen"]>;
  /** Records of the log before the swap. */
  before: SeenRecord[];
  /** Records once the swap is done: every other batch of the first two segments is dropped. */
  after: SeenRecord[];
  bases: number[];
}

/** A log of three+ segments, and the .cleaned files of a cleaning of its first two (not yet swapped). */
async function prepare(t: TestContext): Promise<Prepared> {
  const { log, dir, config, reopen } = await openTestLog(t, { cleanupPolicy: "compact", segmentBytes: 1024 });
  for (let i = 0; i < 60; i++) {
    await log.append(
      encodeBatch({
        timestamp: T0 + i,
        records: [{ key: Buffer.from(`k${i % 6}`), value: Buffer.from(`v${i}`) }],
      }),
    );
  }
  await log.flush();
  const bases = log.segmentInfo().map((s) => s.baseOffset);
  assert.ok(bases.length >= 3);
  const end = bases[2] as number;
  const writer = new CleanedSegmentWriter(dir, 0, segmentLimits(config));
  await writer.open();
  let n = 0;
  for (const base of bases.slice(0, 2)) {
    const bytes = await readFile(join(dir, offsetFileName(base, ".log")));
    for (const span of iterateBatches(bytes)) {
      if (n++ % 2 === 0) writer.add(bytes, span.start, span.end - span.start);
    }
  }
  const cleaned = await writer.finish(Date.now(), []);
  await cleaned.fh.close();
  const before = (await readRecords(log)).records;
  const after = before.filter((r) => r.offset >= end || r.offset % 2 === 0);
  return { dir, reopen, before, after, bases };
}

async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => /\.(cleaned|swap|cleaner-swap|deleted)$/.test(n));
}

const name = (base: number, suffix: string): string => offsetFileName(base, suffix);

test("a crash while the cleaned files are written leaves the old segments", async (t) => {
  const p = await prepare(t);
  const log = await p.reopen();
  assert.deepEqual((await readRecords(log)).records, p.before);
  assert.deepEqual(await leftovers(p.dir), []);
});

test("a crash after the range record but before the .log is renamed to .swap rolls the swap back", async (t) => {
  const p = await prepare(t);
  await writeFileAtomic(join(p.dir, name(0, SWAP_RANGE_SUFFIX)), Buffer.from(`end ${p.bases[2]}\n`));
  await rename(join(p.dir, name(0, ".index.cleaned")), join(p.dir, name(0, ".index.swap")));
  const log = await p.reopen();
  assert.deepEqual((await readRecords(log)).records, p.before);
  assert.deepEqual(await leftovers(p.dir), []);
});

test("a crash right after the .log became .swap finishes the swap on reopen", async (t) => {
  const p = await prepare(t);
  await writeFileAtomic(join(p.dir, name(0, SWAP_RANGE_SUFFIX)), Buffer.from(`end ${p.bases[2]}\n`));
  for (const suffix of [".index", ".timeindex", ".log"]) {
    await rename(join(p.dir, name(0, suffix + ".cleaned")), join(p.dir, name(0, suffix + ".swap")));
  }
  const log = await p.reopen();
  assert.deepEqual((await readRecords(log)).records, p.after);
  assert.deepEqual(
    log.segmentInfo().map((s) => s.baseOffset),
    [0, ...p.bases.slice(2)],
  );
  assert.deepEqual(await leftovers(p.dir), []);
});

test("a crash half way through renaming old files away and .swap files in finishes the swap on reopen", async (t) => {
  const p = await prepare(t);
  await writeFileAtomic(join(p.dir, name(0, SWAP_RANGE_SUFFIX)), Buffer.from(`end ${p.bases[2]}\n`));
  for (const suffix of [".index", ".timeindex", ".log"]) {
    await rename(join(p.dir, name(0, suffix + ".cleaned")), join(p.dir, name(0, suffix + ".swap")));
  }
  // The first old segment went to .deleted, the new index files took their final names; the
  // second old segment and the new .log did not get there.
  for (const suffix of [".log", ".index", ".timeindex"]) {
    await rename(join(p.dir, name(0, suffix)), join(p.dir, name(0, suffix + ".deleted"))).catch(
      () => undefined,
    );
  }
  await rename(join(p.dir, name(0, ".index.swap")), join(p.dir, name(0, ".index")));
  const log = await p.reopen();
  assert.deepEqual((await readRecords(log)).records, p.after);
  assert.deepEqual(await leftovers(p.dir), []);
});

test("a crash after the swap finished but before its range record was removed changes nothing", async (t) => {
  const p = await prepare(t);
  await writeFileAtomic(join(p.dir, name(0, SWAP_RANGE_SUFFIX)), Buffer.from(`end ${p.bases[2]}\n`));
  for (const base of p.bases.slice(0, 2)) {
    for (const suffix of [".log", ".index", ".timeindex"]) {
      await rename(join(p.dir, name(base, suffix)), join(p.dir, name(base, suffix + ".deleted"))).catch(
        () => undefined,
      );
    }
  }
  for (const suffix of [".index", ".timeindex", ".log"]) {
    await rename(join(p.dir, name(0, suffix + ".cleaned")), join(p.dir, name(0, suffix)));
  }
  const log = await p.reopen();
  assert.deepEqual((await readRecords(log)).records, p.after);
  assert.deepEqual(await leftovers(p.dir), []);
});
