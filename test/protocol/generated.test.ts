// The committed codec in src/protocol/generated/ must be exactly what the generator writes
// from the Kafka message specs; the specs live outside the repo, so this needs them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { DEFAULT_SPEC_DIR, staleFiles } from "../../scripts/generate-protocol.ts";

const specDir = DEFAULT_SPEC_DIR;

test("generated codec is up to date with the Kafka message specs", (t) => {
  if (!existsSync(specDir)) {
    const why = `Kafka message specs not found at ${specDir} (set FERRY_KAFKA_SPECS)`;
    if (process.env.CI === "true") assert.fail(`${why}: CI must check generator staleness`);
    console.warn(`\n*** SKIPPED generator staleness check: ${why} ***\n`);
    t.skip(why);
    return;
  }
  assert.deepEqual(staleFiles(specDir), [], "stale files: run npm run generate");
});
