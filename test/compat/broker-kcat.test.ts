// kcat (librdkafka) against the Ferry broker, unchanged: metadata, produce with every
// compression codec and read back, a committing consumer group, and offsets for timestamps.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { kcat, requirePeer } from "../helpers/peers.ts";
import { compressionOf } from "../../src/protocol/records/batch-header.ts";
import { runOk, startTestBroker, storedBatchHeaders, uniqueName, type TestBroker } from "./broker-harness.ts";

interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

const TIMEOUT_MS = 20_000;

function parseJsonLines(stdout: string): KcatMessage[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as KcatMessage);
}

describe("kcat against the Ferry broker", () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ "num.partitions": 3 });
  });
  after(async () => {
    const problems = broker.loggedProblems();
    await broker.close();
    assert.deepEqual(problems, [], "the broker logged no warnings or errors");
  });

  /** Produces tab-separated key/value lines with kcat -P. */
  async function produce(topic: string, lines: string[], extra: string[] = []): Promise<void> {
    await runOk("kcat", ["-P", "-b", broker.bootstrap, "-t", topic, "-K", "\t", ...extra], {
      input: lines.map((l) => `${l}\n`).join(""),
      timeoutMs: TIMEOUT_MS,
    });
  }

  async function consumeAll(topic: string): Promise<KcatMessage[]> {
    const r = await runOk(
      "kcat",
      ["-C", "-b", broker.bootstrap, "-t", topic, "-o", "beginning", "-e", "-J", "-q"],
      {
        timeoutMs: TIMEOUT_MS,
      },
    );
    return parseJsonLines(r.stdout);
  }

  test("kcat -L lists the broker and every partition of a topic", async (t) => {
    if (!(await requirePeer(t, "kcat", kcat))) return;
    const topic = uniqueName("kcat-meta");
    await produce(topic, ["a\tb"]);
    const { stdout } = await runOk("kcat", ["-L", "-b", broker.bootstrap, "-m", "10"], {
      timeoutMs: TIMEOUT_MS,
    });
    assert.match(stdout, /^ 1 brokers:$/m);
    assert.match(stdout, new RegExp(`broker 1 at 127\\.0\\.0\\.1:${broker.port}\\b`));
    assert.match(stdout, new RegExp(`topic "${topic}" with 3 partitions:`));
    for (const p of [0, 1, 2])
      assert.match(stdout, new RegExp(`partition ${p}, leader 1, replicas: 1, isrs: 1`));
  });

  const CODEC_IDS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
  for (const [codec, codecId] of Object.entries(CODEC_IDS)) {
    test(`kcat -P -z ${codec} then -C -o beginning -e reads back exactly the keys, values and headers sent`, async (t) => {
      if (!(await requirePeer(t, "kcat", kcat))) return;
      const topic = uniqueName(`kcat-${codec}`);
      // Repetitive values of growing size so that each codec really compresses something.
      const sent = Array.from({ length: 40 }, (_, i) => ({
        key: `key-${i}`,
        value: `value ${i} `.repeat(i * 7 + 1),
      }));
      await produce(
        topic,
        sent.map((m) => `${m.key}\t${m.value}`),
        ["-z", codec, "-X", "linger.ms=100", "-H", "origin=kcat", "-H", `codec=${codec} header`],
      );
      const got = await consumeAll(topic);
      assert.equal(got.length, sent.length);
      for (const m of got) {
        assert.equal(m.topic, topic);
        assert.deepEqual(
          m.headers,
          ["origin", "kcat", "codec", `${codec} header`],
          `headers of ${String(m.key)}`,
        );
      }
      const byKey = new Map(got.map((m) => [m.key, m.payload]));
      for (const s of sent) assert.equal(byKey.get(s.key), s.value, `value of ${s.key}`);
      // kcat produces each key to its hash partition; within a partition order and offsets hold.
      for (const p of [0, 1, 2]) {
        const inPartition = got.filter((m) => m.partition === p);
        assert.deepEqual(
          inPartition.map((m) => m.offset),
          inPartition.map((_, i) => i),
        );
        const keys = inPartition.map((m) => Number(String(m.key).slice(4)));
        assert.deepEqual(
          keys,
          [...keys].sort((a, b) => a - b),
          `partition ${p} keeps the send order`,
        );
      }
      // The broker keeps batches as the producer compressed them. (librdkafka sends a batch
      // uncompressed when compressing does not make it smaller, e.g. one tiny record.)
      const stored: number[] = [];
      for (const p of [0, 1, 2])
        for (const h of await storedBatchHeaders(broker.current, topic, p))
          stored.push(compressionOf(h.attributes));
      assert.ok(stored.includes(codecId), `stored batches carry ${codec}: ${stored.join(",")}`);
      assert.ok(
        stored.every((c) => c === codecId || c === 0),
        `stored codecs: ${stored.join(",")}`,
      );
    });
  }

  test("kcat -G consumes as a group and commits: a second run of the group gets only newer records", async (t) => {
    if (!(await requirePeer(t, "kcat", kcat))) return;
    const topic = uniqueName("kcat-group");
    const group = uniqueName("kcat-g");
    await produce(
      topic,
      Array.from({ length: 30 }, (_, i) => `k${i}\tfirst ${i}`),
    );
    const consumeGroup = async (): Promise<KcatMessage[]> => {
      const r = await runOk(
        "kcat",
        ["-b", broker.bootstrap, "-G", group, "-X", "auto.offset.reset=earliest", "-e", "-J", "-q", topic],
        { timeoutMs: TIMEOUT_MS },
      );
      return parseJsonLines(r.stdout);
    };
    const first = await consumeGroup();
    assert.deepEqual(
      first.map((m) => m.payload).sort(),
      Array.from({ length: 30 }, (_, i) => `first ${i}`).sort(),
    );
    assert.equal(
      new Set(first.map((m) => m.partition)).size,
      3,
      "the member was assigned all three partitions",
    );

    const second = await consumeGroup();
    assert.deepEqual(second, [], "the group's committed offsets are at the end");

    await produce(
      topic,
      Array.from({ length: 5 }, (_, i) => `n${i}\tsecond ${i}`),
    );
    const third = await consumeGroup();
    assert.deepEqual(
      third.map((m) => m.payload).sort(),
      Array.from({ length: 5 }, (_, i) => `second ${i}`),
    );
  });

  test("kcat -Q answers offsets for timestamps: earliest, latest, between two batches, and past the end", async (t) => {
    if (!(await requirePeer(t, "kcat", kcat))) return;
    const topic = uniqueName("kcat-times");
    await produce(
      topic,
      Array.from({ length: 4 }, (_, i) => `a${i}\tbefore`),
      ["-p", "0"],
    );
    await new Promise((r) => setTimeout(r, 20));
    const between = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    await produce(
      topic,
      Array.from({ length: 3 }, (_, i) => `b${i}\tafter`),
      ["-p", "0"],
    );
    const query = async (ts: number): Promise<number> => {
      const { stdout } = await runOk("kcat", ["-Q", "-b", broker.bootstrap, "-t", `${topic}:0:${ts}`], {
        timeoutMs: TIMEOUT_MS,
      });
      const m = new RegExp(`${topic} \\[0\\] offset (-?\\d+)`).exec(stdout);
      assert.ok(m?.[1] !== undefined, `unexpected kcat -Q output: ${stdout}`);
      return Number(m[1]);
    };
    assert.equal(await query(between), 4, "first record at or after the timestamp");
    assert.equal(await query(1), 0, "a timestamp before every record gives the first offset");
    assert.equal(await query(-1), 7, "-1 (latest) gives the end offset");
    assert.equal(await query(-2), 0, "-2 (earliest) gives the log start offset");
    assert.equal(await query(Date.now() + 3_600_000), -1, "a timestamp after every record gives -1");
  });
});
