// @platformatic/kafka against the Ferry broker. It speaks only the flexible (tagged-field)
// versions of every API, so it exercises the encodings the older clients never reach:
// admin createTopics/listTopics/metadata, an idempotent producer, a committing consumer group,
// and the protocol errors it reports.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Admin,
  ConfigResourceTypes,
  Consumer,
  IncrementalAlterConfigOperationTypes,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import { startTestBroker, uniqueName, type TestBroker } from "./broker-harness.ts";

const CLIENT = { clientId: "ferry-compat", retries: 1, retryDelay: 50, timeout: 5_000 };

function newProducer(broker: TestBroker, idempotent = true): Producer<string, string, string, string> {
  return new Producer({
    ...CLIENT,
    bootstrapBrokers: [broker.bootstrap],
    serializers: stringSerializers,
    idempotent,
    acks: -1,
    autocreateTopics: true,
  });
}

/** The Kafka error names (apiId) found anywhere in an error, its causes and aggregated errors. */
function protocolErrorIds(e: unknown, found: Set<string> = new Set()): Set<string> {
  if (!(e instanceof Error)) return found;
  const id: unknown = Reflect.get(e, "apiId");
  if (typeof id === "string") found.add(id);
  if (e instanceof AggregateError) for (const inner of e.errors) protocolErrorIds(inner, found);
  protocolErrorIds(e.cause, found);
  return found;
}

async function rejectionOf(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (e) {
    return e;
  }
  assert.fail("the call succeeded");
}

