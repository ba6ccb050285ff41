// Compaction in a running broker: kcat (librdkafka) produces many updates per key to a
// compacted topic and, after the log cleaner ran, reads from the beginning exactly the latest
// value per key at the offsets it was written at; __consumer_offsets is compacted and group
// offsets survive a restart; and `ferry broker` processes killed with SIGKILL while cleaning
// lose no acknowledged update and leave no half-done swap.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { PartitionLog } from "../../src/broker/log/partition-log.ts";
import { openConnection, type Connection } from "../../src/net/connection.ts";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { decodeBatches, encodeBatch } from "../../src/protocol/records/batch-codec.ts";
import { kcat, requirePeer } from "../helpers/peers.ts";
import { runOk, spawnFerryBroker, startTestBroker, uniqueName, type ChildBroker } from "./broker-harness.ts";

const TIMEOUT_MS = 20_000;
const COMPACTED = {
  "cleanup.policy": "compact",
  "segment.bytes": "4096",
  "min.cleanable.dirty.ratio": "0.01",
};

interface KcatMessage {
  offset: number;
  key: string | null;
  payload: string | null;
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Records readable in a log from its start. */
async function countRecords(log: PartitionLog): Promise<number> {
  let n = 0;
  let offset = log.logStartOffset;
  while (offset < log.highWatermark) {
    const batches = decodeBatches(await log.read(offset, 1 << 20));
    if (batches.length === 0) break;
    for (const b of batches) {
      n += b.records.length;
      offset = Number(b.header.baseOffset) + b.header.lastOffsetDelta + 1;
    }
  }
  return n;
}

function latest(
  messages: readonly { key: string | null; payload: string | null }[],
): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const r of messages) if (r.key !== null) m.set(r.key, r.payload);
  return m;
}

test("kcat reads a compacted topic from the beginning: the latest value per key, at its original offset", async (t) => {
  if (!(await requirePeer(t, "kcat", kcat))) return;
  const broker = await startTestBroker({ "log.cleaner.backoff.ms": 20 });
  t.after(() => broker.close());
  const topic = uniqueName("compacted");
  await broker.current.context.topics.createTopic(topic, {
    partitions: 1,
    replicationFactor: 1,
    configs: COMPACTED,
  });
  const lines = Array.from({ length: 600 }, (_, i) => `key-${i % 25}\tvalue-${i}`);
  await runOk(
    "kcat",
    [
      "-P",
      "-b",
      broker.bootstrap,
      "-t",
      topic,
      "-K",
      "\t",
      "-X",
      "batch.num.messages=5",
      "-X",
      "linger.ms=0",
    ],
    { input: lines.map((l) => `${l}\n`).join(""), timeoutMs: TIMEOUT_MS },
  );
  const consume = async (): Promise<KcatMessage[]> => {
    const r = await runOk(
      "kcat",
      ["-C", "-b", broker.bootstrap, "-t", topic, "-o", "beginning", "-e", "-J", "-q"],
      {
        timeoutMs: TIMEOUT_MS,
      },
    );
    return r.stdout
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as KcatMessage);
  };
  const cleaner = broker.current.cleaner;
  assert.ok(cleaner !== null);
  const written = await consume();
  assert.equal(written.length, 600);
  const byOffset = new Map(written.map((m) => [m.offset, m]));

  const partition = broker.current.context.topics.partition(topic, 0);
  assert.ok(partition !== undefined);
  await until("the cleaner to compact the topic", async () => (await countRecords(partition.log)) < 200);

  const after = await consume();
  assert.ok(after.length < 200, `${after.length} records left of 600`);
  for (const m of after) {
    const original = byOffset.get(m.offset);
    assert.deepEqual([m.key, m.payload], [original?.key, original?.payload], `offset ${m.offset}`);
  }
  assert.deepEqual(latest(after), latest(written));
});

test("__consumer_offsets is compacted and committed offsets survive a restart", async (t) => {
  const broker = await startTestBroker({
    "log.cleaner.backoff.ms": 20,
    "offsets.topic.segment.bytes": 4096,
    "log.cleaner.min.cleanable.ratio": 0.1,
  });
  t.after(() => broker.close());
  const topic = uniqueName("offsets");
  await broker.current.context.topics.createTopic(topic, {
    partitions: 4,
    replicationFactor: 1,
    configs: {},
  });
  const conn = await openConnection({ host: "127.0.0.1", port: broker.port, clientId: "compaction-test" });
  const commit = async (c: Connection, offset: bigint): Promise<void> => {
    const r = await c.send(ApiKey.OffsetCommit, 2, {
      groupId: "g",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      topics: [
        {
          name: topic,
          partitions: [0, 1, 2, 3].map((p) => ({ partitionIndex: p, committedOffset: offset + BigInt(p) })),
        },
      ],
    });
    assert.ok(r.topics[0]?.partitions.every((p) => p.errorCode === 0));
  };
  for (let i = 0; i < 300; i++) await commit(conn, BigInt(i));
  await conn.close();
  const offsets = broker.current.context.topics.partition("__consumer_offsets", 0);
  assert.ok(offsets !== undefined);
  const before = offsets.log.sizeInBytes;
  await until("__consumer_offsets to be compacted", () => offsets.log.sizeInBytes < before / 2);
  await broker.restart();
  const again = await openConnection({ host: "127.0.0.1", port: broker.port, clientId: "compaction-test" });
  t.after(() => again.close());
  const fetched = await again.send(ApiKey.OffsetFetch, 5, {
    groupId: "g",
    topics: [{ name: topic, partitionIndexes: [0, 1, 2, 3] }],
  });
  assert.deepEqual(
    fetched.topics[0]?.partitions.map((p) => p.committedOffset),
    [299n, 300n, 301n, 302n],
  );
});

