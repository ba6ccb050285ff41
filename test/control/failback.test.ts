// Failback directly against clusters, for the links that rename or translate: a prefixed mirror
// link (the reverse strips the prefix again, round trip included), a translation-mode link
// (divergence found through its offset map, the copy back translated, committed offsets exact in
// both directions), and a mirror link from a non-Ferry Kafka (librdkafka's mock cluster) that
// can only be copied back by translation. Records written to the old primary after its link
// stopped are the ones that diverge.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { Admin } from "../../src/client/admin.ts";
import type { Cluster } from "../../src/client/cluster.ts";
import { fetchCommittedOffsets } from "../../src/client/group-offsets.ts";
import { Producer } from "../../src/client/producer.ts";
import { failback } from "../../src/control/failback.ts";
import { failover } from "../../src/control/failover.ts";
import { LinkStateError } from "../../src/control/failover-state.ts";
import type { Link, LinkOptions } from "../../src/link/link.ts";
import { startTestBroker } from "../compat/broker-harness.ts";
import { mockClusterBuilds, startMockCluster } from "../helpers/mock-cluster.ts";
import { requirePeer } from "../helpers/peers.ts";
import { clusterOf, endOffset, readRecords, startTestLink, waitFor } from "../link/link-helpers.ts";

async function produce(cluster: Cluster, topic: string, partition: number, values: string[]): Promise<void> {
  const producer = new Producer(cluster, { acks: -1, idempotent: true });
  await producer.send(
    topic,
    values.map((v) => ({ value: Buffer.from(v) })),
    { partition },
  );
  await producer.close();
}

async function valuesOf(cluster: Cluster, topic: string, partition: number): Promise<string[]> {
  return (await readRecords(cluster, topic, partition)).map((r) => r.value ?? "");
}

/** Starts a link and stops it when the test ends (stopping twice is harmless). */
async function linkFor(t: TestContext, options: Omit<LinkOptions, "logger">): Promise<Link> {
  const link = await startTestLink(options);
  t.after(() => link.stop());
  return link;
}

/** Waits until every replica of the link has copied to the source's end. */
async function caughtUp(link: Link, partitions: number): Promise<void> {
  await waitFor(
    `${link.name} to catch up`,
    () => link.replicas.length === partitions && link.replicas.every((r) => r.ready && r.lag === 0),
  );
}

