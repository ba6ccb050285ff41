// python3-confluent-kafka (librdkafka) against the Ferry broker: an idempotent producer, a
// two-member consumer group through join and leave, resuming from committed offsets after a
// broker restart, the AdminClient, and reading LZ4 batches Ferry's client compressed. The
// clients run as Debian's python3 scripts in ./python.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { randomBytes } from "node:crypto";
import { Cluster } from "../../src/client/cluster.ts";
import { Producer } from "../../src/client/producer.ts";
import { CompressionCodec } from "../../src/protocol/compression/index.ts";
import { pythonModule, requirePeer, SYSTEM_PYTHON } from "../helpers/peers.ts";
import {
  pythonScript,
  runPython,
  startProgram,
  startTestBroker,
  storedBatchHeaders,
  uniqueName,
  type TestBroker,
} from "./broker-harness.ts";

const confluentKafka = pythonModule("confluent_kafka");

interface Consumed {
  partition: number;
  offset: number;
  value: string;
}

describe("python3-confluent-kafka against the Ferry broker", () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    const problems = broker.loggedProblems();
    await broker.close();
    assert.deepEqual(problems, [], "the broker logged no warnings or errors");
  });

  test("an idempotent producer (acks=all) delivers every record once, in order", async (t) => {
    if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
    const topic = uniqueName("cf-idempotent");
    const count = 2000;
    const r = await runPython<{
      unflushed: number;
      reports: { key: string; offset: number; error: string | null }[];
      consumed: { key: string; value: string; offset: number }[];
      errors: string[];
    }>("confluent_idempotent.py", [broker.bootstrap, topic, String(count)]);
    assert.equal(r.unflushed, 0);
    assert.deepEqual(
      r.reports.filter((d) => d.error !== null),
      [],
    );
    assert.deepEqual(
      r.reports.map((d) => [d.key, d.offset]),
      Array.from({ length: count }, (_, i) => [String(i), i]),
      "delivery reports carry offsets 0..N-1 in send order",
    );
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.consumed,
      Array.from({ length: count }, (_, i) => ({ key: String(i), value: `value-${i}`, offset: i })),
    );
    // The batches on disk carry the producer id the broker handed out and gapless sequences.
    const headers = await storedBatchHeaders(broker.current, topic, 0);
    assert.ok(headers.length > 1, "librdkafka sent several batches");
    const ids = new Set(headers.map((h) => h.producerId));
    assert.equal(ids.size, 1, "one producer id");
    assert.ok(
      [...ids].every((id) => id >= 0n),
      "a real producer id, not -1",
    );
    let expectedSequence = 0;
    for (const h of headers) {
      assert.equal(h.baseSequence, expectedSequence, `batch at offset ${h.baseOffset}`);
      expectedSequence += h.lastOffsetDelta + 1;
    }
  });

  test("a two-member group rebalances when the second member joins and when it leaves, committing every record", async (t) => {
    if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
    const topic = uniqueName("cf-group");
    const group = uniqueName("cf-g");
    const partitions = 4;
    const r = await runPython<{
      error: string | null;
      phases: Record<string, Record<string, number[]>>;
      consumed: { member: string; phase: string; partition: number; offset: number }[];
      committed?: Record<string, number>;
    }>("confluent_group.py", [broker.bootstrap, topic, group, String(partitions)]);
    assert.equal(r.error, null, `client script failed: ${JSON.stringify(r.phases)}`);
    const all = [0, 1, 2, 3];
    assert.deepEqual(r.phases.alone, { A: all });

    const joined = r.phases.joined;
    assert.ok(joined?.A !== undefined && joined.B !== undefined);
    assert.ok(
      joined.A.length > 0 && joined.B.length > 0,
      `both members got partitions: ${JSON.stringify(joined)}`,
    );
    assert.deepEqual([...joined.A, ...joined.B].sort(), all, "the members split the partitions");
    for (const c of r.consumed.filter((c) => c.phase === "joined")) {
      const owner: string = joined.A.includes(c.partition) ? "A" : "B";
      assert.equal(c.member, owner, `partition ${c.partition} was read by its owner`);
    }
    assert.deepEqual(r.phases.left, { A: all }, "the remaining member took every partition back");

    // Every record was read exactly once across members and rebalances.
    const seen = r.consumed.map((c) => `${c.partition}:${c.offset}`).sort();
    const expected = all.flatMap((p) => Array.from({ length: 30 }, (_, o) => `${p}:${o}`)).sort();
    assert.deepEqual(seen, expected);
    assert.deepEqual(r.committed, { 0: 30, 1: 30, 2: 30, 3: 30 });
  });

  test("after a broker restart the group resumes at its committed offsets: nothing re-delivered, nothing skipped", async (t) => {
    if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
    const topic = uniqueName("cf-resume");
    const group = uniqueName("cf-resume-g");
    const produced = await runPython<{ reports: { offset: number; error: string | null }[] }>(
      "confluent_idempotent.py",
      [broker.bootstrap, topic, "100"],
    );
    assert.equal(produced.reports.filter((d) => d.error === null).length, 100);

    const consume = (limit: number): Promise<{ consumed: Consumed[]; error: string | null }> =>
      runPython("confluent_consume.py", [broker.bootstrap, topic, group, String(limit)]);
    const first = await consume(40);
    assert.equal(first.error, null);
    assert.deepEqual(
      first.consumed.map((c) => c.offset),
      Array.from({ length: 40 }, (_, i) => i),
    );

    await broker.restart();

    const second = await consume(1000);
    assert.equal(second.error, null);
    assert.deepEqual(
      second.consumed.map((c) => [c.offset, c.value]),
      Array.from({ length: 60 }, (_, i) => [i + 40, `value-${i + 40}`]),
      "the group starts exactly at its committed offset 40",
    );
    const third = await consume(1000);
    assert.deepEqual(third.consumed, [], "everything is committed");
  });

  test("a consumer stays in its group across a broker restart and goes on from where it was", async (t) => {
    if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
    const topic = uniqueName("cf-live");
    const group = uniqueName("cf-live-g");
    await runPython("confluent_idempotent.py", [broker.bootstrap, topic, "60"]);
    const consumer = startProgram(SYSTEM_PYTHON, [
      pythonScript("confluent_consume.py"),
      broker.bootstrap,
      topic,
      group,
      "1000",
      "25",
    ]);
    t.after(() => consumer.kill());
    await consumer.waitForLine((l) => l.includes('"paused"'), 20_000);
    await broker.restart();
    consumer.write("go\n");
    assert.equal(await consumer.exited, 0, consumer.stderr());
    const r = JSON.parse(consumer.lines.at(-1) ?? "") as { consumed: Consumed[]; error: string | null };
    assert.equal(r.error, null);
    assert.deepEqual(
      r.consumed.map((c) => c.offset),
      Array.from({ length: 60 }, (_, i) => i),
      "every record once, in order, across the restart",
    );
  });

  test("AdminClient creates a topic with configs, lists it and describes its configs", async (t) => {
    if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
    const topic = uniqueName("cf-admin");
    const r = await runPython<{
      create: string | null;
      createAgain: string | null;
      createInvalid: string | null;
      brokers: { id: number; host: string; port: number }[];
      listed: { error: string | null; partitions: number[]; leaders: number[] } | null;
      invalidListed: boolean;
      configs: Record<string, { value: string; isDefault: boolean; readOnly: boolean }>;
    }>("confluent_admin.py", [broker.bootstrap, topic]);
    assert.equal(r.create, null);
    assert.equal(r.createAgain, "TOPIC_ALREADY_EXISTS");
    assert.equal(r.createInvalid, "TOPIC_EXCEPTION", "librdkafka's name for INVALID_TOPIC_EXCEPTION (17)");
    assert.deepEqual(r.brokers, [{ id: 1, host: "127.0.0.1", port: broker.port }]);
    assert.deepEqual(r.listed, { error: null, partitions: [0, 1, 2, 3], leaders: [1] });
    assert.equal(r.invalidListed, false);
    assert.deepEqual(r.configs["retention.ms"], { value: "3600000", isDefault: false, readOnly: false });
    assert.deepEqual(r.configs["cleanup.policy"], { value: "delete", isDefault: false, readOnly: false });
    assert.deepEqual(r.configs["max.message.bytes"], { value: "1048588", isDefault: true, readOnly: false });
  });

  test("librdkafka reads the LZ4 batches Ferry's client compresses: long matches, long literal runs, raw blocks", async (t) => {
    if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
    const topic = uniqueName("cf-lz4");
    await broker.current.context.topics.createTopic(topic, {
      partitions: 1,
      replicationFactor: 1,
      configs: {},
    });
    const hex = (n: number): string => randomBytes(n / 2).toString("hex");
    // Values ASCII, so the script's decode() is exact; batches span several 64 KiB blocks.
    const values = [
      "z".repeat(5000),
      hex(100_000),
      '{"event":"order","status":"shipped"} '.repeat(3000),
      "short",
      hex(64) + "-".repeat(70_000) + hex(64),
      ...Array.from({ length: 300 }, (_, i) => `${hex(400)}|${"text ".repeat(i % 50)}`),
    ];
    const cluster = new Cluster({ bootstrap: broker.bootstrap });
    t.after(() => cluster.close());
    const producer = new Producer(cluster);
    for (let i = 0; i < values.length; i += 100) {
      const records = values.slice(i, i + 100).map((v) => ({ value: Buffer.from(v) }));
      await producer.send(topic, records, { partition: 0, compression: CompressionCodec.LZ4 });
    }
    const headers = await storedBatchHeaders(broker.current, topic, 0);
    assert.ok(headers.every((h) => (h.attributes & 7) === CompressionCodec.LZ4));
    const r = await runPython<{ values: string[]; error: string | null }>("confluent_read_partition.py", [
      broker.bootstrap,
      topic,
    ]);
    assert.equal(r.error, null);
    assert.equal(r.values.length, values.length);
    r.values.forEach((v, i) =>
      assert.ok(v === values[i], `record ${i} (${values[i]?.length} bytes) reads back`),
    );
  });
});

describe("python3-confluent-kafka sees Kafka's produce errors from the Ferry broker", () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ "auto.create.topics.enable": false });
  });
  after(async () => {
    const problems = broker.loggedProblems();
    await broker.close();
    assert.deepEqual(problems, [], "the broker logged no warnings or errors");
  });

  test("a record above max.message.bytes fails with MSG_SIZE_TOO_LARGE; an unknown topic with UNKNOWN_TOPIC_OR_PART", async (t) => {
    if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
    const small = uniqueName("cf-small");
    await broker.current.context.topics.createTopic(small, {
      partitions: 1,
      replicationFactor: 1,
      configs: { "max.message.bytes": "1000" },
    });
    const missing = uniqueName("cf-missing");
    const r = await runPython<Record<string, string | null>>("confluent_errors.py", [
      broker.bootstrap,
      small,
      missing,
      "5000",
    ]);
    assert.deepEqual(r, {
      tooLarge: "MSG_SIZE_TOO_LARGE",
      small: null,
      unknownTopic: "UNKNOWN_TOPIC_OR_PART",
    });
    assert.equal(broker.current.context.topics.topic(missing), undefined, "the topic was not auto-created");
  });
});
