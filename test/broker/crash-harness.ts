// Crash drill for the broker: an idempotent producer with acks=all and a committing
// consumer run against `ferry broker` child processes that are killed with SIGKILL at
// random moments and restarted on the same data directory. Afterwards every acknowledged
// record must be in the log exactly once, in order, and the last acknowledged commit must
// be what the group reads back. Used by test/broker/crash.test.ts and bench/broker-crash.ts.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { encodeBatch, decodeBatches } from "../../src/protocol/records/batch-codec.ts";
import { openConnection, type Connection } from "../../src/net/connection.ts";

const FERRY = new URL("../../bin/ferry", import.meta.url).pathname;
const TOPIC = "crash";
const RECORDS_PER_BATCH = 10;

export interface CrashReport {
  kills: number;
  acknowledgedRecords: number;
  recordsInLog: number;
  duplicates: number;
  missing: number;
  outOfOrder: number;
  commitChecks: number;
  commitMismatches: number;
  retriedBatches: number;
  recoverySecondsMax: number;
}

interface BrokerProcess {
  child: ChildProcess;
  port: number;
}

async function startBrokerProcess(dataDir: string, port: number): Promise<BrokerProcess> {
  const child = spawn(
    FERRY,
    ["broker", "--data-dir", dataDir, "--port", String(port), "--log-level", "warn"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const bound = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on [^:]+:(\d+) /.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`broker exited with ${code} before listening`)));
  });
  return { child, port: bound };
}

function kill9(b: BrokerProcess): Promise<void> {
  return new Promise((resolve) => {
    if (b.child.exitCode !== null || b.child.signalCode !== null) return resolve();
    b.child.once("exit", () => resolve());
    b.child.kill("SIGKILL");
  });
}