test(
  "a prefixed mirror link fails back: diverged records kept, the reverse strips the prefix, and the round trip restarts the link",
  { timeout: 60_000 },
  async (t) => {
    const [a, b] = await Promise.all([startTestBroker(), startTestBroker()]);
    t.after(() => Promise.all([a.close(), b.close()]));
    const [srcA, srcB] = [clusterOf(a.bootstrap), clusterOf(b.bootstrap)];
    t.after(() => Promise.all([srcA.close(), srcB.close()]));
    await new Admin(srcA).createTopics([{ name: "orders", numPartitions: 2, replicationFactor: -1 }]);
    for (const p of [0, 1]) await produce(srcA, "orders", p, ["a0", "a1", "a2", "a3", "a4"]);
    const link = await linkFor(t, {
      name: "a-to-b",
      source: a.bootstrap,
      target: b.bootstrap,
      prefix: "a.",
      filters: { topics: "orders" },
    });
    await caughtUp(link, 2);
    // The link stops: what the old primary takes next never reaches the target.
    await link.stop();
    await produce(srcA, "orders", 0, ["lost0", "lost1", "lost2"]);
    const report = await failover({
      link: "a-to-b",
      target: b.bootstrap,
      source: a.bootstrap,
      force: true,
    });
    assert.equal(report.rpoRecords, 3);
    assert.deepEqual(report.promotedTopics, ["a.orders"]);
    await produce(srcB, "a.orders", 1, ["b0", "b1"]);

    const fb = await failback({ link: "a-to-b", oldPrimary: a.bootstrap, current: b.bootstrap });
    assert.equal(fb.divergedRecords, 3);
    assert.equal(fb.divergedKept, true);
    assert.deepEqual(fb.reverseLink, {
      name: "a-to-b.reverse",
      source: b.bootstrap,
      target: a.bootstrap,
      topics: "a\\.orders",
      prefix: "",
      stripPrefix: "a.",
      mode: "mirror",
    });
    assert.deepEqual(fb.recreatedTopics, ["orders"]);
    assert.deepEqual(
      fb.partitions.map((p) => [
        p.topic,
        p.currentTopic,
        p.partition,
        p.divergencePoint,
        p.oldEnd,
        p.keptRecords,
      ]),
      [
        ["orders", "a.orders", 0, 5, 8, 3],
        ["orders", "a.orders", 1, 5, 5, 0],
      ],
    );
    const side = await readRecords(srcB, "ferry-diverged.a-to-b.orders", 0);
    assert.deepEqual(
      side.map((r) => [r.value, (JSON.parse(r.headers) as string[][]).at(-1)]),
      [
        ["lost0", ["ferry.diverged.offset", "5"]],
        ["lost1", ["ferry.diverged.offset", "6"]],
        ["lost2", ["ferry.diverged.offset", "7"]],
      ],
    );
    // Failing back again changes nothing: it hands back the same reverse link (to run it again).
    const again = await failback({ link: "a-to-b", oldPrimary: a.bootstrap, current: b.bootstrap });
    assert.deepEqual([again.resumed, again.preparedAt, again.divergedRecords], [true, fb.preparedAt, 3]);
    assert.deepEqual(again.reverseLink, fb.reverseLink);
    assert.equal((await readRecords(srcB, "ferry-diverged.a-to-b.orders", 0)).length, 3);

    const reverse = await linkFor(t, {
      name: fb.reverseLink.name,
      source: fb.reverseLink.source,
      target: fb.reverseLink.target,
      filters: { topics: fb.reverseLink.topics },
      prefix: fb.reverseLink.prefix,
      stripPrefix: fb.reverseLink.stripPrefix,
      mode: fb.reverseLink.mode,
    });
    for (const p of [0, 1]) {
      const want = await valuesOf(srcB, "a.orders", p);
      await waitFor(
        `orders-${p} copied back`,
        async () => (await endOffset(srcA, "orders", p)) === BigInt(want.length),
      );
      assert.deepEqual(await valuesOf(srcA, "orders", p), want);
    }
    assert.deepEqual(await valuesOf(srcA, "orders", 1), ["a0", "a1", "a2", "a3", "a4", "b0", "b1"]);

    // Planned switch back, then failback of the reverse: the original link runs again.
    const back = await failover({
      link: fb.reverseLink.name,
      target: a.bootstrap,
      source: b.bootstrap,
      stopLink: () => reverse.stop(),
    });
    assert.equal(back.rpoRecords, 0);
    assert.deepEqual(back.promotedTopics, ["orders"]);
    await assert.rejects(
      failback({ link: "a-to-b", oldPrimary: a.bootstrap, current: b.bootstrap }),
      (e: Error) => e instanceof LinkStateError && /the switch back is done/.test(e.message),
    );
    const fb2 = await failback({ link: fb.reverseLink.name, oldPrimary: b.bootstrap, current: a.bootstrap });
    assert.equal(fb2.divergedRecords, 0);
    assert.deepEqual(fb2.remirroredTopics, ["a.orders"]);
    assert.deepEqual(
      [fb2.reverseLink.name, fb2.reverseLink.prefix, fb2.reverseLink.stripPrefix, fb2.reverseLink.topics],
      ["a-to-b", "a.", "", "orders"],
    );
    const restarted = await linkFor(t, {
      name: "a-to-b",
      source: a.bootstrap,
      target: b.bootstrap,
      prefix: "a.",
      filters: { topics: "orders" },
    });
    await produce(srcA, "orders", 1, ["a5"]);
    await waitFor("the restarted link to copy", async () => (await endOffset(srcB, "a.orders", 1)) === 8n);
    assert.deepEqual(await valuesOf(srcB, "a.orders", 1), await valuesOf(srcA, "orders", 1));
    await restarted.stop();
  },
);

