// Network fuzzing of a running broker: `bin/ferry broker` in a child process receives
// mutated real-client request frames (test/protocol/fixtures/*.jsonl) over many TCP
// connections, while a well-behaved client produces and consumes through it. Afterwards the
// broker must be up, must have logged no error (a bug) and must return exactly what the good
// client produced. FERRY_FUZZ_BROKER_FRAMES sets the number of frames (default 1,000,000).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openConnection, type Connection } from "../src/net/connection.ts";
import { ApiKey } from "../src/protocol/generated/index.ts";
import { decodeBatches, encodeBatch } from "../src/protocol/records/batch-codec.ts";

const FERRY = fileURLToPath(new URL("../bin/ferry", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../test/protocol/fixtures/", import.meta.url));

export interface FuzzBrokerOptions {
  frames?: number;
  /** Hostile connections open at once. */
  connections?: number;
  seed?: number;
}

/** Request payloads (no size prefix) captured from real clients. */
async function corpus(): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const f of (await readdir(FIXTURES)).filter((n) => n.endsWith(".jsonl"))) {
    for (const line of (await readFile(join(FIXTURES, f), "utf8")).split("\n")) {
      if (line.trim() === "") continue;
      const frame = JSON.parse(line) as { direction: string; hex: string };
      if (frame.direction === "request") out.push(Buffer.from(frame.hex, "hex"));
    }
  }
  return out;
}

/** xorshift32: reproducible mutations from a seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** One mutated frame, size prefix included (sometimes a lying one). */
function mutate(base: Buffer, random: () => number): Buffer {
  const int = (n: number): number => Math.floor(random() * n);
  let p = Buffer.from(base);
  // A quarter stay valid (new correlation id only), so the sessions reach the handlers too.
  if (p.length >= 8) p.writeInt32BE(int(0x7fffffff), 4);
  const rounds = random() < 0.25 ? 0 : random() < 0.7 ? 1 : 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    switch (int(8)) {
      case 0: // flip a bit
        if (p.length > 0) p[int(p.length)] = (p[int(p.length)] ?? 0) ^ (1 << int(8));
        break;
      case 1: // random byte
        if (p.length > 0) p[int(p.length)] = int(256);
        break;
      case 2: // truncate
        p = p.subarray(0, int(p.length + 1));
        break;
      case 3: // append garbage
        p = Buffer.concat([p, Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)))]);
        break;
      case 4: // another API version (header bytes 2-3), often a supported one
        if (p.length >= 4) p.writeInt16BE(int(14) - 1, 2);
        break;
      case 5: // a length or count field turned huge or negative
        if (p.length >= 12)
          p.writeInt32BE(random() < 0.5 ? -1 - int(1000) : 0x7fffff00 + int(255), 8 + int(p.length - 11));
        break;
      case 6: // splice in a piece of itself
        if (p.length > 4) {
          const a = int(p.length);
          p = Buffer.concat([p.subarray(0, a), p.subarray(int(p.length)), p.subarray(a)]);
        }
        break;
      default: // unchanged this round: some frames stay valid
        break;
    }
  }
  const prefix = Buffer.alloc(4);
  const lie = random();
  // Mostly honest sizes; sometimes negative, huge, or short (the broker then waits for bytes).
  prefix.writeInt32BE(
    lie < 0.97 ? p.length : lie < 0.98 ? -1 : lie < 0.99 ? 0x7ffffff0 : p.length + 1 + int(100),
  );
  return Buffer.concat([prefix, p]);
}

interface BrokerProcess {
  port: number;
  errors: string[];
  errorCount(): number;
  alive(): boolean;
  stop(): Promise<number | null>;
}

