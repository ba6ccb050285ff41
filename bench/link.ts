// Link throughput, CPU and latency, side by side in one run on Ferry brokers (child processes):
// 1 KiB records in lz4 batches of 100 over 8 partitions, copied by
//   - the Ferry link (`ferry link` process) in mirror mode and in translation mode,
//   - a `kcat -C | kcat -P` pipe,
//   - a straightforward kafkajs consume-then-produce loop,
// against the limit: the source's fetch-only throughput (Ferry's client, raw batches).
// Beside them, the storage reference: the same bytes written by a plain loop to a new file in
// the brokers' data directory (FERRY_BENCH_DATA_DIR, default the system's temporary directory),
// which is the least any target broker pays to store them.
// Then replication latency at moderate load (source append time, LogAppendTime, to readable on
// the target) and the cost curve at 1, 100, 1,000 and 10,000 partitions (throughput, peak RSS).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import kafkajs from "kafkajs";
import { Admin } from "../src/client/admin.ts";
import { Cluster } from "../src/client/cluster.ts";
import { fetchRaw } from "../src/client/consumer.ts";
import { listOffsets, OffsetSpec } from "../src/client/offsets.ts";
import { Producer } from "../src/client/producer.ts";
import { CompressionCodec, compress, decompress } from "../src/protocol/compression/index.ts";
import { ErrorCode, KafkaError } from "../src/protocol/error-codes.ts";
import { iterateBatches, readBatchHeader } from "../src/protocol/records/batch-header.ts";
import { startBrokerProcess, startLinkProcess, type BrokerProcess } from "./ferry-processes.ts";

const execFileAsync = promisify(execFile);
const RECORD_BYTES = 1024;
const BATCH_RECORDS = 100;
const PARTITIONS = 8;
const RECORDS = Number(process.env.FERRY_BENCH_RECORDS ?? 500_000);
const CURVE = (process.env.FERRY_BENCH_CURVE ?? "1,100,1000,10000").split(",").map(Number);
const LATENCY_SECONDS = Number(process.env.FERRY_BENCH_LATENCY_S ?? 10);
/** Which comparisons to run besides fetch-only, mirror and translate (all by default). */
const PARTS = new Set((process.env.FERRY_BENCH_PARTS ?? "kcat,kafkajs,latency,curve").split(","));
/** Where the brokers keep their logs: the file system whose write cost the target pays. */
const DATA_DIR = process.env.FERRY_BENCH_DATA_DIR ?? tmpdir();
const TEXT = Buffer.from('{"event":"order","status":"shipped","region":"eu-west"} '.repeat(20));

/** 1 KiB values: half random hex of their own, half repeated text (about 2:1 under lz4). */
function values(count: number): Buffer[] {
  const random = randomBytes((count * RECORD_BYTES) / 4);
  return Array.from({ length: count }, (_, i) => {
    const v = Buffer.alloc(RECORD_BYTES);
    v.write(random.toString("hex", (i * RECORD_BYTES) / 4, ((i + 1) * RECORD_BYTES) / 4), 0, "latin1");
    TEXT.copy(v, RECORD_BYTES / 2, 0, RECORD_BYTES / 2);
    return v;
  });
}

