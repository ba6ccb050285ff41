// The committed codec in src/protocol/generated/ must be exactly what the generator writes
// from the Kafka message specs and Ferry's own (src/protocol/ferry-specs/). Kafka's specs live
// outside the repo, so the full check needs them; Ferry's modules are checked regardless.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { DEFAULT_SPEC_DIR, staleFerryFiles, staleFiles } from "../../scripts/generate-protocol.ts";
import { API_CODECS, ApiKey } from "../../src/protocol/generated/index.ts";

const specDir = DEFAULT_SPEC_DIR;

test("generated modules of Ferry's own message specs are up to date", () => {
  assert.deepEqual(staleFerryFiles(), [], "stale files: run npm run generate");
  assert.equal(ApiKey.FerryMirrorAppend, 32000);
  assert.equal(API_CODECS[ApiKey.FerryMirrorAppend].name, "FerryMirrorAppend");
});

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
