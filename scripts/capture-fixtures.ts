// Captures golden Kafka frames for the codec tests: real clients nobody here wrote (kcat,
// confluent-kafka-python, kafka-python, kafkajs) talk to a server nobody here wrote
// (librdkafka's mock cluster) through the recording proxy. Run by hand, not in tests:
//   node scripts/capture-fixtures.ts
// It rewrites test/protocol/fixtures/*.jsonl, kcat-compressed.json and README.md.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Kafka, CompressionTypes, logLevel } from "kafkajs";
import { format, resolveConfig } from "prettier";
import { startMockCluster } from "../test/helpers/mock-cluster.ts";
import type { MockCluster } from "../test/helpers/mock-cluster.ts";
import { SYSTEM_PYTHON } from "../test/helpers/peers.ts";
import { startRecordingProxy } from "../test/helpers/recording-proxy.ts";
import type { RecordedFrame, RecordingProxy } from "../test/helpers/recording-proxy.ts";

const ROOT = resolve(import.meta.dirname, "..");
const FIXTURES = join(ROOT, "test", "protocol", "fixtures");
const TOPIC = "orders";
const PARTITIONS = 4;
const BROKERS = 3;
/** At most this many request/response pairs per (peer, apiKey, apiVersion). */
const MAX_PAIRS_PER_VERSION = 5;
/** Pairs larger than this are kept only when nothing smaller shows that API version. */
const LARGE_PAIR_BYTES = 32 * 1024;
const RUN_TIMEOUT_MS = 60_000;
const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
/** Record batch attributes bits 0-2 for each codec. */
const CODEC_ATTRIBUTE: Record<(typeof CODECS)[number], number> = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
};

const API_NAMES: Record<number, string> = {
  0: "Produce",
  1: "Fetch",
  2: "ListOffsets",
  3: "Metadata",
  8: "OffsetCommit",
  9: "OffsetFetch",
  10: "FindCoordinator",
  11: "JoinGroup",
  12: "Heartbeat",
  13: "LeaveGroup",
  14: "SyncGroup",
  15: "DescribeGroups",
  16: "ListGroups",
  18: "ApiVersions",
  19: "CreateTopics",
  22: "InitProducerId",
  23: "OffsetForLeaderEpoch",
  24: "AddPartitionsToTxn",
  25: "AddOffsetsToTxn",
  26: "EndTxn",
  28: "TxnOffsetCommit",
  32: "DescribeConfigs",
  60: "DescribeCluster",
};

interface TestRecord {
  key: string;
  value: string;
  headers: { key: string; value: string }[];
}

/** One line of a fixture file. */
interface FixtureFrame {
  peer: string;
  server: string;
  direction: "request" | "response";
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  hex: string;
}

/** A fresh mock cluster behind a fresh proxy, for one peer. */
interface Session {
  readonly mock: MockCluster;
  readonly proxy: RecordingProxy;
  /** Everything recorded in this session so far. */
  readonly frames: RecordedFrame[];
}

interface CompressedCapture {
  codec: (typeof CODECS)[number];
  compressionAttribute: number;
  records: TestRecord[];
  produceRequests: FixtureFrame[];
  produceResponses: FixtureFrame[];
}

interface PeerResult {
  peer: string;
  file: string;
  /** The frames kept for the fixture file. */
  frames: FixtureFrame[];
  /** Every frame recorded, kept or not. */
  all: readonly RecordedFrame[];
}

// ---- running things -------------------------------------------------------------------

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; rejects with its stderr on a non-zero exit or timeout. */
function run(command: string, args: readonly string[], input = ""): Promise<RunResult> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      rejectRun(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolveRun({ stdout, stderr });
      else
        rejectRun(new Error(`${command} ${args.join(" ")} exited with ${String(code ?? signal)}\n${stderr}`));
    });
    child.stdin.end(input);
  });
}

