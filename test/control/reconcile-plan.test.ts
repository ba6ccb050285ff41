// Reconciling one topology into the next: only what changed is touched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { planReconcile } from "../../src/control/reconcile-plan.ts";
import { parseTopology } from "../../src/control/topology.ts";

const base = (linkExtra = "", clusterPort = 0): string => `clusters:
  a: { type: embedded, dataDir: a, port: ${clusterPort} }
  b: { type: embedded, dataDir: b }
links:
  ab: { source: a, target: b${linkExtra} }
  ba: { source: b, target: a, prefix: back. }
`;
const topo = (text: string) => parseTopology(text, "f.yaml", "/x");

test("starting from nothing starts every cluster and link", () => {
  const plan = planReconcile(undefined, topo(base()));
  assert.deepEqual(plan.startClusters, ["a", "b"]);
  assert.deepEqual(plan.startLinks, ["ab", "ba"]);
  assert.deepEqual(plan.stopLinks, []);
});

test("a filter change refilters the link and restarts nothing", () => {
  const plan = planReconcile(topo(base()), topo(base(", topics: orders, groups: app.*")));
  assert.deepEqual(plan.refilterLinks, ["ab"]);
  assert.deepEqual(
    [plan.stopLinks, plan.startLinks, plan.stopClusters, plan.startClusters],
    [[], [], [], []],
  );
  assert.deepEqual(plan.unchangedLinks, ["ba"]);
});

test("a changed prefix restarts only that link", () => {
  const plan = planReconcile(topo(base()), topo(base(", prefix: p.")));
  assert.deepEqual(plan.stopLinks, ["ab"]);
  assert.deepEqual(plan.startLinks, ["ab"]);
  assert.deepEqual(plan.stopClusters, []);
});

test("a changed cluster restarts it and both links that use it", () => {
  const plan = planReconcile(topo(base()), topo(base("", 19092)));
  assert.deepEqual(plan.stopClusters, ["a"]);
  assert.deepEqual(plan.startClusters, ["a"]);
  assert.deepEqual(plan.stopLinks.sort(), ["ab", "ba"]);
  assert.deepEqual(plan.startLinks.sort(), ["ab", "ba"]);
});

test("a removed link stops; pausing in the file repauses without a restart", () => {
  const without = base().replace("  ba: { source: b, target: a, prefix: back. }\n", "");
  assert.deepEqual(planReconcile(topo(base()), topo(without)).stopLinks, ["ba"]);
  const paused = planReconcile(topo(base()), topo(base(", paused: true")));
  assert.deepEqual(paused.repauseLinks, ["ab"]);
  assert.deepEqual(paused.stopLinks, []);
});