async function pipelined(count: number, limit: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function preload(cluster: Cluster, topic: string, partitions: number, records: number): Promise<void> {
  const vs = values(Math.min(records, 20_000));
  const producer = new Producer(cluster, { acks: -1 });
  const batches = Math.ceil(records / BATCH_RECORDS);
  await pipelined(batches, 8, (b) =>
    producer.send(
      topic,
      Array.from({ length: Math.min(BATCH_RECORDS, records - b * BATCH_RECORDS) }, (_, i) => ({
        value: vs[(b * BATCH_RECORDS + i) % vs.length] as Buffer,
      })),
      { partition: b % partitions, compression: CompressionCodec.LZ4 },
    ),
  );
}

async function ends(cluster: Cluster, topic: string, partitions: number): Promise<bigint[]> {
  const out: bigint[] = [];
  for (let from = 0; from < partitions; from += 1000) {
    const ps = Array.from({ length: Math.min(1000, partitions - from) }, (_, i) => from + i);
    const answers = await listOffsets(
      cluster,
      ps.map((partition) => ({ topic, partition, timestamp: OffsetSpec.LATEST })),
    );
    out.push(...answers.map((a) => a.offset));
  }
  return out;
}

async function waitCaughtUp(
  target: Cluster,
  topic: string,
  want: readonly bigint[],
  timeoutMs = 600_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const have = await ends(target, topic, want.length).catch(() => []);
    if (have.length === want.length && have.every((h, i) => h >= (want[i] as bigint))) return;
    if (Date.now() > deadline) throw new Error(`${topic} did not catch up`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Bytes of record batches in a topic (what a copy moves), read once with raw fetches. */
async function fetchAll(
  broker: BrokerProcess,
  cluster: Cluster,
  topic: string,
  partitions: number,
): Promise<{ bytes: number; ms: number; cpuMs: number; brokerCpuMs: number }> {
  const broker0 = await broker.cpuMs();
  const want = await ends(cluster, topic, partitions);
  const offsets = want.map(() => 0n);
  let bytes = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  while (offsets.some((o, i) => o < (want[i] as bigint))) {
    const targets = offsets.flatMap((offset, partition) =>
      offset < (want[partition] as bigint) ? [{ topic, partition, offset }] : [],
    );
    const answers = await fetchRaw(cluster, targets, {
      maxWaitMs: 0,
      maxBytes: 64 << 20,
      partitionMaxBytes: 8 << 20,
    });
    for (const a of answers) {
      for (const span of iterateBatches(a.records)) {
        if (span.truncated) break;
        const h = readBatchHeader(a.records, span.start);
        bytes += span.end - span.start;
        offsets[a.partition] = h.baseOffset + BigInt(h.lastOffsetDelta) + 1n;
      }
    }
  }
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return {
    bytes,
    ms,
    cpuMs: (used.user + used.system) / 1000,
    brokerCpuMs: (await broker.cpuMs()) - broker0,
  };
}

async function putFilters(url: string, topics: string): Promise<void> {
  const res = await fetch(`${url}/filters`, { method: "PUT", body: JSON.stringify({ topics }) });
  if (!res.ok) throw new Error(`PUT /filters: ${res.status}`);
}

/** A `ferry link` process copying `topic`; timed from the filter change that selects it to caught up. */
async function ferryLink(
  a: BrokerProcess,
  b: BrokerProcess,
  target: Cluster,
  topic: string,
  want: readonly bigint[],
  extra: readonly string[],
  targetTopic = topic,
): Promise<{
  ms: number;
  cpuMs: number;
  peakRss: number;
  sourceCpuMs: number;
  targetCpuMs: number;
  targetFileIoCpuMs: number;
}> {
  const link = await startLinkProcess([
    "--name",
    `bench-${targetTopic}`,
    "--source",
    a.bootstrap,
    "--target",
    b.bootstrap,
    "--topics",
    "nothing-yet",
    ...extra,
  ]);
  try {
    const [cpu0, a0, b0, bt0] = await Promise.all([link.cpuMs(), a.cpuMs(), b.cpuMs(), b.threadCpuMs()]);
    const start = performance.now();
    await putFilters(link.url, topic);
    await waitCaughtUp(target, targetTopic, want);
    const ms = performance.now() - start;
    const [cpu1, a1, b1, bt1] = await Promise.all([link.cpuMs(), a.cpuMs(), b.cpuMs(), b.threadCpuMs()]);
    // Node runs file writes on its libuv threads: their CPU is the target's cost of storing.
    const fileIo = (t: Map<string, number>): number => t.get("libuv-worker") ?? 0;
    return {
      ms,
      cpuMs: cpu1 - cpu0,
      peakRss: await link.peakRssBytes(),
      sourceCpuMs: a1 - a0,
      targetCpuMs: b1 - b0,
      targetFileIoCpuMs: fileIo(bt1) - fileIo(bt0),
    };
  } finally {
    await link.stop();
  }
}

/**
 * The storage reference: `bytes` written to a new file at `path` in 8 MiB writes (a mirror
 * append's size here), timed with the CPU they cost. The file is kept until the run ends: freed
 * at once, its memory would serve the mirror's writes that follow, and on virtual machines that
 * return free memory to their host, recently freed memory is much cheaper to write than new.
 */
async function pageCacheWrite(path: string, bytes: number): Promise<{ ms: number; cpuMs: number }> {
  const chunk = Buffer.alloc(8 << 20, 0x5a);
  const file = await open(path, "w");
  try {
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let at = 0; at < bytes; at += chunk.length) {
      await file.write(chunk, 0, Math.min(chunk.length, bytes - at), at);
    }
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    return { ms, cpuMs: (used.user + used.system) / 1000 };
  } finally {
    await file.close();
  }
}

async function kcatPipe(
  a: BrokerProcess,
  b: BrokerProcess,
  topic: string,
  copy: string,
): Promise<{ ms: number; cpuMs: number }> {
  const script =
    `TIMEFORMAT="%3U %3S"; time (kcat -C -b ${a.bootstrap} -t ${topic} -o beginning -e -q -f '%s\\n' -X fetch.max.bytes=67108864 | ` +
    `kcat -P -b ${b.bootstrap} -t ${copy} -z lz4 -X linger.ms=5 -X batch.num.messages=1000 -X queue.buffering.max.kbytes=1048576)`;
  const start = performance.now();
  const { stderr } = await execFileAsync("bash", ["-c", script], { maxBuffer: 1 << 20 });
  const ms = performance.now() - start;
  const [user, sys] = stderr.trim().split("\n").at(-1)?.split(" ").map(Number) ?? [0, 0];
  return { ms, cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000 };
}

async function kafkajsLoop(
  a: BrokerProcess,
  b: BrokerProcess,
  topic: string,
  copy: string,
  records: number,
): Promise<{ ms: number; cpuMs: number }> {
  const source = new kafkajs.Kafka({
    brokers: [a.bootstrap],
    clientId: "bench-src",
    logLevel: kafkajs.logLevel.ERROR,
  });
  const target = new kafkajs.Kafka({
    brokers: [b.bootstrap],
    clientId: "bench-tgt",
    logLevel: kafkajs.logLevel.ERROR,
  });
  const consumer = source.consumer({
    groupId: `bench-${copy}`,
    maxBytes: 64 << 20,
    maxBytesPerPartition: 8 << 20,
  });
  const producer = target.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });
  let copied = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    consumer.on(consumer.events.CRASH, (e) =>
      reject(new Error(`kafkajs consumer crashed: ${String(e.payload.error)}`)),
    );
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          // In slices: one fetched batch can exceed the target's max.message.bytes.
          for (let i = 0; i < batch.messages.length; i += 500) {
            await producer.send({
              topic: copy,
              compression: kafkajs.CompressionTypes.LZ4,
              messages: batch.messages
                .slice(i, i + 500)
                .map((m) => ({ key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp })),
            });
          }
          copied += batch.messages.length;
          if (copied >= records) resolve();
        },
      })
      .catch(reject);
  });
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  await consumer.disconnect();
  await producer.disconnect();
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

