// The short run of bench/fuzz-broker.ts: 30,000 mutated real-client frames against a
// `bin/ferry broker` child process while a well-behaved client produces and consumes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { run } from "../../bench/fuzz-broker.ts";

test("a broker fed 30,000 mutated client frames stays up, logs no error, and keeps serving a good client exactly", async () => {
  const m = await run({ frames: 30_000, connections: 8, seed: 7 });
  // A burst written just as the broker closes that connection fails and is not counted.
  assert.ok((m.framesWritten ?? 0) >= 29_500, `frames written: ${m.framesWritten}`);
  assert.equal(m.brokerAlive, 1, "the broker is still running");
  assert.equal(m.brokerErrorLines, 0, "hostile input is refused with warnings, never an internal error");
  assert.equal(m.goodFailures, 0, "the good client saw no failure");
  assert.ok((m.goodRecordsProduced ?? 0) > 0, "the good client produced throughout");
  assert.equal(m.goodRecordsConsumedLive, m.goodRecordsProduced, "and read everything back as it went");
  assert.equal(m.storedDataExact, 1, "a final read returns exactly what the good client produced");
});
