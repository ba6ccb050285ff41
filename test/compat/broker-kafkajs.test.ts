// kafkajs against the Ferry broker, unchanged: a producer, a consumer group driven by
// consumer.run, and the admin calls people use (topics, partitions, configs, groups, offsets,
// record deletion); plus the protocol errors kafkajs surfaces from the broker.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import kafkajs from "kafkajs";
import type { Admin, Consumer, Kafka, Producer } from "kafkajs";
import { startTestBroker, uniqueName, type TestBroker } from "./broker-harness.ts";

const { ConfigResourceTypes, Partitioners, logLevel } = kafkajs;

function client(broker: TestBroker): Kafka {
  return new kafkajs.Kafka({
    clientId: "ferry-compat",
    brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 },
  });
}

function newProducer(kafka: Kafka, allowAutoTopicCreation = true): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation });
}

function newConsumer(kafka: Kafka, groupId: string): Consumer {
  return kafka.consumer({ groupId, maxWaitTimeInMs: 100, heartbeatInterval: 300, sessionTimeout: 6000 });
}

/** Runs a consumer until `count` messages arrived; returns them as "key=value@partition:offset". */
async function consumeCount(consumer: Consumer, topic: string, count: number): Promise<string[]> {
  const got: string[] = [];
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${got.length} of ${count} messages arrived`)),
      15_000,
    );
    consumer
      .run({
        eachMessage: ({ partition, message }) => {
          got.push(`${String(message.key)}=${String(message.value)}@${partition}:${message.offset}`);
          if (got.length >= count) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      })
      .catch(reject);
  });
  return got;
}

type KafkaJSError = Error & { type?: string; cause?: unknown };

/** The error a call threw; fails the test if it succeeded. */
async function errorOf(call: () => Promise<unknown>): Promise<KafkaJSError> {
  try {
    await call();
  } catch (e) {
    assert.ok(e instanceof Error);
    return e;
  }
  assert.fail("the call succeeded");
}

/** The Kafka error name kafkajs reports, looking through its retry wrappers (cause). */
function protocolErrorType(e: KafkaJSError): string | undefined {
  for (let cur: unknown = e; cur instanceof Error; cur = (cur as KafkaJSError).cause) {
    const type = (cur as KafkaJSError).type;
    if (type !== undefined) return type;
  }
  return undefined;
}

describe("kafkajs against the Ferry broker", () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let admin: Admin;
  before(async () => {
    broker = await startTestBroker();
    kafka = client(broker);
    admin = kafka.admin();
    await admin.connect();
  });
  after(async () => {
    await admin.disconnect();
    const problems = broker.loggedProblems();
    await broker.close();
    assert.deepEqual(problems, [], "the broker logged no warnings or errors");
  });

  test("a producer's records reach a consumer group via consumer.run eachMessage; the group commits them", async () => {
    const topic = uniqueName("kjs");
    const groupId = uniqueName("kjs-g");
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] }), true);
    const producer = newProducer(kafka);
    await producer.connect();
    const messages = Array.from({ length: 30 }, (_, i) => ({
      key: `k${i}`,
      value: `v${i}`,
      headers: { n: `${i}` },
    }));
    const sent = await producer.send({
      topic,
      messages,
      acks: -1,
      compression: kafkajs.CompressionTypes.GZIP,
    });
    await producer.disconnect();
    assert.deepEqual(
      sent.map((r) => r.errorCode).filter((c) => c !== 0),
      [],
    );

    const consumer = newConsumer(kafka, groupId);
    await consumer.connect();
    let got: string[];
    try {
      got = await consumeCount(consumer, topic, 30);
      const described = await admin.describeGroups([groupId]);
      const group = described.groups[0];
      assert.ok(group !== undefined);
      assert.equal(group.state, "Stable");
      assert.equal(group.protocolType, "consumer");
      assert.equal(group.members.length, 1);
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(
      got.map((m) => m.split("@")[0]).sort(),
      messages.map((m) => `${m.key}=${m.value}`).sort(),
    );

    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0]?.partitions.map((p) => Number(p.offset)).reduce((a, b) => a + b, 0);
    assert.equal(committed, 30, "the committed offsets cover all thirty records");
    const listed = await admin.listGroups();
    assert.ok(
      listed.groups.some((g) => g.groupId === groupId && g.protocolType === "consumer"),
      JSON.stringify(listed),
    );
    assert.equal((await admin.describeGroups([groupId])).groups[0]?.state, "Empty");
  });

  test("admin createPartitions grows a topic and the metadata shows the new partitions", async () => {
    const topic = uniqueName("kjs-grow");
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] });
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.deepEqual(md.topics[0]?.partitions.map((p) => [p.partitionId, p.leader]).sort(), [
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
    const shrink = await errorOf(() => admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] }));
    assert.match(JSON.stringify(shrink, Object.getOwnPropertyNames(shrink)), /INVALID_PARTITIONS/);
  });

  test("admin describeConfigs and alterConfigs read and change a topic's configs", async () => {
    const topic = uniqueName("kjs-configs");
    await admin.createTopics({
      topics: [{ topic, configEntries: [{ name: "retention.ms", value: "3600000" }] }],
    });
    const describe = async (): Promise<Map<string, { value: string; isDefault: boolean }>> => {
      const r = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
        includeSynonyms: false,
      });
      const res = r.resources[0];
      assert.ok(res !== undefined);
      assert.equal(res.errorCode, 0);
      return new Map(
        res.configEntries.map((e) => [e.configName, { value: e.configValue, isDefault: e.isDefault }]),
      );
    };
    const before = await describe();
    assert.deepEqual(before.get("retention.ms"), { value: "3600000", isDefault: false });
    assert.deepEqual(before.get("cleanup.policy"), { value: "delete", isDefault: true });

    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [{ name: "cleanup.policy", value: "compact" }],
        },
      ],
    });
    const afterAlter = await describe();
    // AlterConfigs replaces the whole set: retention.ms falls back to its default.
    assert.deepEqual(afterAlter.get("cleanup.policy"), { value: "compact", isDefault: false });
    assert.deepEqual(afterAlter.get("retention.ms"), { value: "604800000", isDefault: true });
  });

  test("admin resetOffsets moves an idle group back to the earliest offsets; fetchOffsets shows it", async () => {
    const topic = uniqueName("kjs-reset");
    const groupId = uniqueName("kjs-reset-g");
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = newProducer(kafka);
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 5 }, (_, i) => ({ value: `r${i}` })) });
    await producer.disconnect();
    const consumer = newConsumer(kafka, groupId);
    await consumer.connect();
    try {
      assert.deepEqual(await consumeCount(consumer, topic, 5), [
        "null=r0@0:0",
        "null=r1@0:1",
        "null=r2@0:2",
        "null=r3@0:3",
        "null=r4@0:4",
      ]);
    } finally {
      await consumer.disconnect();
    }
    const committed = async (): Promise<string | undefined> =>
      (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions[0]?.offset;
    assert.equal(await committed(), "5");

    // kafkajs commits the logical offset -2 ("earliest") through a short-lived group member,
    // which waits out its own 5 s fetch. (fetchOffsets' resolveOffsets would do that again.)
    await admin.resetOffsets({ groupId, topic, earliest: true });
    assert.equal(await committed(), "-2");
  });

  test("admin deleteTopicRecords moves the log start offset; the records before it are gone", async () => {
    const topic = uniqueName("kjs-delete-records");
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = newProducer(kafka);
    await producer.connect();
    for (let b = 0; b < 4; b++) {
      await producer.send({
        topic,
        messages: Array.from({ length: 5 }, (_, i) => ({ value: `d${b * 5 + i}` })),
      });
    }
    await producer.disconnect();
    // kafkajs finds partition leaders in its metadata cache, which does not hold the topic yet.
    await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "12" }] });
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.deepEqual(
      offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })),
      [{ partition: 0, low: "12", high: "20" }],
    );
    const consumer = newConsumer(kafka, uniqueName("kjs-after-delete"));
    await consumer.connect();
    try {
      const got = await consumeCount(consumer, topic, 8);
      assert.deepEqual(
        got.map((m) => m.split("@")[1]),
        Array.from({ length: 8 }, (_, i) => `0:${i + 12}`),
      );
    } finally {
      await consumer.disconnect();
    }
  });

  test("createTopics with an invalid name fails with INVALID_TOPIC_EXCEPTION", async () => {
    const bad = ["bad name!", "a".repeat(250), ".."];
    for (const topic of bad) {
      const e = await errorOf(() => admin.createTopics({ topics: [{ topic }] }));
      const inner = (e as Error & { errors?: KafkaJSError[] }).errors ?? [];
      assert.deepEqual(
        inner.map(protocolErrorType),
        ["INVALID_TOPIC_EXCEPTION"],
        `${topic.slice(0, 20)}: ${e.message}`,
      );
    }
    assert.deepEqual(
      (await admin.listTopics()).filter((t) => bad.includes(t)),
      [],
    );
  });

  test("a record above the topic's max.message.bytes fails with MESSAGE_TOO_LARGE", async () => {
    const topic = uniqueName("kjs-small");
    await admin.createTopics({
      topics: [{ topic, configEntries: [{ name: "max.message.bytes", value: "1000" }] }],
    });
    const producer = newProducer(kafka);
    await producer.connect();
    try {
      const e = await errorOf(() => producer.send({ topic, messages: [{ value: "x".repeat(5000) }] }));
      assert.equal(protocolErrorType(e), "MESSAGE_TOO_LARGE", e.message);
      const ok = await producer.send({ topic, messages: [{ value: "fits" }] });
      assert.equal(ok[0]?.errorCode, 0);
    } finally {
      await producer.disconnect();
    }
  });
});

describe("kafkajs against a Ferry broker with auto.create.topics.enable=false", () => {
  let broker: TestBroker;
  let kafka: Kafka;
  before(async () => {
    broker = await startTestBroker({ "auto.create.topics.enable": false });
    kafka = new kafkajs.Kafka({
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
  });
  after(async () => {
    const problems = broker.loggedProblems();
    await broker.close();
    assert.deepEqual(problems, [], "the broker logged no warnings or errors");
  });

  test("producing to an unknown topic fails with UNKNOWN_TOPIC_OR_PARTITION and creates nothing", async () => {
    const topic = uniqueName("kjs-missing");
    const producer = newProducer(kafka, true);
    await producer.connect();
    try {
      const e = await errorOf(() => producer.send({ topic, messages: [{ value: "nowhere" }] }));
      assert.equal(protocolErrorType(e), "UNKNOWN_TOPIC_OR_PARTITION", e.message);
    } finally {
      await producer.disconnect();
    }
    assert.equal(broker.current.context.topics.topic(topic), undefined);
  });

  test("a Produce request for a topic deleted since the last metadata fails with UNKNOWN_TOPIC_OR_PARTITION", async () => {
    const topic = uniqueName("kjs-deleted");
    const admin = kafka.admin();
    await admin.connect();
    const producer = newProducer(kafka, false);
    await producer.connect();
    try {
      await admin.createTopics({ topics: [{ topic }] });
      await producer.send({ topic, messages: [{ value: "before" }] });
      await admin.deleteTopics({ topics: [topic] });
      const e = await errorOf(() => producer.send({ topic, messages: [{ value: "after" }] }));
      assert.equal(protocolErrorType(e), "UNKNOWN_TOPIC_OR_PARTITION", e.message);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