async function withSession<T>(
  work: (session: Session) => Promise<T>,
): Promise<{ value: T; frames: RecordedFrame[] }> {
  const mock = await startMockCluster({ brokers: BROKERS, topics: [`${TOPIC}:${PARTITIONS}`] });
  const proxy = await startRecordingProxy({ upstreams: mock.bootstrap });
  const frames: RecordedFrame[] = [];
  try {
    const value = await work({ mock, proxy, frames });
    await settle(proxy, frames);
    if (proxy.errors.length > 0)
      throw new AggregateError(proxy.errors, "the recording proxy failed to rewrite");
    return { value, frames };
  } finally {
    await proxy.close();
    await mock.close();
  }
}

/** Lets in-flight frames land, then moves them into the session's list; returns them. */
async function settle(proxy: RecordingProxy, into: RecordedFrame[]): Promise<RecordedFrame[]> {
  await sleep(200);
  const taken = proxy.takeFrames();
  into.push(...taken);
  return taken;
}

function expectRecords(peer: string, got: readonly TestRecord[], want: readonly TestRecord[]): void {
  const canon = (records: readonly TestRecord[]): string[] => records.map((r) => JSON.stringify(r)).sort();
  const a = canon(got);
  const b = canon(want);
  if (a.length !== b.length || a.some((line, i) => line !== b[i])) {
    throw new Error(
      `${peer} read back different records than it wrote:\n got ${a.join("\n     ")}\nwant ${b.join("\n     ")}`,
    );
  }
}

function recordsFor(peer: string, label: string, count: number, headers: [string, string][]): TestRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${label}-${i}`,
    // Repetitive values so that every codec really shrinks them.
    value: `{"peer":"${peer}","batch":"${label}","n":${i},"note":"${"ferry golden frame ".repeat(i + 2).trim()}"}`,
    headers: headers.map(([key, value]) => ({ key, value })),
  }));
}

// ---- kcat ----------------------------------------------------------------------------

interface KcatMessage {
  key: string | null;
  payload: string | null;
  headers?: string[];
}

function parseKcatJson(stdout: string): TestRecord[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const message = JSON.parse(line) as KcatMessage;
      const flat = message.headers ?? [];
      const headers: { key: string; value: string }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2)
        headers.push({ key: flat[i] ?? "", value: flat[i + 1] ?? "" });
      return { key: message.key ?? "", value: message.payload ?? "", headers };
    });
}

function kcatProduceArgs(
  bootstrap: string,
  records: readonly TestRecord[],
  extra: readonly string[],
): string[] {
  const headers = records[0]?.headers ?? [];
  return [
    "-b",
    bootstrap,
    "-P",
    "-t",
    TOPIC,
    "-K",
    "|",
    ...headers.flatMap((h) => ["-H", `${h.key}=${h.value}`]),
    "-X",
    "linger.ms=100",
    ...extra,
  ];
}

function kcatInput(records: readonly TestRecord[]): string {
  return records.map((r) => `${r.key}|${r.value}\n`).join("");
}

async function captureKcat(server: string): Promise<{ result: PeerResult; compressed: CompressedCapture[] }> {
  const compressed: CompressedCapture[] = [];
  const { frames } = await withSession(async ({ proxy, frames }) => {
    const bootstrap = proxy.bootstrap;
    await run("kcat", ["-b", bootstrap, "-L"]);
    await settle(proxy, frames);

    const written: TestRecord[] = [];
    for (const codec of CODECS) {
      const records = recordsFor("kcat", codec, 6, [
        ["source", "kcat"],
        ["codec", codec],
      ]);
      await run("kcat", kcatProduceArgs(bootstrap, records, ["-z", codec]), kcatInput(records));
      const taken = await settle(proxy, frames);
      const produce = taken.filter((f) => f.apiKey === 0);
      compressed.push({
        codec,
        compressionAttribute: CODEC_ATTRIBUTE[codec],
        records,
        produceRequests: produce
          .filter((f) => f.direction === "request")
          .map((f) => toFixture("kcat", server, f)),
        produceResponses: produce
          .filter((f) => f.direction === "response")
          .map((f) => toFixture("kcat", server, f)),
      });
      written.push(...records);
    }

    const idempotent = recordsFor("kcat", "idempotent", 4, [["source", "kcat"]]);
    await run(
      "kcat",
      kcatProduceArgs(bootstrap, idempotent, ["-X", "enable.idempotence=true"]),
      kcatInput(idempotent),
    );
    const transactional = recordsFor("kcat", "txn", 3, [["source", "kcat"]]);
    await run(
      "kcat",
      kcatProduceArgs(bootstrap, transactional, ["-X", "transactional.id=ferry-capture-kcat"]),
      kcatInput(transactional),
    );
    written.push(...idempotent, ...transactional);

    const consumed = await run("kcat", ["-b", bootstrap, "-C", "-t", TOPIC, "-o", "beginning", "-e", "-J"]);
    expectRecords("kcat", parseKcatJson(consumed.stdout), written);
    const grouped = await run("kcat", [
      "-b",
      bootstrap,
      "-G",
      "ferry-capture-kcat",
      "-X",
      "auto.offset.reset=earliest",
      "-e",
      "-J",
      TOPIC,
    ]);
    expectRecords("kcat group", parseKcatJson(grouped.stdout), written);
    await run("kcat", ["-b", bootstrap, "-Q", "-t", `${TOPIC}:0:-1`, "-t", `${TOPIC}:1:-2`]);
  });
  return { result: selectFrames("kcat", server, frames), compressed };
}

// ---- Python clients ------------------------------------------------------------------

/** confluent-kafka-python: producer, consumer in a group with a synchronous commit, admin. */
const CONFLUENT_SCRIPT = `
import json, sys
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

