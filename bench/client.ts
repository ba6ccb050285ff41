// Client throughput, Ferry's client against kafkajs on the same Ferry broker (a child process)
// in one run: produce and fetch of 1 KiB records in lz4 batches of 100. kafkajs gets the
// project's own lz4 codec, so both sides compress with the same implementation.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import kafkajs from "kafkajs";
import { Admin } from "../src/client/admin.ts";
import { Cluster } from "../src/client/cluster.ts";
import { fetchRaw } from "../src/client/consumer.ts";
import { Producer } from "../src/client/producer.ts";
import { CompressionCodec, compress, decompress } from "../src/protocol/compression/index.ts";
import { decodeBatches } from "../src/protocol/records/batch-codec.ts";

const FERRY = new URL("../bin/ferry", import.meta.url).pathname;
const RECORD_BYTES = 1024;
const BATCH_RECORDS = 100;
const PARTITIONS = 8;
const IN_FLIGHT = 8;
const RECORDS = Number(process.env.FERRY_BENCH_RECORDS ?? 300_000);
const FETCH_OPTIONS = { maxBytes: 50 * 1024 * 1024, partitionMaxBytes: 4 * 1024 * 1024 };

/** 1 KiB values, half random hex and half repeated text: compressible, like real payloads. */
function makeValues(count: number): Buffer[] {
  const hex = Buffer.from(
    Array.from({ length: RECORD_BYTES }, () => Math.floor(Math.random() * 16).toString(16)).join(""),
  );
  const text = Buffer.from('{"event":"order","status":"shipped","region":"eu-west"} '.repeat(20));
  return Array.from({ length: count }, (_, i) => {
    const v = Buffer.alloc(RECORD_BYTES);
    hex.copy(v, 0, (i * 37) % (RECORD_BYTES / 2), ((i * 37) % (RECORD_BYTES / 2)) + RECORD_BYTES / 2);
    text.copy(v, RECORD_BYTES / 2, 0, RECORD_BYTES / 2);
    return v;
  });
}

