// The client's FerryMirrorAppend against a real Ferry broker (routing, per-partition results,
// byte-identical mirrors, retries across a broker restart) and isFerryBroker, which must be
// false for a Kafka that is not Ferry (librdkafka's mock cluster).
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { Admin } from "../../src/client/admin.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { fetchRaw } from "../../src/client/consumer.ts";
import { PartitionError, VersionMismatchError } from "../../src/client/errors.ts";
import { isFerryBroker, mirrorAppend } from "../../src/client/mirror-append.ts";
import { ErrorCode } from "../../src/protocol/error-codes.ts";
import { encodeBatch } from "../../src/protocol/records/batch-codec.ts";
import { startTestBroker } from "../compat/broker-harness.ts";
import { mockClusterBuilds, startMockCluster } from "../helpers/mock-cluster.ts";
import { requirePeer } from "../helpers/peers.ts";

function sourceBatch(baseOffset: number, count: number): Buffer {
  return encodeBatch({
    baseOffset: BigInt(baseOffset),
    partitionLeaderEpoch: 3,
    timestamp: 1_700_000_000_000,
    records: Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`value-${baseOffset + i}`) })),
  });
}

async function ferry(t: TestContext): Promise<{ cluster: Cluster; restart: () => Promise<void> }> {
  const broker = await startTestBroker();
  t.after(() => broker.close());
  const cluster = new Cluster({ bootstrap: broker.bootstrap, retryBackoffMs: 50, retryBackoffMaxMs: 200 });
  t.after(() => cluster.close());
  await new Admin(cluster).createTopics([
    { name: "mirror", numPartitions: 3, configs: { "ferry.mirror.source": "src/orders" } },
    { name: "plain", numPartitions: 1 },
  ]);
  return { cluster, restart: () => broker.restart() };
}

test("isFerryBroker is true for the Ferry broker", async (t) => {
  const { cluster } = await ferry(t);
  assert.equal(await isFerryBroker(cluster), true);
});

test("mirrorAppend writes several partitions in one go, byte for byte, and answers per entry", async (t) => {
  const { cluster } = await ferry(t);
  const p0 = Buffer.concat([sourceBatch(0, 2), sourceBatch(5, 1)]);
  const p2 = sourceBatch(100, 4);
  const results = await mirrorAppend(cluster, [
    { topic: "mirror", partition: 0, sourceLogStartOffset: 0n, records: Buffer.from(p0) },
    { topic: "mirror", partition: 2, sourceLogStartOffset: 100n, records: Buffer.from(p2) },
    { topic: "plain", partition: 0, sourceLogStartOffset: -1n, records: sourceBatch(0, 1) },
  ]);
  assert.deepEqual(
    results.map((r) => [
      r.topic,
      r.partition,
      r.logStartOffset,
      r.logEndOffset,
      r.highWatermark,
      r.error?.code,
    ]),
    [
      ["mirror", 0, 0n, 6n, 6n, undefined],
      ["mirror", 2, 100n, 104n, 104n, undefined],
      ["plain", 0, 0n, 0n, 0n, ErrorCode.INVALID_REQUEST],
    ],
  );
  assert.ok(results[2]?.error instanceof PartitionError);
  assert.match(results[2]?.error?.message ?? "", /not a mirror topic/);
  const fetched = await fetchRaw(
    cluster,
    [
      { topic: "mirror", partition: 0, offset: 0n },
      { topic: "mirror", partition: 2, offset: 100n },
    ],
    { maxWaitMs: 10 },
  );
  assert.ok(fetched[0]?.records.equals(p0));
  assert.ok(fetched[1]?.records.equals(p2));

  // Two entries for one partition go in order; a retry of what is there changes nothing.
  const again = await mirrorAppend(cluster, [
    { topic: "mirror", partition: 0, sourceLogStartOffset: 0n, records: Buffer.from(p0) },
    { topic: "mirror", partition: 0, sourceLogStartOffset: 2n, records: sourceBatch(6, 2) },
  ]);
  assert.deepEqual(
    again.map((r) => [r.logStartOffset, r.logEndOffset, r.error]),
    [
      [2n, 8n, undefined],
      [2n, 8n, undefined],
    ],
  );
});

test("a straddling batch comes back as a partition error with the mirror's offsets", async (t) => {
  const { cluster } = await ferry(t);
  await mirrorAppend(cluster, [
    { topic: "mirror", partition: 1, sourceLogStartOffset: -1n, records: sourceBatch(0, 4) },
  ]);
  const [r] = await mirrorAppend(cluster, [
    { topic: "mirror", partition: 1, sourceLogStartOffset: -1n, records: sourceBatch(2, 4) },
  ]);
  assert.equal(r?.error?.code, ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.equal(r?.logEndOffset, 4n);
});

test("mirrorAppend retries a partition whose topic appears a moment later", async (t) => {
  const { cluster } = await ferry(t);
  const admin = new Admin(cluster);
  const appending = mirrorAppend(cluster, [
    { topic: "late", partition: 0, sourceLogStartOffset: -1n, records: sourceBatch(0, 3) },
  ]);
  await new Promise((resolve) => setTimeout(resolve, 40));
  await admin.createTopics([
    { name: "late", numPartitions: 1, configs: { "ferry.mirror.source": "src/late" } },
  ]);
  const [r] = await appending;
  assert.equal(r?.error, undefined);
  assert.equal(r?.logEndOffset, 3n);
});

test("mirrorAppend carries on after a broker restart, and its retry is idempotent", async (t) => {
  const { cluster, restart } = await ferry(t);
  const first = sourceBatch(0, 3);
  await mirrorAppend(cluster, [
    { topic: "mirror", partition: 0, sourceLogStartOffset: -1n, records: Buffer.from(first) },
  ]);
  await restart();
  const [r] = await mirrorAppend(cluster, [
    {
      topic: "mirror",
      partition: 0,
      sourceLogStartOffset: -1n,
      records: Buffer.concat([first, sourceBatch(3, 2)]),
    },
  ]);
  assert.equal(r?.error, undefined);
  assert.equal(r?.logEndOffset, 5n);
});

test("isFerryBroker is false for librdkafka's mock cluster, and mirrorAppend fails cleanly there", async (t) => {
  if (!(await requirePeer(t, "librdkafka mock cluster", mockClusterBuilds))) return;
  const mock = await startMockCluster({ brokers: 1, topics: ["orders:1"] });
  t.after(() => mock.close());
  const cluster = new Cluster({ bootstrap: mock.bootstrap });
  t.after(() => cluster.close());
  assert.equal(await isFerryBroker(cluster), false);
  const [r] = await mirrorAppend(cluster, [
    { topic: "orders", partition: 0, sourceLogStartOffset: -1n, records: sourceBatch(0, 1) },
  ]);
  assert.equal(r?.error?.code, ErrorCode.UNSUPPORTED_VERSION);
  assert.ok(r?.error?.cause instanceof VersionMismatchError);
});
