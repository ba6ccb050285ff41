// The link against a Kafka nobody here wrote, librdkafka's mock cluster (three brokers,
// partitions led by different brokers): mock → Ferry copies into mirror topics at the same
// offsets, through a leader move; Ferry → mock translates, and a committed group offset
// translates to the target offset holding the same record, read back with kcat; with the mock
// as source, group offsets fall back from the __consumer_offsets stream to polling, said so.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { Admin } from "../../src/client/admin.ts";
import { commitOffsets, fetchCommittedOffsets } from "../../src/client/group-offsets.ts";
import { Producer } from "../../src/client/producer.ts";
import { CompressionCodec } from "../../src/protocol/compression/index.ts";
import { linkMetricsText, linkStatus } from "../../src/link/link-status.ts";
import { runOk, startTestBroker } from "../compat/broker-harness.ts";
import { mockClusterBuilds, startMockCluster, type MockCluster } from "../helpers/mock-cluster.ts";
import { kcat, requirePeer } from "../helpers/peers.ts";
import { clusterOf, endOffset, readRecords, startTestLink, waitFor } from "./link-helpers.ts";

async function startMock(t: TestContext, topics: string[]): Promise<MockCluster | undefined> {
  if (!(await requirePeer(t, "librdkafka mock cluster", mockClusterBuilds))) return undefined;
  const mock = await startMockCluster({ brokers: 3, topics });
  t.after(() => mock.close());
  return mock;
}

test("mock cluster → Ferry: every partition mirrored at the same offsets, through a leader move", async (t) => {
  const mock = await startMock(t, ["orders:3"]);
  if (mock === undefined) return;
  for (let p = 0; p < 3; p++) await mock.leader("orders", p, p + 1);
  const ferry = await startTestBroker();
  t.after(() => ferry.close());
  const source = clusterOf(mock.bootstrap);
  const target = clusterOf(ferry.bootstrap);
  t.after(async () => {
    await source.close();
    await target.close();
  });
  const producer = new Producer(source, { idempotent: true });
  const send = (round: number): Promise<unknown> =>
    producer.send(
      "orders",
      Array.from({ length: 30 }, (_, i) => ({
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`order-${round}-${i}`),
        partition: i % 3,
      })),
      { compression: CompressionCodec.LZ4 },
    );
  await send(0);
  const link = await startTestLink({
    name: "from-mock",
    source: mock.bootstrap,
    target: ferry.bootstrap,
    filters: { topics: "orders" },
  });
  t.after(() => link.stop());
  await send(1);
  await mock.leader("orders", 0, 2);
  await send(2);
  for (let p = 0; p < 3; p++) {
    const end = await endOffset(source, "orders", p);
    assert.equal(end, 30n);
    await waitFor(
      `partition ${p}`,
      async () => (await endOffset(target, "orders", p).catch(() => -1n)) === end,
    );
    const want = (await readRecords(source, "orders", p)).map((r) => [r.offset, r.key, r.value]);
    assert.deepEqual(
      (await readRecords(target, "orders", p)).map((r) => [r.offset, r.key, r.value]),
      want,
    );
  }
  assert.equal(linkStatus(link).topics[0]?.mode, "mirror");
});

