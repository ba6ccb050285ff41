// kill -9 at random moments, for real: a child process appends idempotent batches and prints
// each acknowledged one; it is killed (during recovery, during appends, during segment rolls,
// with and without flush.messages=1), then the log is reopened and must hold every
// acknowledged batch exactly once, in order, byte for byte, with a consistent end. The next
// child resends from the first unacknowledged batch, so batches that were written but not
// acknowledged must come back as duplicates with their original offsets.
// FERRY_CRASH_ROUNDS and FERRY_CRASH_SEED make longer or reproducible runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { PARTITION_LEADER_EPOCH_OFFSET } from "../../../src/protocol/records/batch-header.ts";
import { PartitionLog } from "../../../src/broker/log/partition-log.ts";
import { CRASH_PRODUCER_ID, crashBatch, crashConfig, crashNow, seqOf } from "./fixtures/crash-batches.ts";
import { readAll, tempDir } from "./helpers.ts";

const WRITER = join(import.meta.dirname, "fixtures", "crash-writer.ts");

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RoundResult {
  acked: number[];
  badAcks: string[];
  opened: boolean;
}

/**
 * Runs the writer from batch start and kills it with SIGKILL killAfterMs after it reported
 * the log open, or (duringStartup) after it was spawned, which may hit recovery.
 */
async function runWriter(
  dir: string,
  start: number,
  flushMessages: number,
  killAfterMs: number,
  duringStartup: boolean,
): Promise<RoundResult> {
  const child = spawn(process.execPath, [WRITER, dir, String(start), String(flushMessages)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const result: RoundResult = { acked: [], badAcks: [], opened: false };
  const kill = (): boolean => child.kill("SIGKILL");
  let timer = duringStartup ? setTimeout(kill, killAfterMs) : undefined;
  let pending = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const parts = line.split(" ");
      if (parts[0] === "open") {
        result.opened = true;
        timer ??= setTimeout(kill, killAfterMs);
      }
      if (parts[0] !== "ack") continue;
      const i = Number(parts[1]);
      const base = Number(parts[2]);
      if (base !== seqOf(i)) result.badAcks.push(line);
      result.acked.push(i);
    }
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, null, `writer exited by itself (code ${code}): ${stderr}`);
  return result;
}

test("after kill -9 at random moments every acknowledged batch is in the log once, in order, byte for byte", async (t) => {
  const rounds = Number(process.env.FERRY_CRASH_ROUNDS ?? 10);
  const seed = Number(process.env.FERRY_CRASH_SEED ?? Date.now() % 1_000_000);
  const random = mulberry32(seed);
  const root = await tempDir(t);
  const dir = join(root, "crash-0");
  const abandoned: PartitionLog[] = [];
  t.after(async () => {
    for (const log of abandoned) await log.close().catch(() => undefined);
  });
  let acked = 0; // batches 0..acked-1 are acknowledged
  let kills = 0;
  let killsDuringStartup = 0;
  for (let round = 0; round < rounds; round++) {
    const flushMessages = round % 3 === 1 ? 1 : 0;
    // Some kills land before or during recovery, most while appending and rolling.
    const duringStartup = round % 4 === 3;
    const killAfter = Math.floor(random() * (duringStartup ? 300 : 400));
    const from = duringStartup ? "spawn" : "open";
    const where = `seed ${seed}, round ${round}, kill ${killAfter} ms after ${from}, flush.messages ${flushMessages || "max"}`;
    const r = await runWriter(dir, acked, flushMessages, killAfter, duringStartup);
    kills++;
    if (!r.opened) killsDuringStartup++;
    assert.deepEqual(r.badAcks, [], `acks with wrong offsets (${where})`);
    r.acked.forEach((i, k) => assert.equal(i, acked + k, `acks out of order (${where})`));
    acked += r.acked.length;

    const log = await PartitionLog.open(dir, crashConfig(0), { now: crashNow });
    const stored = await readAll(log, 0);
    assert.ok(stored.length >= acked, `${stored.length} batches stored, ${acked} acknowledged (${where})`);
    stored.forEach((b, i) => {
      const expected = crashBatch(i);
      expected.writeBigInt64BE(BigInt(seqOf(i)), 0);
      expected.writeInt32BE(0, PARTITION_LEADER_EPOCH_OFFSET);
      assert.ok(b.equals(expected), `batch ${i} differs from what was sent (${where})`);
    });
    assert.equal(log.logEndOffset, seqOf(stored.length), where);
    assert.equal(log.highWatermark, log.logEndOffset, where);
    if (stored.length > 0) {
      assert.equal(
        log.producerState(CRASH_PRODUCER_ID)?.batches.at(-1)?.lastSeq,
        seqOf(stored.length) - 1,
        where,
      );
    }
    // Alternate a clean close with leaving the log open, so that writers start after both.
    if (round % 2 === 0) await log.close();
    else abandoned.push(log);
  }
  t.diagnostic(
    `seed ${seed}: ${kills} kills (${killsDuringStartup} before the log was open), ${acked} batches acknowledged`,
  );
  assert.ok(acked > 0);
});
