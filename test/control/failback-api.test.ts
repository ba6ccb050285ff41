// Failback through a running `ferry up`: a failover through REST, the old primary taking writes
// the new one never gets, then failback through REST (the diverged records go to the side
// topic, the reverse link runs in the control plane and the old primary catches up), a planned
// switch back and the failback of the reverse link through the CLI's --api form, which starts
// the file's link again. Errors: an unknown link, and a failback without a failover.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FailbackReport } from "../../src/control/failback.ts";
import type { FailoverReport } from "../../src/control/failover.ts";
import type { LinkSummary } from "../../src/control/views.ts";
import { waitFor } from "../link/link-helpers.ts";
import { ferry, post, recordsIn, startUp, valuesIn } from "./control-process.ts";

const TOPOLOGY = `control:
  port: 0
clusters:
  main: { type: embedded, dataDir: ./main, settings: { num.partitions: 1 } }
  dr: { type: embedded, dataDir: ./dr, settings: { num.partitions: 1 } }
links:
  main-to-dr:
    source: main
    target: dr
    topics: "orders"
    intervals: { topicsMs: 200, checkpointMs: 200 }
`;

const lines = (prefix: string, n: number): string =>
  Array.from({ length: n }, (_, i) => `${prefix} ${i}`).join("\n") + "\n";

async function links(api: string): Promise<LinkSummary[]> {
  return (await (await fetch(`${api}/api/links`)).json()) as LinkSummary[];
}

test(
  "failback through the control plane keeps diverged records, runs the reverse link, and a round trip restarts the link",
  { timeout: 120_000 },
  async () => {
    const up = await startUp(TOPOLOGY);
    const { api } = up;
    try {
      const unknown = await post(api, "/api/links/no-such-link/failback");
      assert.equal(unknown.status, 404);
      const unknownCli = await ferry(["failback", "no-such-link", "--api", api]);
      assert.equal(unknownCli.code, 4, unknownCli.stderr);

      const early = await post(api, "/api/links/main-to-dr/failback");
      assert.equal(early.status, 409);
      assert.match(
        (early.body as { error: string }).error,
        /has not been failed over; there is nothing to fail back/,
      );
      const earlyCli = await ferry(["failback", "main-to-dr", "--api", api]);
      assert.equal(earlyCli.code, 6);
      assert.match(earlyCli.stderr, /has not been failed over/);

      assert.equal((await ferry(["produce", "main", "orders", "--api", api], lines("order", 30))).code, 0);
      await waitFor("orders on dr", async () => (await recordsIn(api, "dr", "orders")) === 30);
      const failover = await post(api, "/api/links/main-to-dr/failover");
      assert.equal(failover.status, 200, JSON.stringify(failover.body));
      assert.equal((failover.body as FailoverReport).rpoRecords, 0);

      // Applications that did not move keep writing to the old primary; the new one takes writes too.
      assert.equal((await ferry(["produce", "main", "orders", "--api", api], lines("late", 5))).code, 0);
      assert.equal((await ferry(["produce", "dr", "orders", "--api", api], lines("dr", 10))).code, 0);

      const res = await post(api, "/api/links/main-to-dr/failback");
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const report = res.body as FailbackReport;
      assert.equal(report.divergedRecords, 5);
      assert.equal(report.divergedKept, true);
      assert.deepEqual(report.recreatedTopics, ["orders"]);
      assert.equal(report.reverseLink.name, "main-to-dr.reverse");
      assert.deepEqual(
        report.partitions.map((p) => [p.topic, p.divergencePoint, p.oldEnd, p.keptRecords, p.sideTopic]),
        [["orders", 30, 35, 5, "ferry-diverged.main-to-dr.orders"]],
      );
      assert.deepEqual(
        await valuesIn(api, "dr", "ferry-diverged.main-to-dr.orders"),
        lines("late", 5).trim().split("\n"),
      );

      // The reverse link runs in the control plane; the old primary catches up with the new one.
      const reverse = (await links(api)).find((l) => l.name === "main-to-dr.reverse");
      assert.ok(reverse !== undefined, "the reverse link is one of the control plane's links");
      assert.deepEqual([reverse.source, reverse.target], ["dr", "main"]);
      await waitFor("main to catch up", async () => (await recordsIn(api, "main", "orders")) === 40);
      assert.deepEqual(await valuesIn(api, "main", "orders"), await valuesIn(api, "dr", "orders"));

      // Failing back again (as after a restart of `ferry up`) changes nothing and keeps the reverse link running.
      const twice = await post(api, "/api/links/main-to-dr/failback");
      assert.equal(twice.status, 200, JSON.stringify(twice.body));
      assert.equal((twice.body as FailbackReport).resumed, true);
      assert.equal(await recordsIn(api, "dr", "ferry-diverged.main-to-dr.orders"), 5);
      assert.equal((await links(api)).filter((l) => l.name === "main-to-dr.reverse").length, 1);

      // A planned switch back, then failback of the reverse link through the CLI.
      const back = await ferry(["failover", "main-to-dr.reverse", "--json", "--api", api]);
      assert.equal(back.code, 0, back.stderr);
      assert.equal((JSON.parse(back.stdout) as FailoverReport).rpoRecords, 0);
      const done = await post(api, "/api/links/main-to-dr/failback");
      assert.equal(done.status, 409);
      assert.match((done.body as { error: string }).error, /the switch back is done/);
      const home = await ferry(["failback", "main-to-dr.reverse", "--json", "--api", api]);
      assert.equal(home.code, 0, home.stderr);
      const homeReport = JSON.parse(home.stdout) as FailbackReport;
      assert.equal(homeReport.divergedRecords, 0);
      assert.equal(homeReport.reverseLink.name, "main-to-dr");
      await waitFor("main-to-dr running again", async () =>
        (await links(api)).some((l) => l.name === "main-to-dr" && l.state === "running"),
      );
      assert.equal((await ferry(["produce", "main", "orders", "--api", api], "home again\n")).code, 0);
      await waitFor("the restarted link to copy", async () => (await recordsIn(api, "dr", "orders")) === 41);
    } finally {
      await up.stop();
    }
  },
);
