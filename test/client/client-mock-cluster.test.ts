// The client against a Kafka nobody here wrote: librdkafka's mock cluster, three brokers with
// partitions led by different brokers. Leaders move and brokers go down and up in the middle
// of idempotent production; reading back shows every record exactly once, in order.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { Admin, OffsetSpec } from "../../src/client/admin.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { consume, fetchRaw } from "../../src/client/consumer.ts";
import { PartitionError } from "../../src/client/errors.ts";
import { Producer } from "../../src/client/producer.ts";
import { CompressionCodec } from "../../src/protocol/compression/index.ts";
import { ErrorCode } from "../../src/protocol/error-codes.ts";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { mockClusterBuilds, startMockCluster, type MockCluster } from "../helpers/mock-cluster.ts";
import { requirePeer } from "../helpers/peers.ts";

const TOPIC = "orders";

async function start(t: TestContext): Promise<{ mock: MockCluster; cluster: Cluster } | undefined> {
  if (!(await requirePeer(t, "librdkafka mock cluster", mockClusterBuilds))) return undefined;
  const mock = await startMockCluster({ brokers: 3, topics: [`${TOPIC}:3`] });
  t.after(() => mock.close());
  for (let p = 0; p < 3; p++) await mock.leader(TOPIC, p, p + 1);
  const cluster = new Cluster({ bootstrap: mock.bootstrap, retries: 30, retryBackoffMaxMs: 300 });
  t.after(() => cluster.close());
  return { mock, cluster };
}

async function readValues(cluster: Cluster): Promise<Map<number, string[]>> {
  const byPartition = new Map<number, string[]>();
  for await (const r of consume(cluster, TOPIC, { untilEnd: true, maxWaitMs: 10 })) {
    let list = byPartition.get(r.partition);
    if (list === undefined) byPartition.set(r.partition, (list = []));
    list.push(String(r.value));
  }
  return byPartition;
}

test("metadata routes each partition to its own leader among three brokers", async (t) => {
  const env = await start(t);
  if (!env) return;
  const topic = await env.cluster.topic(TOPIC);
  assert.deepEqual(
    topic.partitions.map((p) => p.leader),
    [1, 2, 3],
  );
  // The mock answers ApiVersions v2 at most: negotiation fell back through UNSUPPORTED_VERSION.
  const versions = await env.cluster.broker(1).versions();
  assert.equal(versions.version(ApiKey.Metadata), 2);
});

test("records produced to partitions on three brokers read back in order", async (t) => {
  const env = await start(t);
  if (!env) return;
  const producer = new Producer(env.cluster);
  const records = Array.from({ length: 30 }, (_, i) => ({ value: Buffer.from(`r${i}`), partition: i % 3 }));
  await producer.send(TOPIC, records, { compression: CompressionCodec.LZ4 });
  const read = await readValues(env.cluster);
  for (let p = 0; p < 3; p++) {
    assert.deepEqual(
      read.get(p),
      records.filter((r) => r.partition === p).map((r) => String(r.value)),
    );
  }
});

test("idempotent production survives a leader move and a broker down and up, without loss or duplicates", async (t) => {
  const env = await start(t);
  if (!env) return;
  const { mock, cluster } = env;
  const producer = new Producer(cluster, { idempotent: true });
  const sent = new Map<number, string[]>([
    [0, []],
    [1, []],
    [2, []],
  ]);
  let stop = false;
  const produce = async (partition: number): Promise<void> => {
    for (let i = 0; !stop || i < 5; i++) {
      const value = `p${partition}-${i}`;
      await producer.send(TOPIC, [{ value: Buffer.from(value) }], { partition });
      sent.get(partition)?.push(value);
      if (i > 1000) break;
    }
  };
  const loops = [0, 1, 2].map(produce);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await mock.leader(TOPIC, 0, 2); // partition 0 moves from broker 1 to broker 2
  await new Promise((resolve) => setTimeout(resolve, 200));
  await mock.down(3); // partition 2's leader goes away for a while
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await mock.up(3);
  await new Promise((resolve) => setTimeout(resolve, 200));
  stop = true;
  await Promise.all(loops);

  const read = await readValues(cluster);
  for (const [partition, values] of sent) {
    assert.ok(values.length > 5, `partition ${partition} made progress`);
    assert.deepEqual(
      read.get(partition),
      values,
      `partition ${partition}: exactly what was acknowledged, once`,
    );
  }
});

test("a partition error from the mock reaches the caller typed, with topic, partition and broker", async (t) => {
  const env = await start(t);
  if (!env) return;
  const { mock, cluster } = env;
  await mock.pushRequestErrors(ApiKey.Fetch, [ErrorCode.OFFSET_OUT_OF_RANGE]);
  const [fetched] = await fetchRaw(cluster, [{ topic: TOPIC, partition: 1, offset: 0n }], { maxWaitMs: 10 });
  assert.ok(fetched?.error instanceof PartitionError, String(fetched?.error));
  assert.equal(fetched.error.code, ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.equal(fetched.error.topic, TOPIC);
  assert.equal(fetched.error.partition, 1);
  assert.equal(fetched.error.broker, 2);
});

test("a retriable error the mock injects is retried until the produce succeeds", async (t) => {
  const env = await start(t);
  if (!env) return;
  const { mock, cluster } = env;
  await mock.pushRequestErrors(ApiKey.Produce, [
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
    ErrorCode.LEADER_NOT_AVAILABLE,
  ]);
  const [result] = await new Producer(cluster, { idempotent: true }).send(
    TOPIC,
    [{ value: Buffer.from("x") }],
    {
      partition: 0,
    },
  );
  assert.equal(result?.baseOffset, 0n);
  assert.deepEqual((await readValues(cluster)).get(0), ["x"]);
});

test("admin on the mock: the cluster is described (from Metadata where DescribeCluster is missing) and offsets listed", async (t) => {
  const env = await start(t);
  if (!env) return;
  const admin = new Admin(env.cluster);
  const description = await admin.describeCluster();
  assert.deepEqual(description.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
  await new Producer(env.cluster).send(TOPIC, [{ value: Buffer.from("x") }, { value: Buffer.from("y") }], {
    partition: 2,
  });
  const [earliest, latest] = await admin.listOffsets([
    { topic: TOPIC, partition: 2, timestamp: OffsetSpec.EARLIEST },
    { topic: TOPIC, partition: 2, timestamp: OffsetSpec.LATEST },
  ]);
  assert.equal(earliest?.offset, 0n);
  assert.equal(latest?.offset, 2n);
});

test("a coordinator still loading its groups is retried until the offsets come back", async (t) => {
  const env = await start(t);
  if (!env) return;
  const admin = new Admin(env.cluster);
  await admin.alterOffsets("loading", [{ topic: TOPIC, partition: 1, offset: 5n }]);
  await env.mock.pushRequestErrors(ApiKey.OffsetFetch, [
    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ]);
  const offsets = await admin.fetchOffsets("loading", [{ topic: TOPIC, partition: 1 }]);
  assert.deepEqual(
    offsets.map((o) => [o.topic, o.partition, o.offset]),
    [[TOPIC, 1, 5n]],
  );
});