test(
  "a translation-mode link fails back through its offset map; the copy back is translated and group offsets stay exact",
  { timeout: 60_000 },
  async (t) => {
    const [a, b] = await Promise.all([startTestBroker(), startTestBroker()]);
    t.after(() => Promise.all([a.close(), b.close()]));
    const [srcA, srcB] = [clusterOf(a.bootstrap), clusterOf(b.bootstrap)];
    t.after(() => Promise.all([srcA.close(), srcB.close()]));
    await new Admin(srcA).createTopics([{ name: "orders", numPartitions: 2, replicationFactor: -1 }]);
    // The target's partition 0 holds records of its own, so the two sides' offsets differ.
    await new Admin(srcB).createTopics([{ name: "orders", numPartitions: 2, replicationFactor: -1 }]);
    await produce(srcB, "orders", 0, ["b-own0", "b-own1", "b-own2"]);
    const ten = (p: number): string[] => Array.from({ length: 10 }, (_, i) => `a${p}-${i}`);
    for (const p of [0, 1]) await produce(srcA, "orders", p, ten(p));
    const link = await linkFor(t, {
      name: "a-to-b",
      source: a.bootstrap,
      target: b.bootstrap,
      mode: "translate",
      filters: { topics: "orders" },
    });
    await caughtUp(link, 2);
    // The link stops: what the old primary takes next never reaches the target.
    await link.stop();
    await produce(srcA, "orders", 0, ["lost0", "lost1", "lost2", "lost3", "lost4"]);
    const report = await failover({
      link: "a-to-b",
      target: b.bootstrap,
      source: a.bootstrap,
      force: true,
    });
    assert.equal(report.rpoRecords, 5);
    assert.deepEqual(report.promotedTopics, []);
    await produce(srcB, "orders", 0, ["b-new0", "b-new1", "b-new2", "b-new3"]);
    await produce(srcB, "orders", 1, ["b-new0", "b-new1"]);

    const fb = await failback({ link: "a-to-b", oldPrimary: a.bootstrap, current: b.bootstrap });
    assert.equal(fb.divergedKept, true);
    assert.equal(fb.divergedRecords, 5);
    assert.deepEqual(fb.translatedTopics, ["orders"]);
    assert.equal(fb.reverseLink.mode, "translate");
    assert.deepEqual(
      fb.partitions.map((p) => [
        p.partition,
        p.reverseMode,
        p.divergencePoint,
        p.lastReplicatedOffset,
        p.currentFrom,
        p.oldEnd,
        p.keptRecords,
      ]),
      [
        [0, "translate", 10, 9, 13, 15, 5],
        [1, "translate", 10, 9, 10, 10, 0],
      ],
    );
    assert.deepEqual((await valuesOf(srcB, "ferry-diverged.a-to-b.orders", 0)).sort(), [
      "lost0",
      "lost1",
      "lost2",
      "lost3",
      "lost4",
    ]);

    const reverse = await linkFor(t, {
      name: fb.reverseLink.name,
      source: b.bootstrap,
      target: a.bootstrap,
      filters: { topics: fb.reverseLink.topics },
      mode: fb.reverseLink.mode,
    });
    await waitFor("the copy back", async () => (await endOffset(srcA, "orders", 0)) === 19n);
    await waitFor("the copy back of partition 1", async () => (await endOffset(srcA, "orders", 1)) === 12n);
    // The old primary keeps its diverged records in place; the current primary's own follow them.
    assert.deepEqual(await valuesOf(srcA, "orders", 0), [
      ...ten(0),
      ...["lost0", "lost1", "lost2", "lost3", "lost4"],
      ...["b-new0", "b-new1", "b-new2", "b-new3"],
    ]);
    assert.deepEqual(await valuesOf(srcA, "orders", 1), [...ten(1), "b-new0", "b-new1"]);

    // A group that read part of the copied history and part of the new records on the current primary.
    await new Admin(srcB).alterOffsets("billing", [
      { topic: "orders", partition: 0, offset: 5n }, // "a0-2" (B offset 5 = A offset 2)
      { topic: "orders", partition: 1, offset: 11n }, // "b-new1" (B offset 11 = A offset 11)
    ]);
    const back = await failover({
      link: fb.reverseLink.name,
      target: a.bootstrap,
      source: b.bootstrap,
      groups: (g) => g === "billing",
      stopLink: () => reverse.stop(),
    });
    assert.equal(back.rpoRecords, 0);
    const offsets = await fetchCommittedOffsets(srcA, "billing", [
      { topic: "orders", partition: 0 },
      { topic: "orders", partition: 1 },
    ]);
    assert.deepEqual(
      offsets.map((o) => o.offset),
      [2n, 11n],
    );
    assert.equal((await valuesOf(srcA, "orders", 0))[2], (await valuesOf(srcB, "orders", 0))[5]);
    assert.equal((await valuesOf(srcA, "orders", 1))[11], (await valuesOf(srcB, "orders", 1))[11]);
  },
);

