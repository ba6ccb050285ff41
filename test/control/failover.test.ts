// Failover and migration directly against clusters (no control plane): a mirror link between
// two Ferry brokers, a group on the source, then readiness, a zero-loss cutover, and a second
// failover refused by the link's state.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Admin } from "../../src/client/admin.ts";
import { fetchCommittedOffsets } from "../../src/client/group-offsets.ts";
import { Producer } from "../../src/client/producer.ts";
import { failover } from "../../src/control/failover.ts";
import { LinkStateError } from "../../src/control/failover-state.ts";
import { cutover, migrationPlan } from "../../src/control/migrate.ts";
import type { Link } from "../../src/link/link.ts";
import { startTestBroker, type TestBroker } from "../compat/broker-harness.ts";
import { clusterOf, startTestLink, waitFor } from "../link/link-helpers.ts";

describe("failover and migration against clusters", { timeout: 60_000 }, () => {
  let a: TestBroker;
  let b: TestBroker;
  let link: Link;
  before(async () => {
    [a, b] = await Promise.all([startTestBroker(), startTestBroker()]);
    const src = clusterOf(a.bootstrap);
    await new Admin(src).createTopics([{ name: "orders", numPartitions: 2, replicationFactor: -1 }]);
    const producer = new Producer(src, { acks: -1, idempotent: true });
    for (let i = 0; i < 20; i++)
      await producer.send("orders", [{ value: Buffer.from(String(i)) }], { partition: i % 2 });
    await new Admin(src).alterOffsets("billing", [
      { topic: "orders", partition: 0, offset: 7n },
      { topic: "orders", partition: 1, offset: 3n },
    ]);
    await src.close();
    link = await startTestLink({
      name: "a-to-b",
      source: a.bootstrap,
      target: b.bootstrap,
      filters: { groups: "billing" },
    });
  });
  after(async () => {
    await link.stop();
    await Promise.all([a.close(), b.close()]);
  });

  test("migrate plan reports readiness once the copy and the group sync have caught up", async () => {
    await waitFor(
      "the plan to be ready",
      async () => (await migrationPlan({ link: "a-to-b", source: a.bootstrap, target: b.bootstrap })).ready,
    );
    const plan = await migrationPlan({ link: "a-to-b", source: a.bootstrap, target: b.bootstrap });
    assert.equal(plan.lag, 0);
    assert.deepEqual(
      plan.groups.map((g) => [g.group, g.inSync]),
      [["billing", 2]],
    );
  });

  test("cutover loses nothing, promotes the mirror and sets group offsets exactly", async () => {
    const src = clusterOf(a.bootstrap);
    await new Admin(src).alterOffsets("billing", [{ topic: "orders", partition: 0, offset: 9n }]);
    await src.close();
    const { failover: r } = await cutover({
      link: "a-to-b",
      source: a.bootstrap,
      target: b.bootstrap,
      waitTimeoutMs: 10_000,
    });
    assert.equal(r.rpoRecords, 0);
    assert.deepEqual(r.promotedTopics, ["orders"]);
    assert.deepEqual(
      r.partitions.map((p) => [p.partition, p.lastReplicatedOffset, p.notReplicated]),
      [
        [0, 9, 0],
        [1, 9, 0],
      ],
    );
    const tgt = clusterOf(b.bootstrap);
    const offsets = await fetchCommittedOffsets(tgt, "billing", [
      { topic: "orders", partition: 0 },
      { topic: "orders", partition: 1 },
    ]);
    assert.deepEqual(
      offsets.map((o) => o.offset),
      [9n, 3n],
    );
    // The promoted topic takes writes.
    const [res] = await new Producer(tgt, { acks: -1 }).send("orders", [{ value: Buffer.from("new") }], {
      partition: 0,
    });
    assert.equal(res?.baseOffset, 10n);
    await tgt.close();
  });

  test("a second failover of the same link is refused by its state, changing nothing", async () => {
    await assert.rejects(failover({ link: "a-to-b", target: b.bootstrap, force: true }), LinkStateError);
  });
});
