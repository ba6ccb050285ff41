// Seeded decoder fuzzing in the test suite: mutated frames of every API and version fail
// only with typed ProtocolErrors. bench/fuzz-codec.ts runs the same at a million frames.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Reader } from "../../src/protocol/reader.ts";
import { DecodeError } from "../../src/protocol/errors.ts";
import { decodeRequest } from "../../src/protocol/messages.ts";
import { fixtureCorpus, fuzzDecoders, schemaCorpus } from "./fuzz-frames.ts";

test("mutated frames of every API and version decode or fail with a typed ProtocolError", () => {
  const corpus = [...schemaCorpus(1, 1), ...fixtureCorpus()];
  const outcome = fuzzDecoders(corpus, Number(process.env.FERRY_FUZZ_FRAMES ?? 40_000), 20261121);
  assert.deepEqual(outcome.untyped, [], "untyped exceptions");
  assert.ok(outcome.rejected > 0, "the mutations must reach the error paths");
  assert.ok(outcome.slowestMs < 250, `a decode took ${outcome.slowestMs} ms`);
});

test("a length field that claims 2 GiB fails before allocating", () => {
  const before = process.memoryUsage().arrayBuffers;
  const int32Claim = Buffer.from([0x7f, 0xff, 0xff, 0xff]);
  const varintClaim = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07]);
  assert.throws(() => new Reader(int32Claim).bytes(), DecodeError);
  assert.throws(() => new Reader(int32Claim).arrayLength(), DecodeError);
  assert.throws(() => new Reader(varintClaim).compactBytes(), DecodeError);
  assert.throws(() => new Reader(varintClaim).compactString(), DecodeError);
  assert.throws(() => new Reader(varintClaim).compactArrayLength(), DecodeError);
  // A Produce v8 request (null client id, null transactional id, acks -1, timeout 30 s)
  // whose topic array claims 2^31-1 entries.
  const frame = Buffer.from("0000000800000001ffffffffffff000075307fffffff", "hex");
  assert.throws(() => decodeRequest(frame), DecodeError);
  assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20, "no large allocation");
});
