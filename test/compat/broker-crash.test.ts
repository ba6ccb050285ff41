// kill -9 of a `ferry broker` process under real clients (python3-confluent-kafka): every
// record the broker acknowledged survives, once and in order, and a consumer group resumes
// from the offsets it had committed. The benchmark-style script does many more kills.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { pythonModule, requirePeer, SYSTEM_PYTHON } from "../helpers/peers.ts";
import {
  pythonScript,
  runPython,
  spawnFerryBroker,
  startProgram,
  uniqueName,
  type ChildBroker,
} from "./broker-harness.ts";

const confluentKafka = pythonModule("confluent_kafka");

interface DeliveryReport {
  seq: number;
  offset: number;
  error: string | null;
}

/** A broker process on a temp data directory that the test can kill and start again. */
async function crashableBroker(
  t: TestContext,
): Promise<{ bootstrap: string; crashAndRestart(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), "ferry-crash-"));
  let broker: ChildBroker = await spawnFerryBroker({ dataDir });
  const port = broker.port;
  t.after(async () => {
    await broker.stop("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });
  return {
    bootstrap: broker.bootstrap,
    async crashAndRestart() {
      await broker.stop("SIGKILL");
      broker = await spawnFerryBroker({ dataDir, port });
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("kill -9 during an idempotent acks=all producer loses no acknowledged record and duplicates none", async (t) => {
  if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
  const broker = await crashableBroker(t);
  const topic = uniqueName("crash");
  const producer = startProgram(SYSTEM_PYTHON, [
    pythonScript("confluent_crash_producer.py"),
    broker.bootstrap,
    topic,
  ]);
  t.after(() => producer.kill());
  const reports = (): DeliveryReport[] =>
    producer.lines.filter((l) => l.includes('"seq"')).map((l) => JSON.parse(l) as DeliveryReport);
  const waitForMoreAcks = async (n: number): Promise<void> => {
    const target = reports().length + n;
    await producer.waitForLine(() => reports().length >= target, 20_000);
  };

  const crashes = 3;
  for (let i = 0; i < crashes; i++) {
    await waitForMoreAcks(100);
    await sleep(Math.random() * 100);
    await broker.crashAndRestart();
  }
  await waitForMoreAcks(100);
  producer.write("stop\n");
  assert.equal(await producer.exited, 0, producer.stderr());
  const summary = JSON.parse(producer.lines.at(-1) ?? "") as {
    sent: number;
    unflushed: number;
    fatal: string[];
  };
  assert.deepEqual(summary.fatal, [], "the producer hit no fatal (idempotence) error");
  assert.equal(summary.unflushed, 0);

  const all = reports();
  const failed = all.filter((r) => r.error !== null);
  assert.deepEqual(failed.slice(0, 5), [], `${failed.length} deliveries failed`);
  assert.equal(all.length, summary.sent);

  const read = await runPython<{ values: string[]; offsets: number[]; error: string | null }>(
    "confluent_read_partition.py",
    [broker.bootstrap, topic],
  );
  assert.equal(read.error, null);
  const values = read.values.map(Number);
  assert.deepEqual(
    read.offsets,
    values.map((_, i) => i),
    "offsets are dense",
  );
  assert.equal(new Set(values).size, values.length, "no record is stored twice");
  assert.deepEqual(
    values,
    Array.from({ length: summary.sent }, (_, i) => i),
    "every record, once, in send order",
  );
  for (const r of all)
    assert.equal(values[r.offset], r.seq, `acknowledged record ${r.seq} at offset ${r.offset}`);
});

test("after kill -9 a consumer group resumes exactly at the offsets it committed", async (t) => {
  if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
  const broker = await crashableBroker(t);
  const topic = uniqueName("crash-group");
  const group = uniqueName("crash-g");
  const produced = await runPython<{ reports: { error: string | null }[] }>("confluent_idempotent.py", [
    broker.bootstrap,
    topic,
    "50",
  ]);
  assert.equal(produced.reports.filter((r) => r.error === null).length, 50);

  const consume = (
    limit: number,
  ): Promise<{ consumed: { offset: number; value: string }[]; error: string | null }> =>
    runPython("confluent_consume.py", [broker.bootstrap, topic, group, String(limit)]);
  const first = await consume(20);
  assert.deepEqual(
    first.consumed.map((c) => c.offset),
    Array.from({ length: 20 }, (_, i) => i),
  );
  await broker.crashAndRestart();

  const second = await consume(1000);
  assert.equal(second.error, null);
  assert.deepEqual(
    second.consumed.map((c) => [c.offset, c.value]),
    Array.from({ length: 30 }, (_, i) => [i + 20, `value-${i + 20}`]),
  );
  await broker.crashAndRestart();
  assert.deepEqual((await consume(1000)).consumed, [], "the last commits survived the second kill too");
});