async function startChildBroker(dataDir: string): Promise<BrokerProcess> {
  const child = spawn(
    FERRY,
    [
      "broker",
      "--data-dir",
      dataDir,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--log-level",
      "error",
      "--set",
      "auto.create.topics.enable=false",
      "--set",
      "group.initial.rebalance.delay.ms=0",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const errors: string[] = [];
  let count = 0;
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    for (const line of s.split("\n")) {
      if (!/level=error/.test(line)) continue;
      count++;
      if (errors.length < 20) errors.push(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${out}`)), 20_000);
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", () => reject(new Error(`broker exited: ${out}`)));
  });
  return {
    port,
    errors,
    errorCount: () => count,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** The well-behaved client: produces numbered records and reads them back as it goes. */
class GoodClient {
  readonly latencies: number[] = [];
  readonly failures: string[] = [];
  produced = 0;
  consumed = 0;
  #stop = false;
  #conn: Connection;
  readonly #topic: string;

  constructor(conn: Connection, topic: string) {
    this.#conn = conn;
    this.#topic = topic;
  }

  async run(port: number): Promise<void> {
    while (!this.#stop) {
      const t0 = performance.now();
      try {
        const records = Array.from({ length: 10 }, (_, i) => ({
          value: Buffer.from(`good-${this.produced + i}`),
        }));
        const r = await this.#conn.send(ApiKey.Produce, 9, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 10_000,
          topicData: [
            { name: this.#topic, partitionData: [{ index: 0, records: encodeBatch({ records }) }] },
          ],
        });
        const code = r.responses[0]?.partitionResponses[0]?.errorCode;
        if (code !== 0) throw new Error(`produce error ${String(code)}`);
        this.produced += 10;
        const seen = await fetchValues(this.#conn, this.#topic, this.consumed);
        for (const v of seen) {
          if (v !== `good-${this.consumed}`) throw new Error(`read ${v}, expected good-${this.consumed}`);
          this.consumed++;
        }
        this.latencies.push(performance.now() - t0);
      } catch (e) {
        this.failures.push(e instanceof Error ? e.message : String(e));
        await this.#conn.close();
        this.#conn = await openConnection({ host: "127.0.0.1", port });
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  stop(): void {
    this.#stop = true;
  }

  close(): Promise<void> {
    return this.#conn.close();
  }
}

/** Every record value of a partition from `offset` up to what one fetch returns. */
async function fetchValues(conn: Connection, topic: string, offset: number): Promise<string[]> {
  const r = await conn.send(ApiKey.Fetch, 12, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 8 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: BigInt(offset),
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: 8 << 20,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: "",
  });
  const p = r.responses[0]?.partitions[0];
  if (p === undefined || p.errorCode !== 0) throw new Error(`fetch error ${String(p?.errorCode)}`);
  const values: string[] = [];
  for (const batch of decodeBatches(p.records ?? Buffer.alloc(0)))
    for (const rec of batch.records) {
      const at = Number(batch.header.baseOffset) + rec.offsetDelta;
      if (at >= offset) values.push(rec.value?.toString() ?? "");
    }
  return values;
}

/** Counts complete response frames in a byte stream (responses are size-prefixed like requests). */
class ResponseCounter {
  #pending = 0; // bytes still to skip of the current frame
  #prefix: number[] = [];
  count = 0;

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#pending > 0) {
        const take = Math.min(this.#pending, chunk.length - pos);
        this.#pending -= take;
        pos += take;
        if (this.#pending === 0) this.count++;
        continue;
      }
      this.#prefix.push(chunk[pos++] ?? 0);
      if (this.#prefix.length === 4) {
        this.#pending = Buffer.from(this.#prefix).readInt32BE(0);
        this.#prefix = [];
        if (this.#pending <= 0) {
          this.#pending = 0;
          this.count++;
        }
      }
    }
  }
}

interface Budget {
  left: number;
  written: number;
  responses: number;
  connections: number;
  closedByBroker: number;
}

/** One hostile connection at a time: bursts of mutated frames, reconnecting whenever the broker closes it. */
async function fuzzLoop(port: number, frames: Buffer[], random: () => number, budget: Budget): Promise<void> {
  while (budget.left > 0) {
    const socket: Socket = connect({ host: "127.0.0.1", port, noDelay: true });
    budget.connections++;
    const responses = new ResponseCounter();
    socket.on("data", (chunk: Buffer) => responses.push(chunk));
    await new Promise<void>((resolve) => {
      let done = false;
      let wake: (() => void) | undefined;
      const finish = (): void => {
        if (done) return;
        done = true;
        budget.responses += responses.count;
        socket.destroy();
        wake?.();
        resolve();
      };
      socket.once("error", finish);
      socket.once("close", () => {
        budget.closedByBroker++;
        finish();
      });
      socket.once("connect", () => void sendBursts());
      const sendBursts = async (): Promise<void> => {
        // Bursts of 1-4 frames: the broker drops a connection's unsent answers when it closes it.
        for (let burst = 0; burst < 4 && budget.left > 0 && !done; burst++) {
          const n = Math.min(1 + Math.floor(random() * 4), budget.left);
          budget.left -= n;
          const chunk = Buffer.concat(
            Array.from({ length: n }, () =>
              mutate(frames[Math.floor(random() * frames.length)] ?? Buffer.alloc(0), random),
            ),
          );
          const ok = await new Promise<boolean>((res) => socket.write(chunk, (err) => res(err == null)));
          if (!ok) break;
          budget.written += n;
          // Give the broker a moment to answer or to close.
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 3);
          });
        }
        finish();
      };
    });
  }
}

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
}

export async function run(options: FuzzBrokerOptions = {}): Promise<Record<string, number>> {
  const total = options.frames ?? Number(process.env.FERRY_FUZZ_BROKER_FRAMES ?? 1_000_000);
  const parallel = options.connections ?? 16;
  const seed = options.seed ?? Number(process.env.FERRY_FUZZ_SEED ?? 1);
  const frames = await corpus();
  const dataDir = await mkdtemp(join(tmpdir(), "ferry-fuzz-broker-"));
  const broker = await startChildBroker(dataDir);
  const topic = "fuzz-good";
  let good: GoodClient | undefined;
  try {
    const conn = await openConnection({ host: "127.0.0.1", port: broker.port });
    const created = await conn.send(ApiKey.CreateTopics, 7, {
      topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.equal(created.topics[0]?.errorCode, 0);
    good = new GoodClient(conn, topic);
    const goodRun = good.run(broker.port);
    const budget: Budget = { left: total, written: 0, responses: 0, connections: 0, closedByBroker: 0 };
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: parallel }, (_, i) => fuzzLoop(broker.port, frames, rng(seed * 7919 + i), budget)),
    );
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 200));
    good.stop();
    await goodRun;
    // Afterwards: everything the good client produced, exactly, in order.
    const check = await openConnection({ host: "127.0.0.1", port: broker.port });
    const all: string[] = [];
    while (all.length < good.produced) {
      const got = await fetchValues(check, topic, all.length);
      if (got.length === 0) break;
      all.push(...got);
    }
    await check.close();
    const exact = all.length === good.produced && all.every((v, i) => v === `good-${i}`);
    const sorted = [...good.latencies].sort((a, b) => a - b);
    for (const line of broker.errors) console.error(`BROKER ERROR: ${line}`);
    for (const f of good.failures.slice(0, 10)) console.error(`GOOD CLIENT FAILURE: ${f}`);
    return {
      framesWritten: budget.written,
      framesPerSecond: Math.round(budget.written / seconds),
      responsesReceived: budget.responses,
      seconds: Math.round(seconds * 10) / 10,
      corpusFrames: frames.length,
      fuzzConnections: budget.connections,
      connectionsClosedByBroker: budget.closedByBroker,
      brokerAlive: broker.alive() ? 1 : 0,
      brokerErrorLines: broker.errorCount(),
      goodRecordsProduced: good.produced,
      goodRecordsConsumedLive: good.consumed,
      goodFailures: good.failures.length,
      goodLatencyP50Ms: Math.round(percentile(sorted, 0.5) * 10) / 10,
      goodLatencyP99Ms: Math.round(percentile(sorted, 0.99) * 10) / 10,
      goodLatencyMaxMs: Math.round((sorted[sorted.length - 1] ?? 0) * 10) / 10,
      storedDataExact: exact ? 1 : 0,
    };
  } finally {
    await good?.close().catch(() => undefined);
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