async function startBroker(dir: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(FERRY, ["broker", "--data-dir", dir, "--port", "0", "--log-level", "warn"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      const m = /listening on [^\s]+:(\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", () => reject(new Error("broker exited before listening")));
  });
  return {
    port,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

/** Runs `count` tasks with at most `limit` at once. */
async function pipelined(count: number, limit: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

function mbps(bytes: number, ms: number): number {
  return Number((bytes / 1e6 / (ms / 1000)).toFixed(1));
}

async function ferryProduce(cluster: Cluster, topic: string, values: Buffer[]): Promise<number> {
  const producer = new Producer(cluster, { acks: -1 });
  const start = performance.now();
  await pipelined(values.length / BATCH_RECORDS, IN_FLIGHT, (b) =>
    producer.send(
      topic,
      values.slice(b * BATCH_RECORDS, (b + 1) * BATCH_RECORDS).map((value) => ({ value })),
      { partition: b % PARTITIONS, compression: CompressionCodec.LZ4 },
    ),
  );
  return performance.now() - start;
}

async function ferryFetch(cluster: Cluster, topic: string, expected: number): Promise<number> {
  const offsets = Array.from({ length: PARTITIONS }, () => 0n);
  let records = 0;
  let bytes = 0;
  const start = performance.now();
  while (records < expected) {
    const fetched = await fetchRaw(
      cluster,
      offsets.map((offset, partition) => ({ topic, partition, offset })),
      { ...FETCH_OPTIONS, maxWaitMs: 100 },
    );
    for (const f of fetched) {
      if (f.error !== undefined) throw f.error;
      for (const batch of decodeBatches(f.records)) {
        for (const r of batch.records) bytes += r.value?.length ?? 0;
        records += batch.records.length;
        offsets[f.partition] = batch.header.baseOffset + BigInt(batch.header.lastOffsetDelta) + 1n;
      }
    }
  }
  if (bytes !== expected * RECORD_BYTES)
    throw new Error(`ferry fetched ${bytes} bytes, expected ${expected * RECORD_BYTES}`);
  return performance.now() - start;
}

async function kafkajsProduce(kafka: kafkajs.Kafka, topic: string, values: Buffer[]): Promise<number> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const start = performance.now();
  await pipelined(values.length / BATCH_RECORDS, IN_FLIGHT, (b) =>
    producer.send({
      topic,
      acks: -1,
      compression: kafkajs.CompressionTypes.LZ4,
      messages: values
        .slice(b * BATCH_RECORDS, (b + 1) * BATCH_RECORDS)
        .map((value) => ({ value, partition: b % PARTITIONS })),
    }),
  );
  const ms = performance.now() - start;
  await producer.disconnect();
  return ms;
}

async function kafkajsFetch(kafka: kafkajs.Kafka, topic: string, expected: number): Promise<number> {
  const consumer = kafka.consumer({
    groupId: `bench-${Date.now()}`,
    maxBytes: FETCH_OPTIONS.maxBytes,
    maxBytesPerPartition: FETCH_OPTIONS.partitionMaxBytes,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  // Timed from the group join, so the broker's initial rebalance delay is not counted.
  let start = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    start = performance.now();
  });
  let records = 0;
  let bytes = 0;
  const ms = await new Promise<number>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        partitionsConsumedConcurrently: PARTITIONS,
        eachBatch: ({ batch }) => {
          for (const m of batch.messages) bytes += m.value?.length ?? 0;
          records += batch.messages.length;
          if (records >= expected) resolve(performance.now() - start);
          return Promise.resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  if (bytes !== expected * RECORD_BYTES)
    throw new Error(`kafkajs fetched ${bytes} bytes, expected ${expected * RECORD_BYTES}`);
  return ms;
}

export async function run(): Promise<Record<string, number>> {
  kafkajs.CompressionCodecs[kafkajs.CompressionTypes.LZ4] = () => ({
    compress: (encoder: { buffer: Buffer }) =>
      Promise.resolve(compress(CompressionCodec.LZ4, encoder.buffer)),
    decompress: (data: Buffer) => Promise.resolve(decompress(CompressionCodec.LZ4, data)),
  });
  const dir = await mkdtemp(join(tmpdir(), "ferry-bench-client-"));
  const broker = await startBroker(dir);
  const bootstrap = `127.0.0.1:${broker.port}`;
  const cluster = new Cluster({ bootstrap, maxInFlight: IN_FLIGHT });
  const kafka = new kafkajs.Kafka({
    brokers: [bootstrap],
    clientId: "bench",
    logLevel: kafkajs.logLevel.ERROR,
  });
  const values = makeValues(RECORDS);
  const payload = RECORDS * RECORD_BYTES;
  try {
    await new Admin(cluster).createTopics(
      ["bench-ferry", "bench-kafkajs"].map((name) => ({
        name,
        numPartitions: PARTITIONS,
        replicationFactor: 1,
      })),
    );
    const ferryProduceMs = await ferryProduce(cluster, "bench-ferry", values);
    const kafkajsProduceMs = await kafkajsProduce(kafka, "bench-kafkajs", values);
    // Both read the same data: the topic Ferry wrote.
    const ferryFetchMs = await ferryFetch(cluster, "bench-ferry", RECORDS);
    const kafkajsFetchMs = await kafkajsFetch(kafka, "bench-ferry", RECORDS);
    const out = {
      "produce.ferry.MBps": mbps(payload, ferryProduceMs),
      "produce.kafkajs.MBps": mbps(payload, kafkajsProduceMs),
      "fetch.ferry.MBps": mbps(payload, ferryFetchMs),
      "fetch.kafkajs.MBps": mbps(payload, kafkajsFetchMs),
      "produce.ratio": Number((kafkajsProduceMs / ferryProduceMs).toFixed(2)),
      "fetch.ratio": Number((kafkajsFetchMs / ferryFetchMs).toFixed(2)),
    };
    return out;
  } finally {
    await cluster.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
