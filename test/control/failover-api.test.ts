// Failover through a running `ferry up`: the CLI's `ferry failover LINK --api` goes to the REST
// route, which stops the link, promotes the mirror topic and reports the RPO; a second
// failover of the same link is refused; bad command lines exit 2.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FailoverReport } from "../../src/control/failover.ts";
import { waitFor } from "../link/link-helpers.ts";
import { ferry, recordsIn as records, startUp } from "./control-process.ts";

const TOPOLOGY = `control:
  port: 0
clusters:
  main: { type: embedded, dataDir: ./main }
  dr: { type: embedded, dataDir: ./dr }
links:
  main-to-dr:
    source: main
    target: dr
    topics: "orders"
    intervals: { topicsMs: 200, checkpointMs: 200 }
`;

test("bad failover command lines exit 2 and name the problem", async () => {
  const none = await ferry(["failover"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /expected LINK/);
  const unknown = await ferry(["failover", "x", "--bogus"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown option '--bogus'/);
  const help = await ferry(["failover", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: ferry failover LINK/);
});

test("ferry failover through the control plane promotes the mirror, reports RPO 0, and refuses a second time", async () => {
  const up = await startUp(TOPOLOGY);
  try {
    const api = up.api;
    const lines = Array.from({ length: 30 }, (_, i) => `k${i}:order ${i}`).join("\n");
    const produced = await ferry(["produce", "main", "orders", "-K", ":", "--api", api], lines);
    assert.equal(produced.code, 0, produced.stderr);
    await waitFor("orders on dr", async () => (await records(api, "dr", "orders")) === 30);

    // A mirror topic refuses clients until failover promotes it.
    const before = await ferry(["produce", "dr", "orders", "--api", api], "too early\n");
    assert.notEqual(before.code, 0, "a mirror topic is read-only");

    const run = await ferry(["failover", "main-to-dr", "--json", "--api", api]);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as FailoverReport;
    assert.equal(report.link, "main-to-dr");
    assert.equal(report.sourceReachable, true);
    assert.equal(report.rpoRecords, 0, "a planned failover loses nothing");
    assert.deepEqual(report.promotedTopics, ["orders"]);
    assert.deepEqual(
      report.partitions.map((p) => [p.sourceTopic, p.replicatedEnd, p.sourceEnd]),
      report.partitions.map((p) => ["orders", p.sourceEnd, p.sourceEnd]),
      "every partition replicated to the source's end",
    );
    assert.equal(
      report.partitions.reduce((n, p) => n + p.replicatedEnd, 0),
      30,
    );

    const after = await ferry(["produce", "dr", "orders", "--api", api], "after failover\n");
    assert.equal(after.code, 0, after.stderr);
    await waitFor("the promoted topic takes writes", async () => (await records(api, "dr", "orders")) === 31);

    const again = await fetch(`${api}/api/links/main-to-dr/failover`, { method: "POST" });
    assert.ok(again.status === 404 || again.status === 409, `a second failover answered ${again.status}`);
    const unknown = await fetch(`${api}/api/links/no-such-link/failover`, { method: "POST" });
    assert.equal(unknown.status, 404);
  } finally {
    await up.stop();
  }
});
