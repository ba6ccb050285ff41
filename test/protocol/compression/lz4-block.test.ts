// The LZ4 block decoder against lz4-napi's encoder: every kind of input decodes back exactly,
// the output limit is honoured, and malformed blocks fail with a DecodeError, never a crash.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { compressSync } from "lz4-napi";
import { decodeLz4Block } from "../../../src/protocol/compression/lz4-block.ts";
import { DecodeError } from "../../../src/protocol/errors.ts";

// lz4-napi prefixes a block with its uncompressed size (4 bytes, little endian).
function block(data: Buffer): Buffer {
  return compressSync(data).subarray(4);
}

function decode(b: Buffer, limit: number): Buffer | null {
  const out = Buffer.alloc(limit);
  const end = decodeLz4Block(b, 0, b.length, out, 0, limit);
  return end < 0 ? null : out.subarray(0, end);
}

const inputs: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  "one byte": Buffer.from("x"),
  random: randomBytes(65536),
  "random hex": Buffer.from(randomBytes(32768).toString("hex")),
  "one byte repeated (overlapping matches)": Buffer.alloc(65536, 7),
  "short period": Buffer.from("abc".repeat(20000)),
  "long literal and match runs": Buffer.concat([randomBytes(5000), Buffer.alloc(5000, 1), randomBytes(300)]),
  text: Buffer.from('{"event":"order","status":"shipped"} '.repeat(1500)),
  // Long overlapping matches whose period is below, at and above the native-copy threshold.
  ...Object.fromEntries(
    [5, 31, 32, 33, 57, 200].map((period) => [
      `random bytes repeated with period ${period}`,
      Buffer.concat([randomBytes(700), Buffer.alloc(20_000).fill(randomBytes(period)), randomBytes(90)]),
    ]),
  ),
};

for (const [name, data] of Object.entries(inputs)) {
  test(`a block of ${name} decodes to exactly its input`, () => {
    assert.deepEqual(decode(block(data), 65536), data);
  });
}

test("decoding after other output keeps match offsets within the block", () => {
  const data = Buffer.from("abcabcabcabc-xyz".repeat(100));
  const b = block(data);
  const out = Buffer.alloc(100 + data.length);
  const end = decodeLz4Block(b, 0, b.length, out, 100, out.length);
  assert.equal(end, out.length);
  assert.deepEqual(out.subarray(100), data);
});

test("output that would pass the limit returns -1", () => {
  const data = Buffer.alloc(1000, 3);
  assert.equal(decode(block(data), 999), null);
});

test("a match offset before the start of the block is a DecodeError", () => {
  // token: 1 literal, match length 4; literal "a"; offset 2 (only 1 byte written so far).
  assert.throws(() => decode(Buffer.from([0x10, 0x61, 0x02, 0x00]), 100), DecodeError);
});

test("truncated and random blocks fail with DecodeError or decode, never anything else", () => {
  const good = block(Buffer.from("hello hello hello hello hello world ".repeat(50)));
  for (let cut = 1; cut < good.length; cut++) {
    try {
      decode(good.subarray(0, cut), 65536);
    } catch (e) {
      assert.ok(e instanceof DecodeError, String(e));
    }
  }
  for (let i = 0; i < 2000; i++) {
    try {
      decode(randomBytes(1 + (i % 64)), 4096);
    } catch (e) {
      assert.ok(e instanceof DecodeError, String(e));
    }
  }
});