async function connectRetrying(port: number, deadline: number): Promise<Connection> {
  for (;;) {
    try {
      return await openConnection({
        host: "127.0.0.1",
        port,
        clientId: "crash-drill",
        requestTimeoutMs: 5000,
      });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Runs the drill: `kills` SIGKILLs, each `minMs`..`maxMs` after the broker came up. */
export async function runCrashDrill(opts: {
  kills: number;
  minMs: number;
  maxMs: number;
  seed?: number;
}): Promise<CrashReport> {
  const dataDir = await mkdtemp(join(tmpdir(), "ferry-crash-"));
  let rand = opts.seed ?? 12345;
  const random = (): number => {
    rand = (rand * 1103515245 + 12345) & 0x7fffffff;
    return rand / 0x7fffffff;
  };
  let broker = await startBrokerProcess(dataDir, 0);
  const port = broker.port;
  const report: CrashReport = {
    kills: 0,
    acknowledgedRecords: 0,
    recordsInLog: 0,
    duplicates: 0,
    missing: 0,
    outOfOrder: 0,
    commitChecks: 0,
    commitMismatches: 0,
    retriedBatches: 0,
    recoverySecondsMax: 0,
  };
  try {
    let conn = await connectRetrying(port, Date.now() + 10_000);
    await conn.send(ApiKey.CreateTopics, 7, {
      topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 5000,
    });
    const pid = await conn.send(ApiKey.InitProducerId, 4, {
      transactionalId: null,
      transactionTimeoutMs: 60000,
    });
    let nextRecord = 0;
    let lastAckedCommit = -1n;
    let stop = false;
    let generation = 0;
    let ready: Promise<void> = Promise.resolve();

    // The killer: SIGKILL at random moments while the producer is mid-request.
    const killer = (async () => {
      for (let k = 0; k < opts.kills; k++) {
        await new Promise((r) => setTimeout(r, opts.minMs + random() * (opts.maxMs - opts.minMs)));
        let restarted!: () => void;
        ready = new Promise<void>((r) => (restarted = r));
        await kill9(broker);
        report.kills++;
        const t0 = Date.now();
        broker = await startBrokerProcess(dataDir, port);
        const check = await connectRetrying(port, Date.now() + 10_000);
        report.recoverySecondsMax = Math.max(report.recoverySecondsMax, (Date.now() - t0) / 1000);
        const fetched = await check.send(ApiKey.OffsetFetch, 5, { groupId: "crash-group", topics: null });
        const committed = fetched.topics[0]?.partitions[0]?.committedOffset ?? -1n;
        report.commitChecks++;
        // A commit in flight at the kill may or may not have landed; an acknowledged one must.
        if (committed < lastAckedCommit) report.commitMismatches++;
        await check.close();
        generation++;
        restarted();
      }
      await new Promise((r) => setTimeout(r, opts.maxMs));
      stop = true;
    })();

    let retrying = false;
    while (!stop) {
      const values = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => Buffer.from(String(nextRecord + i)));
      const batch = encodeBatch({
        records: values.map((value) => ({ value })),
        producerId: pid.producerId,
        producerEpoch: pid.producerEpoch,
        baseSequence: nextRecord,
      });
      try {
        const res = await conn.send(ApiKey.Produce, 9, {
          acks: -1,
          timeoutMs: 5000,
          topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: batch }] }],
        });
        const code = res.responses[0]?.partitionResponses[0]?.errorCode;
        if (code !== 0) throw new Error(`produce failed with error ${code}`);
        if (retrying) report.retriedBatches++;
        retrying = false;
        nextRecord += RECORDS_PER_BATCH;
        report.acknowledgedRecords = nextRecord;
        // Commit the position a consumer would have reached: every other acknowledgement.
        if ((nextRecord / RECORDS_PER_BATCH) % 2 === 0) {
          const c = await conn.send(ApiKey.OffsetCommit, 2, {
            groupId: "crash-group",
            generationIdOrMemberEpoch: -1,
            memberId: "",
            topics: [
              { name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: BigInt(nextRecord) }] },
            ],
          });
          if (c.topics[0]?.partitions[0]?.errorCode === 0 && BigInt(nextRecord) > lastAckedCommit) {
            lastAckedCommit = BigInt(nextRecord);
          }
        }
      } catch (e) {
        if (e instanceof Error && e.message.startsWith("produce failed")) throw e;
        // The broker died: wait for the restart, reconnect, and send the same batch again
        // with the same sequence (the broker must not store it twice).
        retrying = true;
        const seen = generation;
        await conn.close().catch(() => undefined);
        while (generation === seen && !stop) await ready;
        conn = await connectRetrying(port, Date.now() + 10_000);
      }
    }
    await killer;
    // Read the whole log back.
    const seen: number[] = [];
    let offset = 0n;
    for (;;) {
      const f = await conn.send(ApiKey.Fetch, 11, {
        maxWaitMs: 0,
        maxBytes: 4 << 20,
        topics: [
          { topic: TOPIC, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 4 << 20 }] },
        ],
      });
      const p = f.responses[0]?.partitions[0];
      const batches = decodeBatches(p?.records ?? Buffer.alloc(0));
      if (batches.length === 0) break;
      for (const b of batches) {
        for (const r of b.records) {
          if (b.header.baseOffset + BigInt(r.offsetDelta) < offset) continue;
          seen.push(Number(r.value?.toString()));
        }
        offset = b.header.baseOffset + BigInt(b.header.lastOffsetDelta) + 1n;
      }
    }
    await conn.close();
    report.recordsInLog = seen.length;
    const counts = new Map<number, number>();
    for (let i = 0; i < seen.length; i++) {
      const v = seen[i] as number;
      counts.set(v, (counts.get(v) ?? 0) + 1);
      if (i > 0 && v <= (seen[i - 1] as number)) report.outOfOrder++;
    }
    for (const c of counts.values()) if (c > 1) report.duplicates += c - 1;
    for (let v = 0; v < report.acknowledgedRecords; v++) if (!counts.has(v)) report.missing++;
    return report;
  } finally {
    await kill9(broker);
    await rm(dataDir, { recursive: true, force: true });
  }
}