test("Ferry → mock cluster: translated copy, and a committed offset maps to the same record (read with kcat)", async (t) => {
  if (!(await requirePeer(t, "kcat", kcat))) return;
  const mock = await startMock(t, ["events:2"]);
  if (mock === undefined) return;
  const ferry = await startTestBroker();
  t.after(() => ferry.close());
  const source = clusterOf(ferry.bootstrap);
  const target = clusterOf(mock.bootstrap);
  t.after(async () => {
    await source.close();
    await target.close();
  });
  await new Admin(source).createTopics([{ name: "events", numPartitions: 2 }]);
  // The mock's partitions already hold records, so target offsets differ from source offsets.
  await new Producer(target).send("events", [
    { value: Buffer.from("mock-own-0"), partition: 0 },
    { value: Buffer.from("mock-own-1"), partition: 1 },
    { value: Buffer.from("mock-own-2"), partition: 1 },
  ]);
  const producer = new Producer(source);
  for (let round = 0; round < 4; round++) {
    await producer.send(
      "events",
      Array.from({ length: 10 }, (_, i) => ({ value: Buffer.from(`ev-${round}-${i}`), partition: i % 2 })),
      {
        compression: CompressionCodec.ZSTD,
      },
    );
  }
  await commitOffsets(source, "readers", [
    { topic: "events", partition: 0, offset: 7n },
    { topic: "events", partition: 1, offset: 13n },
  ]);
  const link = await startTestLink({
    name: "to-mock",
    source: ferry.bootstrap,
    target: mock.bootstrap,
    filters: { topics: "events", groups: "readers" },
  });
  t.after(() => link.stop());
  assert.equal(linkStatus(link).topics[0]?.mode, "translate");
  const kcatRead = async (p: number): Promise<{ offset: bigint; value: string }[]> =>
    (
      await runOk("kcat", [
        "-C",
        "-b",
        mock.bootstrap,
        "-t",
        "events",
        "-p",
        String(p),
        "-o",
        "beginning",
        "-e",
        "-f",
        "%o %s\\n",
      ])
    ).stdout
      .trim()
      .split("\n")
      .map((l) => ({ offset: BigInt(l.slice(0, l.indexOf(" "))), value: l.slice(l.indexOf(" ") + 1) }));
  await waitFor(
    "copied into the mock",
    async () =>
      (await endOffset(target, "events", 0)) === 21n && (await endOffset(target, "events", 1)) === 22n,
  );
  for (const p of [0, 1]) {
    const src = (await readRecords(source, "events", p)).map((r) => r.value);
    const onMock = await kcatRead(p);
    assert.deepEqual(
      onMock.map((r) => r.value).filter((v) => !v.startsWith("mock-own")),
      src,
    );
  }
  const parts = [
    { topic: "events", partition: 0 },
    { topic: "events", partition: 1 },
  ];
  await waitFor(
    () => `group offsets synced into the mock (${JSON.stringify(link.groups)})`,
    async () => {
      const c = await fetchCommittedOffsets(target, "readers", parts).catch(() => []);
      return c.filter((o) => o.offset >= 0n).length === 2;
    },
  );
  for (const c of await fetchCommittedOffsets(target, "readers", parts)) {
    const sourceOffset = c.partition === 0 ? 7n : 13n;
    const srcValue = (await readRecords(source, "events", c.partition)).find(
      (r) => r.offset === sourceOffset,
    )?.value;
    const onMock = (await kcatRead(c.partition)).find((r) => r.offset === c.offset)?.value;
    assert.ok(srcValue !== undefined);
    assert.equal(
      onMock,
      srcValue,
      `partition ${c.partition}: source offset ${sourceOffset} → target ${c.offset}`,
    );
  }
});

test("mock cluster as source: it keeps group offsets outside __consumer_offsets, so the link polls and says why", async (t) => {
  const mock = await startMock(t, ["orders:2"]);
  if (mock === undefined) return;
  const ferry = await startTestBroker();
  t.after(() => ferry.close());
  const source = clusterOf(mock.bootstrap);
  t.after(() => source.close());
  await new Producer(source).send(
    "orders",
    Array.from({ length: 6 }, (_, i) => ({ value: Buffer.from(`o${i}`), partition: i % 2 })),
  );
  const link = await startTestLink({
    name: "mock-groups",
    source: mock.bootstrap,
    target: ferry.bootstrap,
    filters: { topics: "orders", groups: "g.*" },
  });
  // Stopped here, not in an after hook: those run in order, and the mock closes first.
  try {
    await waitFor("the link to fall back to polling", () => link.offsetStream.state === "polling-only");
    const stream = linkStatus(link).groupCommitStream;
    // The mock answers for any topic name with an ordinary empty topic; a Kafka's is internal.
    assert.match(stream.reason ?? "", /__consumer_offsets is not an internal topic/);
    assert.match(
      linkMetricsText([link]),
      /^ferry_link_group_commit_stream_tailing\{link="mock-groups"\} 0$/m,
    );
    // Nor does the mock serve ListGroups, so the polling round cannot find groups: status says so.
    await waitFor(
      "the polling round's error",
      () => linkStatus(link).groupCommitStream.pollError !== undefined,
    );
    assert.match(linkStatus(link).groupCommitStream.pollError ?? "", /UNSUPPORTED_VERSION/);
    // Records are copied all the same.
    const target = clusterOf(ferry.bootstrap);
    t.after(() => target.close());
    for (const p of [0, 1])
      await waitFor(
        `partition ${p}`,
        async () => (await endOffset(target, "orders", p).catch(() => -1n)) === 3n,
      );
  } finally {
    await link.stop();
  }
});
