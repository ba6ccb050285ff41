// Admin round trips against the Ferry broker: topics, partitions, configs, offsets, records,
// cluster and groups.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Admin, ConfigOp, OffsetSpec, ResourceType } from "../../src/client/admin.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { BrokerError } from "../../src/client/errors.ts";
import { Producer } from "../../src/client/producer.ts";
import { ErrorCode } from "../../src/protocol/error-codes.ts";
import { startTestBroker, type TestBroker } from "../broker/broker-helpers.ts";

let broker: TestBroker;
let cluster: Cluster;
let admin: Admin;

before(async () => {
  broker = await startTestBroker();
  cluster = new Cluster({ bootstrap: `${broker.host}:${broker.port}` });
  admin = new Admin(cluster);
});

after(async () => {
  await cluster.close();
  await broker.destroy();
});

test("created topics are listed and described with their partitions, and deleted ones vanish", async () => {
  await admin.createTopics([{ name: "a-topic", numPartitions: 3 }, { name: "b-topic" }]);
  assert.deepEqual(
    (await admin.listTopics()).filter((t) => t.endsWith("-topic")),
    ["a-topic", "b-topic"],
  );
  const [a] = await admin.describeTopics(["a-topic"]);
  assert.equal(a?.partitions.length, 3);
  await admin.deleteTopics(["b-topic"]);
  assert.ok(!(await admin.listTopics()).includes("b-topic"));
});

test("creating an existing topic fails with TOPIC_ALREADY_EXISTS naming it", async () => {
  await admin.createTopics([{ name: "dup", numPartitions: 1 }]);
  await assert.rejects(
    admin.createTopics([{ name: "dup", numPartitions: 1 }]),
    (e: unknown) =>
      e instanceof BrokerError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS && e.origin.topic === "dup",
  );
});

test("createPartitions raises the partition count", async () => {
  await admin.createTopics([{ name: "grow", numPartitions: 1 }]);
  await admin.createPartitions("grow", 4);
  const [t] = await admin.describeTopics(["grow"]);
  assert.equal(t?.partitions.length, 4);
});

test("incrementalAlterConfigs sets a topic config that describeConfigs then reports", async () => {
  await admin.createTopics([{ name: "configured", numPartitions: 1 }]);
  await admin.incrementalAlterConfigs(ResourceType.TOPIC, "configured", [
    { name: "retention.ms", value: "12345", op: ConfigOp.SET },
  ]);
  const configs = await admin.describeConfigs(ResourceType.TOPIC, "configured", ["retention.ms"]);
  assert.equal(configs.find((c) => c.name === "retention.ms")?.value, "12345");
});

test("listOffsets and deleteRecords move the earliest offset", async () => {
  await admin.createTopics([{ name: "trim", numPartitions: 1 }]);
  await new Producer(cluster).send(
    "trim",
    Array.from({ length: 5 }, (_, i) => ({ value: Buffer.from(String(i)) })),
    { partition: 0 },
  );
  const [latest] = await admin.listOffsets([{ topic: "trim", partition: 0, timestamp: OffsetSpec.LATEST }]);
  assert.equal(latest?.offset, 5n);
  const [deleted] = await admin.deleteRecords([{ topic: "trim", partition: 0, offset: 3n }]);
  assert.equal(deleted?.lowWatermark, 3n);
  const [earliest] = await admin.listOffsets([
    { topic: "trim", partition: 0, timestamp: OffsetSpec.EARLIEST },
  ]);
  assert.equal(earliest?.offset, 3n);
});

test("describeCluster names the broker", async () => {
  const description = await admin.describeCluster();
  assert.equal(description.brokers.length, 1);
  assert.equal(description.brokers[0]?.port, broker.port);
});

test("offsets altered from outside a group are fetched back, listed, described and deleted with the group", async () => {
  await admin.createTopics([{ name: "tracked", numPartitions: 2 }]);
  await admin.alterOffsets("outside", [
    { topic: "tracked", partition: 0, offset: 7n },
    { topic: "tracked", partition: 1, offset: 9n, metadata: "m" },
  ]);
  const offsets = await admin.fetchOffsets("outside");
  assert.deepEqual(offsets.map((o) => [o.topic, o.partition, o.offset]).sort(), [
    ["tracked", 0, 7n],
    ["tracked", 1, 9n],
  ]);
  assert.ok((await admin.listGroups()).some((g) => g.groupId === "outside"));
  const [described] = await admin.describeGroups(["outside"]);
  assert.equal(described?.state, "Empty");
  await admin.deleteGroups(["outside"]);
  assert.ok(!(await admin.listGroups()).some((g) => g.groupId === "outside"));
});