test(
  "a mirror link from a non-Ferry Kafka (librdkafka's mock) fails back by translation into it",
  { timeout: 60_000 },
  async (t) => {
    if (!(await requirePeer(t, "librdkafka mock cluster", mockClusterBuilds))) return;
    const mock = await startMockCluster({ brokers: 1, topics: ["orders:1"] });
    t.after(() => mock.close());
    const b = await startTestBroker();
    t.after(() => b.close());
    const [srcA, srcB] = [clusterOf(mock.bootstrap), clusterOf(b.bootstrap)];
    t.after(() => Promise.all([srcA.close(), srcB.close()]));
    await produce(srcA, "orders", 0, ["m0", "m1", "m2", "m3"]);
    const link = await linkFor(t, {
      name: "mock-to-b",
      source: mock.bootstrap,
      target: b.bootstrap,
      filters: { topics: "orders" },
    });
    await caughtUp(link, 1);
    // The link stops: what the old primary takes next never reaches the target.
    await link.stop();
    await produce(srcA, "orders", 0, ["lost0", "lost1"]);
    const report = await failover({
      link: "mock-to-b",
      target: b.bootstrap,
      source: mock.bootstrap,
      force: true,
    });
    assert.equal(report.rpoRecords, 2);
    assert.deepEqual(report.promotedTopics, ["orders"]);
    await produce(srcB, "orders", 0, ["b0", "b1", "b2"]);

    const fb = await failback({ link: "mock-to-b", oldPrimary: mock.bootstrap, current: b.bootstrap });
    assert.equal(fb.divergedKept, true);
    assert.equal(fb.divergedRecords, 2);
    assert.deepEqual(
      fb.partitions.map((p) => [p.mode, p.reverseMode, p.divergencePoint, p.currentFrom, p.oldEnd]),
      [["mirror", "translate", 4, 4, 6]],
    );
    assert.deepEqual(await valuesOf(srcB, "ferry-diverged.mock-to-b.orders", 0), ["lost0", "lost1"]);
    const reverse = await linkFor(t, {
      name: fb.reverseLink.name,
      source: b.bootstrap,
      target: mock.bootstrap,
      filters: { topics: fb.reverseLink.topics },
      mode: fb.reverseLink.mode,
    });
    await waitFor("the copy back into the mock", async () => (await endOffset(srcA, "orders", 0)) === 9n);
    assert.deepEqual(await valuesOf(srcA, "orders", 0), [
      "m0",
      "m1",
      "m2",
      "m3",
      "lost0",
      "lost1",
      "b0",
      "b1",
      "b2",
    ]);
    await new Admin(srcB).alterOffsets("billing", [{ topic: "orders", partition: 0, offset: 5n }]);
    const back = await failover({
      link: fb.reverseLink.name,
      target: mock.bootstrap,
      source: b.bootstrap,
      groups: (g) => g === "billing",
      stopLink: () => reverse.stop(),
    });
    assert.equal(back.rpoRecords, 0);
    // B offset 5 ("b1") is the mock's offset 7.
    const [committed] = await fetchCommittedOffsets(srcA, "billing", [{ topic: "orders", partition: 0 }]);
    assert.equal(committed?.offset, 7n);
  },
);