bootstrap, topic = sys.argv[1], sys.argv[2]
records = json.loads(sys.stdin.read())

metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=20)
assert len(metadata.brokers) == ${BROKERS}, metadata.brokers

producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50, "compression.type": "zstd"})
for r in records:
    producer.produce(topic, key=r["key"], value=r["value"],
                     headers=[(h["key"], h["value"].encode()) for h in r["headers"]])
assert producer.flush(20) == 0

consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "ferry-capture-confluent",
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})
consumer.subscribe([topic])
seen = []
while len(seen) < len(records):
    m = consumer.poll(20)
    assert m is not None, "timed out after %d records" % len(seen)
    if m.error():
        continue
    seen.append({"key": m.key().decode(), "value": m.value().decode(),
                 "headers": [{"key": k, "value": v.decode()} for k, v in (m.headers() or [])]})
consumer.commit(asynchronous=False)
committed = consumer.committed([TopicPartition(topic, p) for p in range(${PARTITIONS})], timeout=20)
assert sum(tp.offset for tp in committed if tp.offset >= 0) == len(records), committed
consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=20)
consumer.close()
print(json.dumps(seen))
`;

/** kafka-python: producer with headers, consumer in a group with a commit. */
const KAFKA_PYTHON_SCRIPT = `
import json, sys
from kafka import KafkaConsumer, KafkaProducer

bootstrap, topic = sys.argv[1], sys.argv[2]
records = json.loads(sys.stdin.read())
servers = bootstrap.split(",")

producer = KafkaProducer(bootstrap_servers=servers, linger_ms=50, compression_type="gzip")
for r in records:
    producer.send(topic, key=r["key"].encode(), value=r["value"].encode(),
                  headers=[(h["key"], h["value"].encode()) for h in r["headers"]])
producer.flush(20)
producer.close()

consumer = KafkaConsumer(topic, bootstrap_servers=servers, group_id="ferry-capture-kafka-python",
                         auto_offset_reset="earliest", enable_auto_commit=False,
                         consumer_timeout_ms=20000)
seen = []
for m in consumer:
    seen.append({"key": m.key.decode(), "value": m.value.decode(),
                 "headers": [{"key": k, "value": v.decode()} for k, v in m.headers]})
    if len(seen) == len(records):
        break
