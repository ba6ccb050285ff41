// Transactions with real clients against the Ferry broker: kcat's transactional producer
// (-X transactional.id: one transaction per run, committed at the end of its input) and
// python3-confluent-kafka (librdkafka) transactional producers: commit and abort seen through
// read_committed and read_uncommitted consumers, a zombie fenced by a newer instance,
// consume-transform-produce with send_offsets_to_transaction, and kill -9 of a broker process
// with transactions open.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { openConnection } from "../../src/net/connection.ts";
import { kcat, pythonModule, requirePeer, SYSTEM_PYTHON } from "../helpers/peers.ts";
import {
  pythonScript,
  runOk,
  runPython,
  spawnFerryBroker,
  startProgram,
  startTestBroker,
  uniqueName,
  type ChildBroker,
  type RunningProgram,
  type TestBroker,
} from "./broker-harness.ts";

const confluentKafka = pythonModule("confluent_kafka");
const TIMEOUT_MS = 30_000;

interface Read {
  offset: number;
  value: string;
}

describe("transactions with real clients", () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    const problems = broker.loggedProblems();
    await broker.close();
    assert.deepEqual(problems, [], "the broker logged no warnings or errors");
  });

  async function kcatConsume(topic: string, isolation: string): Promise<string[]> {
    const r = await runOk(
      "kcat",
      [
        "-C",
        "-b",
        broker.bootstrap,
        "-t",
        topic,
        "-o",
        "beginning",
        "-e",
        "-q",
        "-X",
        `isolation.level=${isolation}`,
      ],
      { timeoutMs: TIMEOUT_MS },
    );
    return r.stdout.split("\n").filter((l) => l !== "");
  }

  test("kcat -X transactional.id commits its input as one transaction that read_committed consumers see", async (t) => {
    if (!(await requirePeer(t, "kcat", kcat))) return;
    const topic = uniqueName("kcat-txn");
    const txnId = uniqueName("kcat-tx");
    for (const batch of [
      ["a", "b", "c"],
      ["d", "e"],
    ]) {
      const r = await runOk(
        "kcat",
        ["-P", "-b", broker.bootstrap, "-t", topic, "-p", "0", "-X", `transactional.id=${txnId}`],
        {
          input: batch.map((v) => `${v}\n`).join(""),
          timeoutMs: TIMEOUT_MS,
        },
      );
      assert.match(r.stderr, /Transaction successfully committed/);
    }
    assert.deepEqual(await kcatConsume(topic, "read_committed"), ["a", "b", "c", "d", "e"]);
    assert.deepEqual(await kcatConsume(topic, "read_uncommitted"), ["a", "b", "c", "d", "e"]);
    const d = broker.current.context.txns.describe([txnId]);
    assert.equal(d[0]?.state, "CompleteCommit");
    assert.equal(d[0]?.producerEpoch, 1, "the second kcat run bumped the epoch");
  });

  test("confluent-kafka: read_committed sees committed transactions only, read_uncommitted sees aborted ones too", async (t) => {
    if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
    const topic = uniqueName("cf-txn");
    const r = await runPython<{ committed: Read[]; uncommitted: Read[]; errors: string[] }>(
      "confluent_transactions.py",
      ["commit-abort", broker.bootstrap, topic],
      60_000,
    );
    assert.deepEqual(r.errors, []);
    const c = (from: number, to: number): string[] =>
      Array.from({ length: to - from }, (_, i) => `c${from + i}`);
    assert.deepEqual(
      r.committed.map((x) => x.value),
      c(0, 10),
    );
    assert.deepEqual(
      r.uncommitted.map((x) => x.value),
      [...c(0, 5), "a0", "a1", "a2", "a3", "a4", ...c(5, 10)],
    );
    // Offsets: c0-c4 at 0-4, COMMIT at 5, a0-a4 at 6-10, ABORT at 11, c5-c9 at 12-16.
    assert.deepEqual(
      r.committed.map((x) => x.offset),
      [0, 1, 2, 3, 4, 12, 13, 14, 15, 16],
    );
  });

  test("confluent-kafka: a newer instance fences a zombie producer, whose open transaction is aborted", async (t) => {
    if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
    const topic = uniqueName("cf-zombie");
    const r = await runPython<{
      zombie: { name: string; fatal: boolean };
      committed: Read[];
      errors: string[];
    }>("confluent_transactions.py", ["zombie", broker.bootstrap, topic, uniqueName("zombie-tx")], 60_000);
    assert.deepEqual(r.errors, []);
    assert.equal(r.zombie.name, "_FENCED");
    assert.equal(r.zombie.fatal, true);
    assert.deepEqual(
      r.committed.map((x) => x.value),
      ["b0"],
      "only the new instance's record",
    );
  });

  test("confluent-kafka: consume-transform-produce commits the consumer's offsets in the transaction", async (t) => {
    if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
    const inTopic = uniqueName("cf-in");
    const outTopic = uniqueName("cf-out");
    const group = uniqueName("cf-ctp");
    const r = await runPython<{
      seen: number;
      afterCommit: [string, number, number][];
      afterAbort: [string, number, number][];
      out: string[];
      errors: string[];
    }>("confluent_transactions.py", ["ctp", broker.bootstrap, inTopic, outTopic, group], 90_000);
    assert.deepEqual(r.errors, []);
    assert.equal(r.seen, 10);
    assert.deepEqual(r.afterCommit, [[inTopic, 0, 10]]);
    assert.deepEqual(
      r.afterAbort,
      [[inTopic, 0, 10]],
      "the aborted transaction's offsets did not take effect",
    );
    assert.deepEqual(
      r.out,
      Array.from({ length: 10 }, (_, i) => `V${i}`),
    );
  });
});

