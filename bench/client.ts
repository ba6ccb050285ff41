// Client throughput, Ferry's client against kafkajs on the same Ferry broker (a child process)
// in one run: produce and consume of 1 KiB records in lz4 batches of 100, both clients doing
// the same work (the same records, decoded record by record on the consume side). kafkajs
// gets the project's own lz4 codec, so both sides compress with the same implementation.
// Two data sets: "repetitive" values (a shared random string at shifting offsets, about 25:1
// under lz4, so codec speed dominates) and "unique" values (a per-record random half, about
// 2:1, closer to real payloads, so bytes through the broker matter). The broker's CPU time
// per phase is reported too, to show whether the broker caps both clients. The broker keeps its
// log in FERRY_BENCH_DATA_DIR (default the system's temporary directory).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { join } from "node:path";
import kafkajs from "kafkajs";
import { Admin } from "../src/client/admin.ts";
import { Cluster } from "../src/client/cluster.ts";
import { consumeBatches, fetchRaw } from "../src/client/consumer.ts";
import { Producer } from "../src/client/producer.ts";
import { CompressionCodec, compress, decompress } from "../src/protocol/compression/index.ts";
import { iterateBatches, readBatchHeader } from "../src/protocol/records/batch-header.ts";
import { startBrokerProcess, type BrokerProcess } from "./ferry-processes.ts";

const RECORD_BYTES = 1024;
const BATCH_RECORDS = 100;
const PARTITIONS = 8;
const IN_FLIGHT = 8;
const RECORDS = Number(process.env.FERRY_BENCH_RECORDS ?? 200_000);
/** Side-by-side rounds per data set; ratios are reported per round and as their median. */
const REPS = Number(process.env.FERRY_BENCH_REPS ?? 3);
const FETCH_OPTIONS = { maxBytes: 50 * 1024 * 1024, partitionMaxBytes: 4 * 1024 * 1024 };

const TEXT = Buffer.from('{"event":"order","status":"shipped","region":"eu-west"} '.repeat(20));

/** 1 KiB values: half a shared random hex string at shifting offsets, half repeated text. */
function repetitiveValues(count: number): Buffer[] {
  const hex = Buffer.from(
    Array.from({ length: RECORD_BYTES }, () => Math.floor(Math.random() * 16).toString(16)).join(""),
  );
  return Array.from({ length: count }, (_, i) => {
    const v = Buffer.alloc(RECORD_BYTES);
    hex.copy(v, 0, (i * 37) % (RECORD_BYTES / 2), ((i * 37) % (RECORD_BYTES / 2)) + RECORD_BYTES / 2);
    TEXT.copy(v, RECORD_BYTES / 2, 0, RECORD_BYTES / 2);
    return v;
  });
}

