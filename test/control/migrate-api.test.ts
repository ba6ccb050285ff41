// Migration through a running `ferry up`: `ferry migrate plan|status|cutover LINK --api` use the
// REST routes GET /api/links/LINK/migration and POST /api/links/LINK/cutover. Readiness waits
// for the copy and the group sync; a consumer still in its group on the source blocks the
// cutover (changing nothing); once it left, the cutover loses nothing, stops the link and sets
// the group's offsets on the target exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Admin } from "../../src/client/admin.ts";
import { fetchCommittedOffsets } from "../../src/client/group-offsets.ts";
import { GroupMember } from "../../src/client/group-member.ts";
import type { FailoverReport } from "../../src/control/failover.ts";
import type { MigrationPlan } from "../../src/control/migrate.ts";
import type { ClusterView, LinkSummary } from "../../src/control/views.ts";
import { clusterOf, waitFor } from "../link/link-helpers.ts";
import { ferry, post, recordsIn, startUp } from "./control-process.ts";

const TOPOLOGY = `control:
  port: 0
clusters:
  main: { type: embedded, dataDir: ./main, settings: { num.partitions: 2, group.initial.rebalance.delay.ms: 0 } }
  dr: { type: embedded, dataDir: ./dr }
links:
  main-to-dr:
    source: main
    target: dr
    topics: "orders"
    groups: "billing"
    intervals: { topicsMs: 200, groupsMs: 200, checkpointMs: 200 }
`;

async function bootstrapOf(api: string, cluster: string): Promise<string> {
  return ((await (await fetch(`${api}/api/clusters/${cluster}`)).json()) as ClusterView).bootstrap;
}

async function plan(api: string): Promise<MigrationPlan> {
  const res = await fetch(`${api}/api/links/main-to-dr/migration`);
  assert.equal(res.status, 200);
  return (await res.json()) as MigrationPlan;
}

test("migrate plan, status and cutover through the control plane", { timeout: 120_000 }, async () => {
  const up = await startUp(TOPOLOGY);
  const { api } = up;
  const mainBootstrap = await bootstrapOf(api, "main");
  const main = clusterOf(mainBootstrap);
  const dr = clusterOf(await bootstrapOf(api, "dr"));
  try {
    assert.equal((await fetch(`${api}/api/links/no-such-link/migration`)).status, 404);
    const unknown = await ferry(["migrate", "plan", "no-such-link", "--api", api]);
    assert.equal(unknown.code, 4, unknown.stderr);

    const orders = Array.from({ length: 20 }, (_, i) => `order ${i}`).join("\n") + "\n";
    assert.equal((await ferry(["produce", "main", "orders", "--api", api], orders)).code, 0);
    await new Admin(main).alterOffsets("billing", [
      { topic: "orders", partition: 0, offset: 3n },
      { topic: "orders", partition: 1, offset: 2n },
    ]);
    await waitFor("orders on dr", async () => (await recordsIn(api, "dr", "orders")) === 20);
    await waitFor("the migration to be ready", async () => (await plan(api)).ready);
    const ready = await ferry(["migrate", "plan", "main-to-dr", "--api", api]);
    assert.equal(ready.code, 0, ready.stdout + ready.stderr);
    assert.match(ready.stdout, /READY for cutover/);
    const status = await ferry(["migrate", "status", "main-to-dr", "--api", api]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /main-to-dr: \[#{20}\] 100\.0%, lag 0/);

    // A consumer still reading the source blocks the cutover.
    const member = new GroupMember(clusterOf(mainBootstrap), {
      groupId: "billing",
      topics: ["orders"],
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 200,
    });
    await member.join();
    try {
      const busy = await ferry(["migrate", "plan", "main-to-dr", "--json", "--api", api]);
      assert.equal(busy.code, 1);
      const busyPlan = JSON.parse(busy.stdout) as MigrationPlan;
      assert.equal(busyPlan.consumersStopped, false);
      assert.ok(busyPlan.blockers.some((b) => /group billing still has consumers on the source/.test(b)));
      const refused = await post(api, "/api/links/main-to-dr/cutover");
      assert.equal(refused.status, 409);
      assert.match((refused.body as { error: string }).error, /consumers still read the source/);
      const refusedCli = await ferry(["migrate", "cutover", "main-to-dr", "--api", api]);
      assert.equal(refusedCli.code, 6);
      assert.ok(((await (await fetch(`${api}/api/links`)).json()) as LinkSummary[]).length === 1);
    } finally {
      await member.close();
    }

    await waitFor("the consumer to have left", async () => (await plan(api)).ready);
    const cut = await ferry(["migrate", "cutover", "main-to-dr", "--json", "--api", api]);
    assert.equal(cut.code, 0, cut.stderr);
    const { failover } = JSON.parse(cut.stdout) as { plan: MigrationPlan; failover: FailoverReport };
    assert.equal(failover.rpoRecords, 0);
    assert.deepEqual(failover.promotedTopics, ["orders"]);
    assert.deepEqual(
      failover.groups.map((g) => [g.group, g.partitions.map((p) => [p.partition, p.sourceOffset, p.after])]),
      [
        [
          "billing",
          [
            [0, 3, 3],
            [1, 2, 2],
          ],
        ],
      ],
    );
    const committed = await fetchCommittedOffsets(dr, "billing", [
      { topic: "orders", partition: 0 },
      { topic: "orders", partition: 1 },
    ]);
    assert.deepEqual(
      committed.map((c) => c.offset),
      [3n, 2n],
    );
    const left = (await (await fetch(`${api}/api/links`)).json()) as LinkSummary[];
    assert.deepEqual(left, [], "the cutover stopped the link");
    assert.equal((await ferry(["produce", "dr", "orders", "--api", api], "after cutover\n")).code, 0);
    await waitFor("dr takes writes", async () => (await recordsIn(api, "dr", "orders")) === 21);
  } finally {
    await Promise.allSettled([main.close(), dr.close()]);
    await up.stop();
  }
});