test("kill -9 with transactions open: nothing stays open, the LSO catches up, no committed record is lost", async (t) => {
  if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
  const dataDir = await mkdtemp(join(tmpdir(), "ferry-txn-crash-"));
  const settings = { "transaction.abort.timed.out.transaction.cleanup.interval.ms": 200 };
  let broker: ChildBroker = await spawnFerryBroker({ dataDir, settings });
  const port = broker.port;
  const programs: RunningProgram[] = [];
  t.after(async () => {
    for (const p of programs) p.kill();
    await broker.stop("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });
  const topic = uniqueName("txn-crash");
  const txnId = uniqueName("crash-tx");
  const rounds = 3;
  const committed: string[] = [];
  const openAtKill: string[] = [];
  for (let round = 0; round < rounds; round++) {
    // Each round a new instance of the same transactional id (fencing whatever the last left).
    const producer = startProgram(SYSTEM_PYTHON, [
      pythonScript("confluent_txn_crash_producer.py"),
      broker.bootstrap,
      topic,
      txnId,
      `r${round}`,
    ]);
    programs.push(producer);
    const target = 2 + Math.floor(Math.random() * 3);
    await producer
      .waitForLine((l) => (JSON.parse(l) as { open?: number }).open === target, 40_000)
      .catch((e: unknown) => {
        throw new Error(`round ${round}: ${String(e)}\nbroker stderr:\n${broker.stderr()}`);
      });
    // The transaction is open (records acknowledged, no commit sent): crash now.
    await broker.stop("SIGKILL");
    producer.kill();
    await producer.exited;
    for (const l of producer.lines) {
      const m = JSON.parse(l) as { committed?: number; open?: number };
      if (m.committed !== undefined) committed.push(`r${round}-${m.committed}`);
    }
    openAtKill.push(`r${round}-${target}`);
    broker = await spawnFerryBroker({ dataDir, port, settings });
  }

  // The last round's transaction is found Ongoing after the restart; its 3 s timeout aborts it.
  const conn = await openConnection({ host: "127.0.0.1", port, clientId: "txn-crash-check" });
  try {
    const offsets = async (isolationLevel: number): Promise<bigint> => {
      const r = await conn.send(ApiKey.ListOffsets, 5, {
        replicaId: -1,
        isolationLevel,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
      });
      return r.topics[0]?.partitions[0]?.offset ?? -1n;
    };
    const deadline = Date.now() + 15_000;
    while ((await offsets(1)) < (await offsets(0)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(await offsets(1), await offsets(0), "the last stable offset reached the high watermark");
    const open = await conn.send(ApiKey.ListTransactions, 1, {
      stateFilters: ["Ongoing", "PrepareCommit", "PrepareAbort"],
      producerIdFilters: [],
      durationFilter: -1n,
    });
    assert.deepEqual(open.transactionStates, [], "no transaction stays open");
  } finally {
    await conn.close();
  }

  const read = await runPython<{ values: string[]; errors: string[] }>(
    "confluent_transactions.py",
    ["read", broker.bootstrap, topic],
    60_000,
  );
  assert.deepEqual(read.errors, []);
  const byTxn = new Map<string, string[]>();
  for (const v of read.values) {
    const [round, txn, n] = v.split("-");
    const key = `${round}-${txn}`;
    byTxn.set(key, [...(byTxn.get(key) ?? []), n ?? ""]);
  }
  for (const [key, records] of byTxn)
    assert.deepEqual(records, ["0", "1", "2", "3", "4"], `transaction ${key} is visible whole, in order`);
  for (const key of committed) assert.ok(byTxn.has(key), `committed transaction ${key} survived`);
  for (const key of openAtKill)
    assert.ok(!byTxn.has(key), `transaction ${key}, open at the kill, was aborted`);
  assert.ok(committed.length >= rounds * 2, "transactions were committed before each kill");
});
