// Log cleaner: throughput (MB/s of log cleaned: bytes of the segments rewritten per second
// of cleaning, key map included) and its effect on produce latency. A broker runs in this
// process; a compacted topic is filled with many updates per key (uncompressed, then lz4);
// one producer sends acks=1 Produce requests back to back over TCP to another topic, and its
// latency is measured idle and while the cleaner runs, side by side. MB = 10^6 bytes.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, type RunningBroker } from "../src/broker/broker.ts";
import { LogCleaner } from "../src/broker/log/cleaner.ts";
import type { CleanResult } from "../src/broker/log/cleaner-pass.ts";
import { openConnection, type Connection } from "../src/net/connection.ts";
import { CompressionCodec } from "../src/protocol/compression/index.ts";
import { ApiKey } from "../src/protocol/generated/index.ts";
import { encodeBatch } from "../src/protocol/records/batch-codec.ts";
import { silentLogger } from "../src/util/logger.ts";

const MB = 1e6;
const LOG_MB = 48;
const KEYS = 20_000;
const VALUE_BYTES = 300;
const RECORDS_PER_BATCH = 50;
const IDLE_MS = 3000;

/** Fills the topic's partition with LOG_MB of updates to KEYS keys. */
async function fill(broker: RunningBroker, topic: string, codec: number): Promise<void> {
  const log = broker.context.topics.partition(topic, 0)?.log;
  if (log === undefined) throw new Error(`no ${topic}-0`);
  let i = 0;
  while (log.sizeInBytes < LOG_MB * MB) {
    const records = Array.from({ length: RECORDS_PER_BATCH }, () => {
      const n = i++;
      // Hex text: compresses about 2:1, like typical JSON-ish payloads.
      return {
        key: Buffer.from(`key-${(n * 7919) % KEYS}`),
        value: Buffer.from(randomBytes(VALUE_BYTES / 2).toString("hex")),
      };
    });
    await log.append(encodeBatch({ records, compression: codec }));
  }
  await log.flush();
}

/** Sends 1-record Produce requests back to back until stop() says so; returns each request's latency in ms. */
async function produceLoop(conn: Connection, topic: string, stop: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  const value = Buffer.alloc(200, 120);
  let n = 0;
  while (!stop()) {
    const batch = encodeBatch({ records: [{ key: Buffer.from(`p-${n++ % 100}`), value }] });
    const t0 = performance.now();
    const r = await conn.send(ApiKey.Produce, 9, {
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
    });
    latencies.push(performance.now() - t0);
    if (r.responses[0]?.partitionResponses[0]?.errorCode !== 0) throw new Error("produce failed");
  }
  return latencies;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function latencyMetrics(prefix: string, latencies: number[], metrics: Record<string, number>): void {
  const sorted = latencies.slice().sort((a, b) => a - b);
  metrics[`${prefix} produce p50 ms`] = percentile(sorted, 50);
  metrics[`${prefix} produce p99 ms`] = percentile(sorted, 99);
  metrics[`${prefix} produce max ms`] = sorted[sorted.length - 1] ?? NaN;
  metrics[`${prefix} produce requests`] = sorted.length;
}

async function scenario(name: string, codec: number, metrics: Record<string, number>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "ferry-bench-cleaner-"));
  const broker = await startBroker({
    dataDir,
    port: 0,
    logger: silentLogger,
    // The benchmark drives its own cleaner so that it knows when cleaning starts and ends.
    settings: { "log.cleaner.enable": false },
  });
  try {
    const topics = broker.context.topics;
    await topics.createTopic("compacted", {
      partitions: 1,
      replicationFactor: 1,
      configs: { "cleanup.policy": "compact", "segment.bytes": String(8 * 1024 * 1024) },
    });
    await topics.createTopic("latency", { partitions: 1, replicationFactor: 1, configs: {} });
    await fill(broker, "compacted", codec);
    const log = topics.partition("compacted", 0)?.log;
    if (log === undefined) throw new Error("no compacted-0");
    const sizeBefore = log.sizeInBytes;
    const cleaner = new LogCleaner({
      logs: () => [{ name: "compacted-0", log }],
      settings: {
        dedupeBufferBytes: 128 * 1024 * 1024,
        loadFactor: 0.9,
        backoffMs: 15_000,
        ioMaxBytesPerSecond: Infinity,
      },
    });
    const conn = await openConnection({ host: "127.0.0.1", port: broker.port, clientId: "bench-cleaner" });
    try {
      // Warm up, then idle.
      const warm = performance.now();
      await produceLoop(conn, "latency", () => performance.now() - warm > 500);
      const idleStart = performance.now();
      const idle = await produceLoop(conn, "latency", () => performance.now() - idleStart > IDLE_MS);

      let done = false;
      let result: CleanResult | null = null;
      const cleaning = cleaner.cleanOnce().then((r) => {
        result = r?.result ?? null;
        done = true;
      });
      const during = await produceLoop(conn, "latency", () => done);
      await cleaning;
      const r = result as CleanResult | null;
      if (r === null) throw new Error("the cleaner did not clean");

      latencyMetrics(`${name} idle:`, idle, metrics);
      latencyMetrics(`${name} cleaning:`, during, metrics);
      metrics[`${name} cleaned MB`] = r.bytesRead / MB;
      metrics[`${name} cleaner MB/s`] = r.bytesRead / MB / (r.totalMs / 1000);
      metrics[`${name} key map MB/s`] = r.mapBytesRead / MB / (r.mapMs / 1000);
      metrics[`${name} size after / before`] = log.sizeInBytes / sizeBefore;
      metrics[`${name} swap in-memory max ms`] = r.swapInMemoryMsMax;
      metrics[`${name} swap with renames+fsyncs max ms`] = r.swapTotalMsMax;
      metrics[`${name} cleaning seconds`] = r.totalMs / 1000;
    } finally {
      await conn.close();
      await cleaner.close();
    }
  } finally {
    await broker.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number>> {
  const metrics: Record<string, number> = {};
  await scenario("uncompressed", CompressionCodec.NONE, metrics);
  await scenario("lz4", CompressionCodec.LZ4, metrics);
  return metrics;
}