describe("@platformatic/kafka against the Ferry broker", () => {
  let broker: TestBroker;
  let admin: Admin;
  before(async () => {
    broker = await startTestBroker();
    admin = new Admin({ ...CLIENT, bootstrapBrokers: [broker.bootstrap] });
  });
  after(async () => {
    await admin.close();
    const problems = broker.loggedProblems();
    await broker.close();
    assert.deepEqual(problems, [], "the broker logged no warnings or errors");
  });

  test("admin createTopics, listTopics and metadata describe the new topic", async () => {
    const topic = uniqueName("plt-admin");
    const created = await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
    assert.deepEqual(
      created.map((c) => [c.name, c.partitions]),
      [[topic, 3]],
    );
    assert.ok((await admin.listTopics()).includes(topic));
    const md = await admin.metadata({ topics: [topic] });
    assert.equal(md.id, broker.current.clusterId);
    assert.deepEqual(
      [...md.brokers.entries()].map(([id, b]) => [id, b.host, b.port]),
      [[1, "127.0.0.1", broker.port]],
    );
    const t = md.topics.get(topic);
    assert.ok(t !== undefined);
    assert.equal(t.partitionsCount, 3);
    assert.deepEqual(
      t.partitions.map((p) => p.leader),
      [1, 1, 1],
    );
  });

  test("an idempotent producer's records reach a consumer group, which commits each one", async () => {
    const topic = uniqueName("plt-group");
    const groupId = uniqueName("plt-g");
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
    const producer = newProducer(broker);
    const sent = Array.from({ length: 20 }, (_, i) => ({
      topic,
      key: `k${i}`,
      value: `v${i}`,
      headers: new Map([["n", String(i)]]),
      partition: i % 2,
    }));
    try {
      const result = await producer.send({ messages: sent });
      assert.equal(result.offsets?.length, 2);
    } finally {
      await producer.close();
    }

    const consumer = new Consumer({
      ...CLIENT,
      bootstrapBrokers: [broker.bootstrap],
      groupId,
      deserializers: stringDeserializers,
      sessionTimeout: 6_000,
      heartbeatInterval: 300,
      maxWaitTime: 100,
    });
    const got: string[] = [];
    try {
      const stream = await consumer.consume({
        topics: [topic],
        mode: "committed",
        fallbackMode: "earliest",
        autocommit: false,
      });
      const timer = setTimeout(() => void stream.close(), 15_000);
      for await (const m of stream) {
        got.push(`${m.key}=${m.value}|n=${m.headers.get("n") ?? ""}@${m.partition}:${m.offset}`);
        await m.commit();
        if (got.length === sent.length) break;
      }
      clearTimeout(timer);
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    const expected = sent.map((m, i) => `${m.key}=${m.value}|n=${i}@${m.partition}:${Math.floor(i / 2)}`);
    assert.deepEqual(got.sort(), expected.sort());

    const offsets = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const partitions = offsets[0]?.topics.find((t) => t.name === topic)?.partitions ?? [];
    assert.deepEqual(partitions.map((p) => [p.partitionIndex, p.committedOffset]).sort(), [
      [0, 10n],
      [1, 10n],
    ]);
  });

  test("admin configs, partitions, records, group offsets and groups work in their flexible versions", async () => {
    const topic = uniqueName("plt-more");
    const groupId = uniqueName("plt-more-g");
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
    await admin.createPartitions({ topics: [{ name: topic, count: 3, assignments: [] }] });
    assert.equal(
      (await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)?.partitionsCount,
      3,
    );

    const resource = { resourceType: ConfigResourceTypes.TOPIC, resourceName: topic };
    await admin.alterConfigs({
      resources: [{ ...resource, configs: [{ name: "retention.ms", value: "1000000" }] }],
    });
    await admin.incrementalAlterConfigs({
      resources: [
        {
          ...resource,
          configs: [
            {
              name: "segment.ms",
              configOperation: IncrementalAlterConfigOperationTypes.SET,
              value: "100000",
            },
          ],
        },
      ],
    });
    const described = await admin.describeConfigs({
      resources: [{ ...resource, configurationKeys: ["retention.ms", "segment.ms", "cleanup.policy"] }],
      includeSynonyms: true,
    });
    assert.deepEqual(described[0]?.configs.map((c) => [c.name, c.value]).sort(), [
      ["cleanup.policy", "delete"],
      ["retention.ms", "1000000"],
      ["segment.ms", "100000"],
    ]);

    const producer = newProducer(broker);
    try {
      await producer.send({
        messages: Array.from({ length: 6 }, (_, i) => ({ topic, value: `r${i}`, partition: 0 })),
        compression: "gzip",
      });
    } finally {
      await producer.close();
    }
    const deleted = await admin.deleteRecords({
      topics: [{ name: topic, partitions: [{ partition: 0, offset: 4n }] }],
    });
    assert.equal(deleted[0]?.partitions[0]?.lowWatermark, 4n);
    const earliest = await admin.listOffsets({
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -2n }] }],
    });
    assert.equal(earliest[0]?.partitions[0]?.offset, 4n);

    await admin.alterConsumerGroupOffsets({
      groupId,
      topics: [
        {
          name: topic,
          partitionOffsets: [
            { partition: 0, offset: 5n },
            { partition: 1, offset: 0n },
          ],
        },
      ],
    });
    await admin.deleteConsumerGroupOffsets({ groupId, topics: [{ name: topic, partitionIndexes: [1] }] });
    const offsets = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    assert.deepEqual(
      offsets[0]?.topics
        .find((t) => t.name === topic)
        ?.partitions.map((p) => [p.partitionIndex, p.committedOffset]),
      [[0, 5n]],
    );
    assert.equal((await admin.describeGroups({ groups: [groupId] })).get(groupId)?.state, "Empty");
    await admin.deleteGroups({ groups: [groupId] });
    assert.equal((await admin.listGroups()).has(groupId), false);
  });

  test("createTopics with an invalid name fails with INVALID_TOPIC_EXCEPTION", async () => {
    const e = await rejectionOf(() =>
      admin.createTopics({ topics: ["no spaces allowed"], partitions: 1, replicas: 1 }),
    );
    assert.deepEqual([...protocolErrorIds(e)], ["INVALID_TOPIC_EXCEPTION"], String(e));
  });

  test("a record above the topic's max.message.bytes fails with MESSAGE_TOO_LARGE", async () => {
    const topic = uniqueName("plt-small");
    await admin.createTopics({
      topics: [topic],
      partitions: 1,
      replicas: 1,
      configs: [{ name: "max.message.bytes", value: "1000" }],
    });
    const producer = newProducer(broker);
    try {
      const e = await rejectionOf(() => producer.send({ messages: [{ topic, value: "x".repeat(5000) }] }));
      assert.deepEqual([...protocolErrorIds(e)], ["MESSAGE_TOO_LARGE"], String(e));
    } finally {
      await producer.close();
    }
  });
});

describe("@platformatic/kafka against a Ferry broker with auto.create.topics.enable=false", () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ "auto.create.topics.enable": false });
  });
  after(async () => {
    const problems = broker.loggedProblems();
    await broker.close();
    assert.deepEqual(problems, [], "the broker logged no warnings or errors");
  });

  test("producing to an unknown topic fails with UNKNOWN_TOPIC_OR_PARTITION and creates nothing", async () => {
    const topic = uniqueName("plt-missing");
    // Not idempotent: platformatic retries an idempotent producer's metadata forever.
    const producer = newProducer(broker, false);
    try {
      const e = await rejectionOf(() => producer.send({ messages: [{ topic, value: "nowhere" }] }));
      // platformatic turns a Metadata topic error 3 (UNKNOWN_TOPIC_OR_PARTITION) into this message.
      assert.ok(e instanceof Error);
      assert.equal(e.message, `Unknown topic ${topic}.`);
    } finally {
      await producer.close();
    }
    assert.equal(broker.current.context.topics.topic(topic), undefined);
  });
});
