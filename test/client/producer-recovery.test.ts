// The idempotent producer's recovery on librdkafka's mock cluster: a bounded number of
// requests in flight per partition, and Kafka's rules (KIP-360) for sequence and epoch
// errors: the partition moves to a fresh producer id and nothing is lost or duplicated, or
// the caller gets a typed error.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { Cluster } from "../../src/client/cluster.ts";
import { consume, fetchRaw } from "../../src/client/consumer.ts";
import { PartitionError } from "../../src/client/errors.ts";
import { Producer, type ProducerIdentity } from "../../src/client/producer.ts";
import { ErrorCode } from "../../src/protocol/error-codes.ts";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { decodeBatches, encodeBatch } from "../../src/protocol/records/batch-codec.ts";
import { mockClusterBuilds, startMockCluster, type MockCluster } from "../helpers/mock-cluster.ts";
import { requirePeer } from "../helpers/peers.ts";
import { startRecordingProxy } from "../helpers/recording-proxy.ts";

const TOPIC = "events";

async function start(t: TestContext): Promise<{ mock: MockCluster; cluster: Cluster } | undefined> {
  if (!(await requirePeer(t, "librdkafka mock cluster", mockClusterBuilds))) return undefined;
  const mock = await startMockCluster({ brokers: 1, topics: [`${TOPIC}:1`] });
  t.after(() => mock.close());
  const cluster = new Cluster({ bootstrap: mock.bootstrap, retries: 10, retryBackoffMs: 20 });
  t.after(() => cluster.close());
  return { mock, cluster };
}

async function readValues(cluster: Cluster): Promise<string[]> {
  const values: string[] = [];
  for await (const r of consume(cluster, TOPIC, { untilEnd: true, maxWaitMs: 10 }))
    values.push(String(r.value));
  return values;
}

/** The producer id of each batch of partition 0, in log order. */
async function producerIds(cluster: Cluster): Promise<bigint[]> {
  const ids: bigint[] = [];
  for (let offset = 0n; ;) {
    const [f] = await fetchRaw(cluster, [{ topic: TOPIC, partition: 0, offset }], { maxWaitMs: 10 });
    if (f === undefined || f.error !== undefined) throw f?.error ?? new Error("no fetch answer");
    for (const b of decodeBatches(f.records)) {
      ids.push(b.header.producerId);
      offset = b.header.baseOffset + BigInt(b.header.lastOffsetDelta) + 1n;
    }
    if (offset >= f.highWatermark) return ids;
  }
}

function batchOf(value: string): Buffer {
  return encodeBatch({ records: [{ value: Buffer.from(value) }] });
}

test("an out-of-order sequence answer moves the partition to a fresh producer id, and the batch is written once", async (t) => {
  const env = await start(t);
  if (!env) return;
  const identities: ProducerIdentity[] = [];
  const producer = new Producer(env.cluster, {
    idempotent: true,
    onIdentity: (i) => void identities.push(i),
  });
  await producer.send(TOPIC, [{ value: Buffer.from("a") }], { partition: 0 });
  await env.mock.pushRequestErrors(ApiKey.Produce, [ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER]);
  await producer.send(TOPIC, [{ value: Buffer.from("b") }], { partition: 0 });
  await producer.send(TOPIC, [{ value: Buffer.from("c") }], { partition: 0 });
  assert.deepEqual(await readValues(env.cluster), ["a", "b", "c"]);
  assert.equal(identities.length, 2, "a second InitProducerId");
  const [first, second] = identities;
  assert.deepEqual(await producerIds(env.cluster), [
    first?.producerId,
    second?.producerId,
    second?.producerId,
  ]);
});

test("UNKNOWN_PRODUCER_ID is recovered from without losing or duplicating the batch", async (t) => {
  const env = await start(t);
  if (!env) return;
  const producer = new Producer(env.cluster, { idempotent: true });
  await producer.send(TOPIC, [{ value: Buffer.from("a") }], { partition: 0 });
  await env.mock.pushRequestErrors(ApiKey.Produce, [ErrorCode.UNKNOWN_PRODUCER_ID]);
  await producer.send(TOPIC, [{ value: Buffer.from("b") }], { partition: 0 });
  assert.deepEqual(await readValues(env.cluster), ["a", "b"]);
});

test("INVALID_PRODUCER_EPOCH fails that batch with a typed error; later sends use a fresh producer id", async (t) => {
  const env = await start(t);
  if (!env) return;
  const producer = new Producer(env.cluster, { idempotent: true });
  const { producerId } = await producer.producerIdentity();
  await producer.send(TOPIC, [{ value: Buffer.from("a") }], { partition: 0 });
  await env.mock.pushRequestErrors(ApiKey.Produce, [ErrorCode.INVALID_PRODUCER_EPOCH]);
  await assert.rejects(
    producer.send(TOPIC, [{ value: Buffer.from("fenced") }], { partition: 0 }),
    (e: unknown) =>
      e instanceof PartitionError &&
      e.code === ErrorCode.INVALID_PRODUCER_EPOCH &&
      e.topic === TOPIC &&
      e.partition === 0 &&
      e.broker === 1,
  );
  await producer.send(TOPIC, [{ value: Buffer.from("c") }], { partition: 0 });
  assert.deepEqual(await readValues(env.cluster), ["a", "c"]);
  const ids = await producerIds(env.cluster);
  assert.equal(ids[0], producerId);
  assert.notEqual(ids[1], producerId);
});

test("batches of one partition are pipelined, at most five requests in flight, and land in order", async (t) => {
  const env = await start(t);
  if (!env) return;
  let outstanding = 0;
  let most = 0;
  const proxy = await startRecordingProxy({
    upstreams: env.mock.bootstrap,
    onFrame: (frame) => {
      if (frame.apiKey !== ApiKey.Produce) return;
      outstanding += frame.direction === "request" ? 1 : -1;
      most = Math.max(most, outstanding);
    },
  });
  t.after(() => proxy.close());
  await env.mock.rtt(1, 50);
  const cluster = new Cluster({ bootstrap: proxy.bootstrap, maxInFlight: 10 });
  t.after(() => cluster.close());
  const producer = new Producer(cluster, { idempotent: true });
  const values = Array.from({ length: 12 }, (_, i) => `v${i}`);
  await producer.produceRaw(TOPIC, 0, Buffer.concat(values.map(batchOf)));
  assert.equal(most, 5);
  await env.mock.rtt(1, 0);
  assert.deepEqual(await readValues(cluster), values);
});

test("requests that fail while others are in flight are retried in sequence order", async (t) => {
  const env = await start(t);
  if (!env) return;
  await env.mock.rtt(1, 20);
  const producer = new Producer(env.cluster, { idempotent: true });
  // The five requests in flight together all fail; they go out again oldest first.
  await env.mock.pushRequestErrors(ApiKey.Produce, [
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
    ErrorCode.REQUEST_TIMED_OUT,
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ]);
  const values = Array.from({ length: 8 }, (_, i) => `v${i}`);
  await producer.produceRaw(TOPIC, 0, Buffer.concat(values.map(batchOf)));
  await env.mock.rtt(1, 0);
  assert.deepEqual(await readValues(env.cluster), values);
});