consumer.commit()
consumer.close()
print(json.dumps(seen))
`;

async function capturePython(peer: string, script: string, server: string): Promise<PeerResult> {
  const { frames } = await withSession(async ({ proxy }) => {
    const records = recordsFor(peer, "python", 6, [
      ["source", peer],
      ["lang", "python"],
    ]);
    const { stdout } = await run(
      SYSTEM_PYTHON,
      ["-c", script, proxy.bootstrap, TOPIC],
      JSON.stringify(records),
    );
    const lines = stdout.trim().split("\n");
    expectRecords(peer, JSON.parse(lines[lines.length - 1] ?? "[]") as TestRecord[], records);
  });
  return selectFrames(peer, server, frames);
}

// ---- kafkajs -------------------------------------------------------------------------

async function captureKafkajs(server: string): Promise<PeerResult> {
  const { frames } = await withSession(async ({ proxy }) => {
    const kafka = new Kafka({
      clientId: "ferry-capture",
      brokers: proxy.bootstrap.split(","),
      logLevel: logLevel.NOTHING,
      retry: { retries: 3 },
    });
    const plain = recordsFor("kafkajs", "plain", 4, [["source", "kafkajs"]]);
    const gzipped = recordsFor("kafkajs", "gzip", 4, [
      ["source", "kafkajs"],
      ["codec", "gzip"],
    ]);
    const toMessage = (r: TestRecord): { key: string; value: string; headers: Record<string, string> } => ({
      key: r.key,
      value: r.value,
      headers: Object.fromEntries(r.headers.map((h) => [h.key, h.value])),
    });

    const admin = kafka.admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [TOPIC] });

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: TOPIC, acks: -1, messages: plain.map(toMessage) });
    await producer.send({
      topic: TOPIC,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: gzipped.map(toMessage),
    });
    await producer.disconnect();

    const groupId = "ferry-capture-kafkajs";
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
    const want = plain.length + gzipped.length;
    const seen: TestRecord[] = [];
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`kafkajs consumed ${seen.length} of ${want} records`)),
        30_000,
      );
      consumer
        .run({
          autoCommit: true,
          eachMessage: ({ message }) => {
            seen.push({
              key: message.key?.toString() ?? "",
              value: message.value?.toString() ?? "",
              headers: Object.entries(message.headers ?? {}).map(([key, value]) => ({
                key,
                value: Buffer.isBuffer(value) ? value.toString() : String(value),
              })),
            });
            if (seen.length === want) {
              clearTimeout(timer);
              done();
            }
            return Promise.resolve();
          },
        })
        .catch(fail);
    });
    await consumer.stop();
    await consumer.disconnect();
    expectRecords("kafkajs", seen, [...plain, ...gzipped]);

    const offsets = await admin.fetchOffsets({ groupId, topics: [TOPIC] });
    const committed = offsets
      .flatMap((t) => t.partitions)
      .reduce((sum, p) => sum + Math.max(Number(p.offset), 0), 0);
    if (committed !== want) throw new Error(`kafkajs committed ${committed} offsets, expected ${want}`);
    await admin.fetchTopicOffsets(TOPIC);
    await admin.disconnect();
  });
  return selectFrames("kafkajs", server, frames);
}

// ---- the mock's own ApiVersions answers ----------------------------------------------

/** An ApiVersions request as a client would write it: header v1 (v0-v2) or v2 (v3+). */
function apiVersionsRequest(version: number, correlationId: number): Buffer {
  const clientId = Buffer.from("ferry-capture");
  const header = Buffer.alloc(10);
  header.writeInt16BE(18, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  const parts = [header, clientId];
  if (version >= 3) {
    const name = Buffer.from("ferry-capture");
    const softwareVersion = Buffer.from("0.1.0");
    parts.push(
      Buffer.from([0]), // header tagged fields
      Buffer.from([name.length + 1]),
      name,
      Buffer.from([softwareVersion.length + 1]),
      softwareVersion,
      Buffer.from([0]), // body tagged fields
    );
  }
  const payload = Buffer.concat(parts);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

/** Sends one frame on a new connection and waits for one response frame. */
function exchange(port: number, request: Buffer): Promise<void> {
  return new Promise((done, fail) => {
    const socket = connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    socket.once("error", fail);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        socket.end();
        done();
      }
    });
    socket.write(request);
  });
}

async function captureMockApiVersions(server: string): Promise<PeerResult> {
  const peer = "capture-script";
  const { frames } = await withSession(async ({ proxy }) => {
    const port = Number(proxy.bootstrap.split(",")[0]?.split(":")[1]);
    for (let version = 0; version <= 3; version++)
      await exchange(port, apiVersionsRequest(version, 100 + version));
  });
  return selectFrames(peer, server, frames, "mock-api-versions.jsonl");
}

// ---- choosing and writing frames ------------------------------------------------------

function toFixture(peer: string, server: string, frame: RecordedFrame): FixtureFrame {
  return {
    peer,
    server,
    direction: frame.direction,
    apiKey: frame.apiKey,
    apiVersion: frame.apiVersion,
    correlationId: frame.correlationId,
    hex: frame.payload.toString("hex"),
  };
}

/** The payload with its correlation id zeroed, so repeats of one message compare equal. */
function shape(frame: RecordedFrame | undefined): string {
  if (frame === undefined) return "";
  const copy = Buffer.from(frame.payload);
  copy.writeInt32BE(0, frame.direction === "request" ? 4 : 0);
  return copy.toString("hex");
}

interface Pair {
  index: number;
  request: RecordedFrame;
  response: RecordedFrame | undefined;
}

/**
 * Keeps a modest, varied sample: identical exchanges once, then per API version first the
 * pairs with distinct requests, then those with distinct responses, small ones first.
 */
function selectFrames(
  peer: string,
  server: string,
  frames: readonly RecordedFrame[],
  file = `${peer}.jsonl`,
): PeerResult {
  const responses = new Map<string, RecordedFrame>();
  for (const f of frames)
    if (f.direction === "response") responses.set(`${f.connection}/${f.correlationId}`, f);
  const pairs: Pair[] = frames
    .filter((f) => f.direction === "request")
    .map((request, index) => ({
      index,
      request,
      response: responses.get(`${request.connection}/${request.correlationId}`),
    }));

  const groups = new Map<string, Pair[]>();
  const seen = new Set<string>();
  for (const pair of pairs) {
    const whole = `${shape(pair.request)}|${shape(pair.response)}`;
    if (seen.has(whole)) continue;
    seen.add(whole);
    const key = `${pair.request.apiKey}/${pair.request.apiVersion}`;
    groups.set(key, [...(groups.get(key) ?? []), pair]);
  }

  const chosen: Pair[] = [];
  for (const group of groups.values()) {
    const size = (p: Pair): number => p.request.payload.length + (p.response?.payload.length ?? 0);
    const small = group.filter((p) => size(p) <= LARGE_PAIR_BYTES);
    const candidates = small.length > 0 ? small : group.slice(0, 1);
    const picked: Pair[] = [];
    const requestShapes = new Set<string>();
    const responseShapes = new Set<string>();
    for (const pass of ["request", "response", "any"] as const) {
      for (const pair of candidates) {
        if (picked.length >= MAX_PAIRS_PER_VERSION) break;
        if (picked.includes(pair)) continue;
        const requestShape = shape(pair.request);
        const responseShape = shape(pair.response);
        if (pass === "request" && requestShapes.has(requestShape)) continue;
        if (pass === "response" && responseShapes.has(responseShape)) continue;
        picked.push(pair);
        requestShapes.add(requestShape);
        responseShapes.add(responseShape);
      }
    }
    chosen.push(...picked);
  }
  chosen.sort((a, b) => a.index - b.index);

  const out: FixtureFrame[] = [];
  for (const pair of chosen) {
    out.push(toFixture(peer, server, pair.request));
    if (pair.response) out.push(toFixture(peer, server, pair.response));
  }
  return { peer, file, frames: out, all: frames };
}

async function writeJsonl(file: string, frames: readonly FixtureFrame[]): Promise<void> {
  await writeFile(join(FIXTURES, file), frames.map((f) => JSON.stringify(f)).join("\n") + "\n");
}

/** Writes a file the way the repo's prettier would, so a capture leaves `npm test` green. */
async function writeFormatted(file: string, text: string): Promise<void> {
  const path = join(FIXTURES, file);
  const options = (await resolveConfig(path)) ?? {};
  await writeFile(path, await format(text, { ...options, filepath: path }));
}

// ---- what the frames say (checked with Ferry's own codec, when it loads) --------------

interface Observation {
  decoded: number;
  notes: string[];
}

/** Lists non-zero error codes in every recorded response, and frames Ferry's codec cannot read yet. */
async function observe(results: readonly PeerResult[]): Promise<Observation> {
  // Loaded lazily so that a codec mid-rewrite cannot stop a capture.
  const codec = await import("../src/protocol/messages.ts").catch((error: unknown) =>
    error instanceof Error ? error : new Error(String(error)),
  );
  if (codec instanceof Error) {
    return { decoded: 0, notes: [`Ferry's codec did not load, frames not checked: ${codec.message}`] };
  }
  const notes = new Map<string, number>();
  const note = (text: string): void => void notes.set(text, (notes.get(text) ?? 0) + 1);
  let decoded = 0;
  for (const result of results) {
    for (const frame of result.all) {
      const what = `${result.peer}: ${apiName(frame.apiKey)} v${frame.apiVersion} ${frame.direction}`;
      try {
        if (frame.direction === "request") {
          codec.decodeRequest(frame.payload);
        } else {
          const response = codec.decodeResponse(frame.payload, frame.apiKey, frame.apiVersion);
          const errors = errorCodes(response.body, "");
          if (response.version !== frame.apiVersion) errors.push(`answered in v${response.version}`);
          if (errors.length > 0) note(`${what} carries ${[...new Set(errors)].join(", ")}`);
        }
        decoded++;
      } catch (error) {
        note(
          `${what} did not decode with Ferry's codec: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
  return {
    decoded,
    notes: [...notes].map(([text, count]) => (count > 1 ? `${text} (${count} frames)` : text)),
  };
}

function errorCodes(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item: unknown) => errorCodes(item, `${path}[]`));
  if (value === null || typeof value !== "object" || Buffer.isBuffer(value)) return [];
  const found: string[] = [];
  for (const [key, field] of Object.entries(value)) {
    if (key === "errorCode" && typeof field === "number" && field !== 0)
      found.push(`${path}.errorCode=${field}`);
    else found.push(...errorCodes(field, `${path}.${key}`));
  }
  return found;
}

function apiName(apiKey: number): string {
  return API_NAMES[apiKey] ?? `ApiKey${apiKey}`;
}

// ---- versions and README --------------------------------------------------------------

function commandOutput(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8" });
  return `${result.stdout}${result.stderr}`.trim();
}

function toolVersions(librdkafka: string): Record<string, string> {
  const kcatVersion = /Version (\S+)/.exec(commandOutput("kcat", ["-V"]))?.[1] ?? "unknown";
  const python = commandOutput(SYSTEM_PYTHON, [
    "-c",
    "import sys, confluent_kafka, kafka; print(sys.version.split()[0], confluent_kafka.version()[0], confluent_kafka.libversion()[0], kafka.__version__)",
  ]).split(/\s+/);
  const kafkajs = (
    JSON.parse(readFileSync(join(ROOT, "node_modules", "kafkajs", "package.json"), "utf8")) as {
      version: string;
    }
  ).version;
  const debian = (name: string): string =>
    commandOutput("dpkg-query", ["-W", "-f=${Version}", name]) || "not a Debian package";
  return {
    "librdkafka (mock cluster server)": `${librdkafka} (Debian librdkafka-dev ${debian("librdkafka-dev")})`,
    kcat: `${kcatVersion} (Debian kcat ${debian("kcat")})`,
    "confluent-kafka-python": `${python[1] ?? "?"} on librdkafka ${python[2] ?? "?"} (Debian python3-confluent-kafka ${debian("python3-confluent-kafka")})`,
    "kafka-python": `${python[3] ?? "?"} (Debian python3-kafka ${debian("python3-kafka")})`,
    python: `${python[0] ?? "?"} (${SYSTEM_PYTHON})`,
    kafkajs: `${kafkajs} (npm)`,
    node: process.versions.node,
  };
}

function frameTable(results: readonly PeerResult[]): string {
  const rows: string[] = [
    "| file | API | versions | requests | responses |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const result of results) {
    const byKey = new Map<number, { versions: Set<number>; requests: number; responses: number }>();
    for (const f of result.frames) {
      const entry = byKey.get(f.apiKey) ?? { versions: new Set<number>(), requests: 0, responses: 0 };
      entry.versions.add(f.apiVersion);
      if (f.direction === "request") entry.requests++;
      else entry.responses++;
      byKey.set(f.apiKey, entry);
    }
    for (const [apiKey, entry] of [...byKey].sort((a, b) => a[0] - b[0])) {
      const versions = [...entry.versions].sort((a, b) => a - b).join(", ");
      rows.push(
        `| ${result.file} | ${apiKey} ${apiName(apiKey)} | ${versions} | ${entry.requests} | ${entry.responses} |`,
      );
    }
  }
  return rows.join("\n");
}

function readme(
  server: string,
  versions: Record<string, string>,
  results: readonly PeerResult[],
  seen: Observation,
): string {
  const versionLines = Object.entries(versions).map(([tool, version]) => `| ${tool} | ${version} |`);
  const notes = seen.notes.length > 0 ? seen.notes.map((note) => `- ${note}`) : ["- none"];
  return `# Golden frames

Kafka request and response frames exactly as real peers wrote them: requests from clients
nobody here wrote, responses from a server nobody here wrote (librdkafka's mock cluster,
\`${server}\`). The codec tests decode them, and re-encode them byte for byte.

Generated by \`node scripts/capture-fixtures.ts\`; do not edit by hand.

## Files

- \`<peer>.jsonl\`: one frame per line, \`{"peer", "server", "direction", "apiKey",
  "apiVersion", "correlationId", "hex"}\`. \`hex\` is the payload without the 4-byte size
  prefix. Each kept request is followed by its response (unless it had none, e.g. acks=0).
  Responses still advertise the mock's own broker addresses (127.0.0.1 and its ports):
  the proxy records them before rewriting.
- \`kcat-compressed.json\`: for each codec (\`none\`, \`gzip\`, \`snappy\`, \`lz4\`, \`zstd\`) the
  records kcat was given (key, value, headers; topic \`${TOPIC}\`, partition chosen by kcat's
  key hash) and the Produce request/response frames of that kcat run, which carry exactly
  those records. A test can decode the record batches in \`produceRequests\` and compare.
- \`mock-api-versions.jsonl\`: the mock's answers to ApiVersions v0-v3 requests written by
  the capture script (peer \`capture-script\`). The 2.0.2 mock implements ApiVersions up to
  v2 only, and its UNSUPPORTED_VERSION answer to v3 is malformed: after the error code it
  writes a one-byte count 0x01 (a compact "empty array"), then one entry (ApiVersions
  0-2), a tag-buffer byte and a throttle time. That is neither the v0 layout KIP-511 asks
  for (int32 count) nor valid v3; librdkafka clients give up on it and retry at v0, which
  the kcat and confluent-kafka-python files show.

## How they were captured

For each peer the script starts a fresh librdkafka mock cluster (${BROKERS} brokers, topic
\`${TOPIC}\` with ${PARTITIONS} partitions, test/helpers/mock-cluster.c) behind the recording proxy
(test/helpers/recording-proxy.ts: one 127.0.0.1 listener per broker, broker addresses in
Metadata and FindCoordinator responses rewritten to the proxy's). Every peer writes known
records and reads them back, and the script checks it got them all:

- **kcat**: \`-L\`; \`-P\` with \`-K '|'\` and \`-H\` headers once per \`-z\` codec; an idempotent
  and a transactional producer run; \`-C -o beginning -e\`; a group consumer \`-G\`; \`-Q\`
  offsets by time.
- **confluent-kafka-python**: AdminClient.list_topics, a zstd Producer with headers, a
  Consumer in a group with a synchronous commit, committed(), get_watermark_offsets().
- **kafka-python**: a gzip KafkaProducer with headers, a KafkaConsumer in a group with a commit.
- **kafkajs**: admin fetchTopicMetadata, producer (plain and gzip, headers), consumer group
  (autoCommit), admin fetchOffsets and fetchTopicOffsets.

@platformatic/kafka needs ApiVersions v3+, which the 2.0.2 mock lacks, so it is not here.

Identical exchanges (ignoring correlation ids) are kept once, and at most
${MAX_PAIRS_PER_VERSION} request/response pairs per peer, API key and version: first those with
distinct requests, then with distinct responses.

## Versions

| tool | version |
| --- | --- |
${versionLines.join("\n")}

## Re-capturing

Needs Debian's \`kcat python3-confluent-kafka python3-kafka librdkafka-dev gcc\` and
\`npm ci\`; then from the project root:

    node scripts/capture-fixtures.ts

Ports, timestamps, member ids and producer ids differ on every capture.

## Frames

${frameTable(results)}

## Noted at capture time

Every recorded frame (kept or not), decoded with Ferry's own codec (${seen.decoded} decoded):
responses carrying non-zero error codes, and frames the codec could not read.

${notes.join("\n")}
`;
}

// ---- main ------------------------------------------------------------------------------

async function main(): Promise<void> {
  await mkdir(FIXTURES, { recursive: true });
  const probe = await startMockCluster({ brokers: 1 });
  const librdkafka = await probe.version();
  await probe.close();
  const server = `librdkafka-mock-${librdkafka}`;

  const results: PeerResult[] = [];
  const step = async (name: string, capture: () => Promise<PeerResult>): Promise<void> => {
    process.stdout.write(`capturing ${name} ... `);
    const result = await capture();
    process.stdout.write(`${result.all.length} frames recorded, ${result.frames.length} kept\n`);
    results.push(result);
  };

  let compressed: CompressedCapture[] = [];
  await step("kcat", async () => {
    const kcat = await captureKcat(server);
    compressed = kcat.compressed;
    return kcat.result;
  });
  await step("confluent-kafka-python", () =>
    capturePython("confluent-kafka-python", CONFLUENT_SCRIPT, server),
  );
  await step("kafka-python", () => capturePython("kafka-python", KAFKA_PYTHON_SCRIPT, server));
  await step("kafkajs", () => captureKafkajs(server));
  await step("the mock's ApiVersions", () => captureMockApiVersions(server));

  for (const result of results) await writeJsonl(result.file, result.frames);
  await writeFormatted(
    "kcat-compressed.json",
    JSON.stringify({ peer: "kcat", server, topic: TOPIC, codecs: compressed }),
  );
  const seen = await observe(results);
  await writeFormatted("README.md", readme(server, toolVersions(librdkafka), results, seen));

  process.stdout.write(
    `\n${frameTable(results)}\n\nnoted:\n${seen.notes.map((n) => `  ${n}`).join("\n") || "  none"}\n`,
  );
}

await main();
