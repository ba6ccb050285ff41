// Crash safety in npm test: a few SIGKILLs of a real `ferry broker` process under an
// acks=all idempotent producer. bench/broker-crash.ts runs the same drill with 20+ kills.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runCrashDrill } from "./crash-harness.ts";

test("after kill -9 at random moments every acknowledged record is stored once, in order, and commits survive", async () => {
  const r = await runCrashDrill({ kills: 3, minMs: 150, maxMs: 600, seed: 7 });
  assert.equal(r.kills, 3);
  assert.ok(r.acknowledgedRecords > 0, "the producer got acknowledgements");
  assert.equal(r.missing, 0, "acknowledged records missing");
  assert.equal(r.duplicates, 0, "records stored twice");
  assert.equal(r.outOfOrder, 0, "records out of order");
  assert.equal(r.commitMismatches, 0, "acknowledged commits lost");
});