/** 1 KiB values: half random hex of its own, half repeated text. */
function uniqueValues(count: number): Buffer[] {
  const random = randomBytes((count * RECORD_BYTES) / 4);
  return Array.from({ length: count }, (_, i) => {
    const v = Buffer.alloc(RECORD_BYTES);
    v.write(random.toString("hex", (i * RECORD_BYTES) / 4, ((i + 1) * RECORD_BYTES) / 4), 0, "latin1");
    TEXT.copy(v, RECORD_BYTES / 2, 0, RECORD_BYTES / 2);
    return v;
  });
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

/** Consumes with the convenience API: every record decoded, as kafkajs's eachBatch does. */
async function ferryConsume(cluster: Cluster, topic: string, expected: number): Promise<number> {
  let records = 0;
  let bytes = 0;
  const abort = new AbortController();
  const start = performance.now();
  for await (const batch of consumeBatches(cluster, topic, {
    ...FETCH_OPTIONS,
    maxWaitMs: 100,
    signal: abort.signal,
  })) {
    for (const r of batch.records) bytes += r.value?.length ?? 0;
    records += batch.records.length;
    if (records >= expected) break;
  }
  const ms = performance.now() - start;
  if (bytes !== expected * RECORD_BYTES)
    throw new Error(`ferry consumed ${bytes} bytes, expected ${expected * RECORD_BYTES}`);
  return ms;
}

/** Raw fetch: batches as bytes, not decoded (the link's path); an extra line, not a ratio. */
async function ferryFetchRaw(cluster: Cluster, topic: string, expected: number): Promise<number> {
  const offsets = Array.from({ length: PARTITIONS }, () => 0n);
  let records = 0;
  const start = performance.now();
  while (records < expected) {
    const fetched = await fetchRaw(
      cluster,
      offsets.map((offset, partition) => ({ topic, partition, offset })),
      { ...FETCH_OPTIONS, maxWaitMs: 100 },
    );
    for (const f of fetched) {
      if (f.error !== undefined) throw f.error;
      for (const span of iterateBatches(f.records)) {
        if (span.truncated) break;
        const header = readBatchHeader(f.records, span.start);
        records += header.recordCount;
        offsets[f.partition] = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
      }
    }
  }
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

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/**
 * Runs a phase and measures it. Each phase starts from a collected heap and a quiet broker,
 * so no client pays for the garbage of the one before.
 */
async function phase(broker: BrokerProcess, run: () => Promise<number>): Promise<Measure> {
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = await broker.cpuMs();
  const cpu = process.cpuUsage();
  const ms = await run();
  const used = process.cpuUsage(cpu);
  return { ms, clientCpuMs: (used.user + used.system) / 1000, brokerCpuMs: (await broker.cpuMs()) - before };
}

/** Wall time of a phase, and the CPU time the client (this process) and the broker used in it. */
interface Measure {
  ms: number;
  clientCpuMs: number;
  brokerCpuMs: number;
}

interface Round {
  ferryProduce: Measure;
  kafkajsProduce: Measure;
  ferryConsume: Measure;
  kafkajsConsume: Measure;
  fetchRaw: Measure;
}

/** One side-by-side round on fresh topics: each client produces, then both consume Ferry's topic. */
async function round(
  broker: BrokerProcess,
  cluster: Cluster,
  kafka: kafkajs.Kafka,
  name: string,
  values: Buffer[],
): Promise<Round> {
  const ferryTopic = `bench-${name}-ferry`;
  const kafkajsTopic = `bench-${name}-kafkajs`;
  await new Admin(cluster).createTopics(
    [ferryTopic, kafkajsTopic].map((topic) => ({
      name: topic,
      numPartitions: PARTITIONS,
      replicationFactor: 1,
    })),
  );
  const ferryProduce_ = await phase(broker, () => ferryProduce(cluster, ferryTopic, values));
  const kafkajsProduce_ = await phase(broker, () => kafkajsProduce(kafka, kafkajsTopic, values));
  // Both read the same data: the topic Ferry wrote.
  const ferryConsume_ = await phase(broker, () => ferryConsume(cluster, ferryTopic, values.length));
  const kafkajsConsume_ = await phase(broker, () => kafkajsFetch(kafka, ferryTopic, values.length));
  const fetchRaw_ = await phase(broker, () => ferryFetchRaw(cluster, ferryTopic, values.length));
  return {
    ferryProduce: ferryProduce_,
    kafkajsProduce: kafkajsProduce_,
    ferryConsume: ferryConsume_,
    kafkajsConsume: kafkajsConsume_,
    fetchRaw: fetchRaw_,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * REPS rounds of one data set. A ratio is taken within each round (the two clients ran
 * back to back, under the same load), and the median, lowest and highest are reported.
 */
async function compare(
  broker: BrokerProcess,
  cluster: Cluster,
  kafka: kafkajs.Kafka,
  name: string,
  values: Buffer[],
): Promise<Record<string, number>> {
  const rounds: Round[] = [];
  for (let i = 0; i < REPS; i++) rounds.push(await round(broker, cluster, kafka, `${name}-${i}`, values));
  const payload = values.length * RECORD_BYTES;
  const two = (v: number): number => Number(v.toFixed(2));
  const rate = (pick: (r: Round) => number): number => mbps(payload, median(rounds.map(pick)));
  const produceRatios = rounds.map((r) => r.kafkajsProduce.ms / r.ferryProduce.ms);
  const consumeRatios = rounds.map((r) => r.kafkajsConsume.ms / r.ferryConsume.ms);
  // CPU time per byte moved is less sensitive to other load on the machine than wall time.
  const produceCpuRatios = rounds.map((r) => r.kafkajsProduce.clientCpuMs / r.ferryProduce.clientCpuMs);
  const consumeCpuRatios = rounds.map((r) => r.kafkajsConsume.clientCpuMs / r.ferryConsume.clientCpuMs);
  const list = (ratios: number[]): string => ratios.map(two).join(", ");
  console.error(
    `  ${name}: throughput ratios produce ${list(produceRatios)}; consume ${list(consumeRatios)}` +
      ` | client CPU ratios produce ${list(produceCpuRatios)}; consume ${list(consumeCpuRatios)}`,
  );
  return {
    [`${name}.produce.ferry.MBps`]: rate((r) => r.ferryProduce.ms),
    [`${name}.produce.kafkajs.MBps`]: rate((r) => r.kafkajsProduce.ms),
    [`${name}.produce.ratio`]: two(median(produceRatios)),
    [`${name}.produce.ratio.min`]: two(Math.min(...produceRatios)),
    [`${name}.produce.ratio.max`]: two(Math.max(...produceRatios)),
    [`${name}.consume.ferry.MBps`]: rate((r) => r.ferryConsume.ms),
    [`${name}.consume.kafkajs.MBps`]: rate((r) => r.kafkajsConsume.ms),
    [`${name}.consume.ratio`]: two(median(consumeRatios)),
    [`${name}.consume.ratio.min`]: two(Math.min(...consumeRatios)),
    [`${name}.consume.ratio.max`]: two(Math.max(...consumeRatios)),
    [`${name}.fetchRaw.ferry.MBps`]: rate((r) => r.fetchRaw.ms),
    [`${name}.produce.cpuRatio`]: two(median(produceCpuRatios)),
    [`${name}.consume.cpuRatio`]: two(median(consumeCpuRatios)),
    [`${name}.broker.cpu.produce.ferry.ms`]: median(rounds.map((r) => r.ferryProduce.brokerCpuMs)),
    [`${name}.broker.cpu.produce.kafkajs.ms`]: median(rounds.map((r) => r.kafkajsProduce.brokerCpuMs)),
    [`${name}.broker.cpu.consume.ferry.ms`]: median(rounds.map((r) => r.ferryConsume.brokerCpuMs)),
    [`${name}.broker.cpu.consume.kafkajs.ms`]: median(rounds.map((r) => r.kafkajsConsume.brokerCpuMs)),
  };
}

export async function run(): Promise<Record<string, number>> {
  kafkajs.CompressionCodecs[kafkajs.CompressionTypes.LZ4] = () => ({
    compress: (encoder: { buffer: Buffer }) =>
      Promise.resolve(compress(CompressionCodec.LZ4, encoder.buffer)),
    decompress: (data: Buffer) => Promise.resolve(decompress(CompressionCodec.LZ4, data)),
  });
  const dir = await mkdtemp(join(process.env.FERRY_BENCH_DATA_DIR ?? tmpdir(), "ferry-bench-client-"));
  const broker = await startBrokerProcess(dir);
  const bootstrap = broker.bootstrap;
  const cluster = new Cluster({ bootstrap, maxInFlight: IN_FLIGHT });
  const kafka = new kafkajs.Kafka({
    brokers: [bootstrap],
    clientId: "bench",
    logLevel: kafkajs.logLevel.ERROR,
  });
  try {
    return {
      ...(await compare(broker, cluster, kafka, "repetitive", repetitiveValues(RECORDS))),
      ...(await compare(broker, cluster, kafka, "unique", uniqueValues(RECORDS))),
    };
  } finally {
    await cluster.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
