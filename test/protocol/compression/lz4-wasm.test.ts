// Ferry's LZ4 compressor (native/lz4-compress.c, built to WebAssembly): frames it writes decode
// to the input with an outside decoder (lz4-napi's lz4_flex) and with ours, for the shapes
// that exercise the block format's edges, and the committed module is what clang builds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { decompressFrameSync } from "lz4-napi";
import { lz4Compress, lz4Decompress } from "../../../src/protocol/compression/lz4.ts";
import { clangProblem, staleWasmFiles } from "../../../scripts/build-wasm.ts";

const MAX = 64 << 20;

function roundTrips(data: Buffer, what: string): Buffer {
  const frame = lz4Compress(data);
  assert.ok(decompressFrameSync(frame).equals(data), `${what}: lz4_flex decodes the frame to the input`);
  assert.ok(lz4Decompress(frame, MAX).equals(data), `${what}: our decoder does too`);
  return frame;
}

/** Block sizes and stored/compressed flags of a frame written with Kafka's framing. */
function blocks(frame: Buffer): { size: number; raw: boolean }[] {
  const out: { size: number; raw: boolean }[] = [];
  for (let at = 7; ;) {
    const word = frame.readUInt32LE(at);
    if (word === 0) return out;
    const size = word & 0x7fffffff;
    out.push({ size, raw: (word & 0x80000000) !== 0 });
    at += 4 + size;
  }
}

const hex = (n: number): Buffer =>
  Buffer.from(
    randomBytes(Math.ceil(n / 2))
      .toString("hex")
      .slice(0, n),
  );

test("inputs at the block format's edges round-trip", () => {
  const cases: [string, Buffer][] = [
    ["empty", Buffer.alloc(0)],
    ["one byte", Buffer.from("x")],
    ["12 bytes (too short for any match)", Buffer.from("abcabcabcabc")],
    ["13 bytes (the shortest input a match may start in)", Buffer.from("abcdabcdabcda")],
    ["matches ending 5 bytes before the end", Buffer.from("0123456789".repeat(7) + "xyzuv")],
    ["exactly one 64 KiB block", Buffer.alloc(65536, "a")],
    ["one byte over a block", Buffer.alloc(65537, "b")],
    ["a literal run longer than 15 + 255 + 255", Buffer.concat([hex(600), Buffer.alloc(300, "z")])],
    ["a match longer than 4 + 15 + 255 * 3", Buffer.concat([Buffer.from("head"), Buffer.alloc(2000, 0)])],
    ["hex text", hex(200_000)],
    ["random bytes", randomBytes(150_000)],
    ["text repeated at distances near 64 KiB", Buffer.concat([hex(65000), hex(500), hex(65000)])],
  ];
  for (const [what, data] of cases) roundTrips(data, what);
});

test("compressible blocks shrink, incompressible ones are stored raw, as Java frames them", () => {
  const zeros = roundTrips(Buffer.alloc(3 * 65536), "zeros");
  assert.deepEqual(
    blocks(zeros).map((b) => b.raw),
    [false, false, false],
  );
  assert.ok(zeros.length < 1000, `3 blocks of zeros compress to ${zeros.length} bytes`);
  const noise = roundTrips(randomBytes(2 * 65536 + 10), "random");
  assert.deepEqual(blocks(noise), [
    { size: 65536, raw: true },
    { size: 65536, raw: true },
    { size: 10, raw: true },
  ]);
  const text = Buffer.from('{"event":"order","status":"shipped","region":"eu-west"} '.repeat(2000));
  const frame = roundTrips(text, "json text");
  assert.ok(
    frame.length < text.length / 20,
    `${text.length} bytes of repeated JSON compress to ${frame.length}`,
  );
});

test("room in front of the frame is left to the caller", () => {
  const data = hex(70_000);
  const withRoom = lz4Compress(data, 61);
  assert.ok(withRoom.subarray(61).equals(lz4Compress(data)));
});

test("one input larger than the compressor keeps, then small ones, all round-trip", () => {
  // 12 MiB of output area is over what an instance keeps; the next call starts a fresh one.
  const big = Buffer.concat([randomBytes(6 << 20), Buffer.alloc(6 << 20, 7)]);
  roundTrips(big, "12 MiB");
  roundTrips(Buffer.from("small after big ".repeat(50)), "small");
});

test("arbitrary inputs with repeats round-trip (property)", () => {
  const piece = fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 300 }),
    fc.record({ byte: fc.integer({ min: 0, max: 255 }), length: fc.integer({ min: 1, max: 2000 }) }),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 40 }), fc.integer({ min: 0, max: 5 }), (pieces, copies) => {
      const parts = pieces.map((p) =>
        p instanceof Uint8Array ? Buffer.from(p) : Buffer.alloc(p.length, p.byte),
      );
      // Repeat the whole input, so matches at every distance and across block ends occur.
      const unit = Buffer.concat(parts);
      const data = Buffer.concat(Array.from({ length: copies + 1 }, () => unit));
      roundTrips(data, `${data.length} bytes`);
    }),
    { numRuns: 300 },
  );
});

test("the committed WebAssembly module is what clang builds from native/lz4-compress.c", (t) => {
  const problem = clangProblem();
  if (problem !== null) {
    if (process.env.CI === "true") assert.fail(`${problem}: CI must check the WebAssembly build`);
    console.warn(`\n*** SKIPPED WebAssembly staleness check: ${problem} ***\n`);
    t.skip(problem);
    return;
  }
  assert.deepEqual(staleWasmFiles(), [], "stale module: run npm run build:wasm");
});
