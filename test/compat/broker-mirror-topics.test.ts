// Mirror topics seen by real clients: kcat (librdkafka) and kafkajs cannot produce to one,
// kafkajs cannot delete its records, but both read it like any topic; after promotion kcat
// produces to it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import kafkajs from "kafkajs";
import { Admin, ConfigOp, ResourceType } from "../../src/client/admin.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { mirrorAppend } from "../../src/client/mirror-append.ts";
import { encodeBatch } from "../../src/protocol/records/batch-codec.ts";
import { kcat, requirePeer } from "../helpers/peers.ts";
import { runOk, runProgram, startTestBroker, uniqueName, type TestBroker } from "./broker-harness.ts";

const TIMEOUT_MS = 20_000;

describe("mirror topics with real clients", () => {
  let broker: TestBroker;
  let cluster: Cluster;
  before(async () => {
    broker = await startTestBroker();
    cluster = new Cluster({ bootstrap: broker.bootstrap });
  });
  after(async () => {
    await cluster.close();
    await broker.close();
  });

  /** A mirror topic holding `count` records at offsets 0.. (appended as the link would). */
  async function mirrorWith(count: number): Promise<string> {
    const topic = uniqueName("mirror");
    await new Admin(cluster).createTopics([
      { name: topic, numPartitions: 1, configs: { "ferry.mirror.source": "source/orders" } },
    ]);
    const records = encodeBatch({
      baseOffset: 0n,
      timestamp: Date.now(),
      records: Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`m${i}`) })),
    });
    const [r] = await mirrorAppend(cluster, [{ topic, partition: 0, sourceLogStartOffset: 0n, records }]);
    assert.equal(r?.error, undefined);
    return topic;
  }

  test("kcat cannot produce to a mirror topic but reads it; after promotion it produces", async (t) => {
    if (!(await requirePeer(t, "kcat", kcat))) return;
    const topic = await mirrorWith(3);
    const refused = await runProgram(
      "kcat",
      ["-P", "-b", broker.bootstrap, "-t", topic, "-X", "message.send.max.retries=0"],
      { input: "a\nb\n", timeoutMs: TIMEOUT_MS },
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Delivery failed for message: Broker: Invalid request/);
    const read = await runOk(
      "kcat",
      ["-C", "-b", broker.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q"],
      {
        timeoutMs: TIMEOUT_MS,
      },
    );
    assert.deepEqual(read.stdout.trim().split("\n"), ["m0", "m1", "m2"]);

    await new Admin(cluster).incrementalAlterConfigs(ResourceType.TOPIC, topic, [
      { name: "ferry.mirror.source", value: null, op: ConfigOp.DELETE },
    ]);
    await runOk("kcat", ["-P", "-b", broker.bootstrap, "-t", topic], {
      input: "after\n",
      timeoutMs: TIMEOUT_MS,
    });
    const log = broker.current.context.topics.partition(topic, 0)?.log;
    assert.equal(log?.logEndOffset, 4);
  });

  test("kafkajs cannot produce to a mirror topic nor delete its records; it consumes it", async () => {
    const topic = await mirrorWith(5);
    const kafka = new kafkajs.Kafka({
      clientId: "ferry-mirror",
      brokers: [broker.bootstrap],
      logLevel: kafkajs.logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      await assert.rejects(
        () => producer.send({ topic, messages: [{ value: "x" }] }),
        (e: Error & { type?: string }) => e.type === "INVALID_REQUEST" || /invalid/i.test(e.message),
      );
    } finally {
      await producer.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.fetchTopicMetadata({ topics: [topic] });
      await assert.rejects(() =>
        admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "2" }] }),
      );
      const offsets = await admin.fetchTopicOffsets(topic);
      assert.deepEqual(
        offsets.map((o) => [o.low, o.high]),
        [["0", "5"]],
      );
    } finally {
      await admin.disconnect();
    }
    const consumer = kafka.consumer({ groupId: uniqueName("mirror-readers") });
    await consumer.connect();
    try {
      const got: string[] = [];
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: ({ message }) => {
              got.push(String(message.value));
              if (got.length === 5) resolve();
              return Promise.resolve();
            },
          })
          .catch(reject);
      });
      assert.deepEqual(got, ["m0", "m1", "m2", "m3", "m4"]);
    } finally {
      await consumer.disconnect();
    }
  });
});