test("kill -9 of `ferry broker` while it compacts loses no acknowledged update and leaves no half-done swap", async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), "ferry-compaction-crash-"));
  const settings = {
    "log.cleaner.backoff.ms": 5,
    // Slow cleanings, so that the kills land in the middle of them.
    "log.cleaner.io.max.bytes.per.second": 1_000_000,
    "log.segment.bytes": 8192,
    "log.cleaner.min.cleanable.ratio": 0.01,
    "log.cleanup.policy": "compact",
    "log.segment.delete.delay.ms": 0,
  };
  let broker: ChildBroker = await spawnFerryBroker({ dataDir, settings });
  const port = broker.port;
  t.after(async () => {
    await broker.stop("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });
  const topic = "crash-compacted";
  const connect = async (): Promise<Connection> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await openConnection({
          host: "127.0.0.1",
          port,
          clientId: "compaction-crash",
          requestTimeoutMs: 5000,
        });
      } catch (e) {
        if (attempt > 200) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  let conn = await connect();
  await conn.send(ApiKey.CreateTopics, 7, {
    topics: [{ name: topic, numPartitions: 1, replicationFactor: 1 }],
    timeoutMs: 5000,
  });

  const KEYS = 40;
  /** offset → [key, seq] of every acknowledged write; the last acknowledged seq per key. */
  const acked = new Map<number, [string, number]>();
  const lastAcked = new Map<string, number>();
  let seq = 0;
  const produceFor = async (ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const records = Array.from({ length: 4 }, (_, i) => ({
        key: Buffer.from(`key-${(seq + i) % KEYS}`),
        value: Buffer.from(`${seq + i}`.padStart(8, "0") + "x".repeat(100)),
      }));
      try {
        const r = await conn.send(ApiKey.Produce, 9, {
          acks: -1,
          timeoutMs: 5000,
          topicData: [{ name: topic, partitionData: [{ index: 0, records: encodeBatch({ records }) }] }],
        });
        const p = r.responses[0]?.partitionResponses[0];
        assert.equal(p?.errorCode, 0);
        records.forEach((rec, i) => {
          const key = rec.key.toString();
          acked.set(Number(p?.baseOffset ?? -1n) + i, [key, seq + i]);
          lastAcked.set(key, seq + i);
        });
        seq += records.length;
      } catch {
        return; // the broker died under the request
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  };

  let kills = 0;
  let killedMidCleaning = 0;
  for (let round = 0; round < 6; round++) {
    const producing = produceFor(10_000);
    await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 700)));
    await broker.stop("SIGKILL");
    kills++;
    const left = await readdir(join(dataDir, `${topic}-0`)).catch(() => []);
    if (left.some((f) => /\.(cleaned|swap|cleaner-swap)$/.test(f))) killedMidCleaning++;
    await producing;
    await conn.close().catch(() => undefined);
    broker = await spawnFerryBroker({ dataDir, port, settings });
    conn = await connect();
  }
  // Let the cleaner finish a round after the last restart, then read the whole partition.
  await produceFor(500);
  const cleanedLine = new RegExp(`msg="log cleaned".* log=${topic}-0 `);
  await until("a cleaning after the last restart", () => cleanedLine.test(broker.stderr()), 30_000);
  const seen: { offset: number; key: string; seq: number }[] = [];
  let offset = 0n;
  for (;;) {
    const f = await conn.send(ApiKey.Fetch, 11, {
      maxWaitMs: 0,
      maxBytes: 4 << 20,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 4 << 20 }] }],
    });
    const batches = decodeBatches(f.responses[0]?.partitions[0]?.records ?? Buffer.alloc(0));
    if (batches.length === 0) break;
    for (const b of batches) {
      for (const r of b.records) {
        const o = b.header.baseOffset + BigInt(r.offsetDelta);
        if (o < offset) continue;
        seen.push({
          offset: Number(o),
          key: r.key?.toString() ?? "",
          seq: Number(r.value?.toString().slice(0, 8)),
        });
      }
      offset = b.header.baseOffset + BigInt(b.header.lastOffsetDelta) + 1n;
    }
  }
  await conn.close();
  assert.equal(kills, 6);
  t.diagnostic(`${killedMidCleaning} of ${kills} kills left a cleaning's files behind`);
  assert.ok(killedMidCleaning > 0, "at least one kill hit a cleaning in progress");
  for (let i = 1; i < seen.length; i++)
    assert.ok((seen[i] as { offset: number }).offset > (seen[i - 1] as { offset: number }).offset);
  // Every record is the one acknowledged at its offset (offsets are kept by compaction).
  for (const r of seen) {
    const a = acked.get(r.offset);
    if (a !== undefined) assert.deepEqual([r.key, r.seq], a, `offset ${r.offset}`);
  }
  // The newest value of every key is at least its last acknowledged one.
  const newest = new Map<string, number>();
  for (const r of seen) newest.set(r.key, r.seq);
  for (const [key, s] of lastAcked)
    assert.ok((newest.get(key) ?? -1) >= s, `${key}: ${newest.get(key)} < acked ${s}`);
  assert.ok(
    seen.length < acked.size / 2,
    `compaction ran: ${seen.length} records of ${acked.size} acknowledged`,
  );
  await broker.stop("SIGTERM");
  const files = await readdir(join(dataDir, `${topic}-0`));
  assert.deepEqual(
    files.filter((f) => /\.(cleaned|swap|cleaner-swap)$/.test(f)),
    [],
  );
});