/** p50/p99 from the source's append time (LogAppendTime) to the batch being readable on the target. */
async function latency(
  a: BrokerProcess,
  b: BrokerProcess,
  source: Cluster,
  target: Cluster,
): Promise<{ p50: number; p99: number; n: number; mbps: number }> {
  const topic = "latency";
  await new Admin(source).createTopics([
    { name: topic, numPartitions: PARTITIONS, configs: { "message.timestamp.type": "LogAppendTime" } },
  ]);
  const link = await startLinkProcess([
    "--name",
    "bench-latency",
    "--source",
    a.bootstrap,
    "--target",
    b.bootstrap,
    "--topics",
    topic,
  ]);
  const samples: number[] = [];
  let stop = false;
  const vs = values(10);
  try {
    await waitCaughtUp(
      target,
      topic,
      Array.from({ length: PARTITIONS }, () => 0n),
    );
    const offsets = Array.from({ length: PARTITIONS }, () => 0n);
    const reader = (async () => {
      while (!stop) {
        const answers = await fetchRaw(
          target,
          offsets.map((offset, partition) => ({ topic, partition, offset })),
          { maxWaitMs: 100 },
        );
        const now = Date.now();
        for (const r of answers) {
          for (const span of iterateBatches(r.records)) {
            if (span.truncated) break;
            const h = readBatchHeader(r.records, span.start);
            const next = h.baseOffset + BigInt(h.lastOffsetDelta) + 1n;
            if (next <= (offsets[r.partition] as bigint)) continue;
            offsets[r.partition] = next;
            samples.push(now - h.maxTimestamp);
          }
        }
      }
    })();
    const producer = new Producer(source, { acks: -1 });
    const end = Date.now() + LATENCY_SECONDS * 1000;
    let sent = 0;
    // Moderate load: a 10-record batch (10 KiB) every 5 ms, about 2 MB/s.
    for (let i = 0; Date.now() < end; i++) {
      await producer.send(
        topic,
        vs.map((value) => ({ value })),
        { partition: i % PARTITIONS, compression: CompressionCodec.LZ4 },
      );
      sent += 10 * RECORD_BYTES;
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await reader;
    samples.sort((x, y) => x - y);
    const q = (p: number): number =>
      samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? NaN;
    return { p50: q(0.5), p99: q(0.99), n: samples.length, mbps: sent / 1e6 / LATENCY_SECONDS };
  } finally {
    stop = true;
    await link.stop();
  }
}

async function costCurve(
  a: BrokerProcess,
  b: BrokerProcess,
  source: Cluster,
  target: Cluster,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of CURVE) {
    const topic = `curve-${n}`;
    const records = Math.max(20_000, n * 2);
    const t0 = performance.now();
    // Creating thousands of partitions outlasts a request timeout; the retry then finds the topic.
    await new Admin(source).createTopics([{ name: topic, numPartitions: n }], 600_000).catch((e: unknown) => {
      if (!(e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw e;
    });
    for (;;) {
      await source.refreshMetadata([topic]).catch(() => undefined);
      if (source.cachedMetadata.topics.get(topic)?.errorCode === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await preload(source, topic, n, records);
    const want = await ends(source, topic, n);
    console.error(
      `  curve ${n} partitions: source ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const r = await ferryLink(a, b, target, topic, want, []);
    out[`curve.${n}.MBps`] = round((records * RECORD_BYTES) / 1e6 / (r.ms / 1000));
    out[`curve.${n}.seconds`] = round(r.ms / 1000);
    out[`curve.${n}.peakRssMB`] = round(r.peakRss / 1e6);
    out[`curve.${n}.cpuSeconds`] = round(r.cpuMs / 1000);
  }
  return out;
}

function round(n: number): number {
  return Number(n.toFixed(2));
}

export async function run(): Promise<Record<string, number>> {
  kafkajs.CompressionCodecs[kafkajs.CompressionTypes.LZ4] = () => ({
    compress: (encoder: { buffer: Buffer }) =>
      Promise.resolve(compress(CompressionCodec.LZ4, encoder.buffer)),
    decompress: (data: Buffer) => Promise.resolve(decompress(CompressionCodec.LZ4, data)),
  });
  const dirA = await mkdtemp(join(DATA_DIR, "ferry-bench-link-a-"));
  const dirB = await mkdtemp(join(DATA_DIR, "ferry-bench-link-b-"));
  const a = await startBrokerProcess(dirA);
  const b = await startBrokerProcess(dirB);
  const source = new Cluster({ bootstrap: a.bootstrap });
  const target = new Cluster({ bootstrap: b.bootstrap });
  try {
    const topic = "bench";
    await new Admin(source).createTopics([{ name: topic, numPartitions: PARTITIONS }]);
    await preload(source, topic, PARTITIONS, RECORDS);
    const want = await ends(source, topic, PARTITIONS);
    const fetchOnly = await fetchAll(a, source, topic, PARTITIONS);
    const mb = fetchOnly.bytes / 1e6;
    const uncompressedMb = (RECORDS * RECORD_BYTES) / 1e6;
    console.error(
      `  source: ${RECORDS} records, ${mb.toFixed(1)} MB of lz4 batches (${uncompressedMb.toFixed(1)} MB of values)`,
    );
    const storage = await pageCacheWrite(join(dirB, "page-cache-write"), fetchOnly.bytes);
    const mirror = await ferryLink(a, b, target, topic, want, []);
    const translate = await ferryLink(
      a,
      b,
      target,
      topic,
      want,
      ["--mode", "translate", "--prefix", "t."],
      `t.${topic}`,
    );
    const none = { ms: NaN, cpuMs: NaN };
    const kcat = PARTS.has("kcat") ? await kcatPipe(a, b, topic, "kcat-copy") : none;
    const js = PARTS.has("kafkajs") ? await kafkajsLoop(a, b, topic, "kafkajs-copy", RECORDS) : none;
    const mbps = (ms: number): number => round(mb / (ms / 1000));
    const perCpu = (cpuMs: number): number => round(mb / (cpuMs / 1000));
    const lat = PARTS.has("latency")
      ? await latency(a, b, source, target)
      : { p50: NaN, p99: NaN, n: 0, mbps: 0 };
    const curve = PARTS.has("curve") ? await costCurve(a, b, source, target) : {};
    return {
      "source.MB": round(mb),
      "fetchOnly.MBps": mbps(fetchOnly.ms),
      "fetchOnly.brokerCpuSeconds": round(fetchOnly.brokerCpuMs / 1000),
      "fetchOnly.clientCpuSeconds": round(fetchOnly.cpuMs / 1000),
      "pageCacheWrite.MBps": mbps(storage.ms),
      "pageCacheWrite.cpuSeconds": round(storage.cpuMs / 1000),
      "mirror.MBps": mbps(mirror.ms),
      "mirror.seconds": round(mirror.ms / 1000),
      "mirror.linkCpuSeconds": round(mirror.cpuMs / 1000),
      "mirror.sourceBrokerCpuSeconds": round(mirror.sourceCpuMs / 1000),
      "mirror.targetBrokerCpuSeconds": round(mirror.targetCpuMs / 1000),
      "mirror.targetFileWriteCpuSeconds": round(mirror.targetFileIoCpuMs / 1000),
      "mirror.MBperCpuSecond": perCpu(mirror.cpuMs),
      "mirror.vsFetchOnly": round(fetchOnly.ms / mirror.ms),
      // A copy can go no faster than the source serves the bytes or the target's file system
      // takes them: against the slower of the two.
      "mirror.vsFetchAndStoreLimit": round(Math.max(fetchOnly.ms, storage.ms) / mirror.ms),
      "mirror.vsKcat": round(kcat.ms / mirror.ms),
      "mirror.vsKafkajs": round(js.ms / mirror.ms),
      "mirror.peakRssMB": round(mirror.peakRss / 1e6),
      "translate.MBps": mbps(translate.ms),
      "translate.MBperCpuSecond": perCpu(translate.cpuMs),
      "translate.targetBrokerCpuSeconds": round(translate.targetCpuMs / 1000),
      "kcat.MBps": mbps(kcat.ms),
      "kcat.MBperCpuSecond": perCpu(kcat.cpuMs),
      "kafkajs.MBps": mbps(js.ms),
      "kafkajs.MBperCpuSecond": perCpu(js.cpuMs),
      "latency.p50.ms": lat.p50,
      "latency.p99.ms": lat.p99,
      "latency.samples": lat.n,
      "latency.load.MBps": round(lat.mbps),
      ...curve,
    };
  } finally {
    await source.close();
    await target.close();
    await a.stop();
    await b.stop();
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  }
}
