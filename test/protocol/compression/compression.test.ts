// The codec dispatcher: round trips for every Kafka codec, output limits, typed errors for
// unknown codecs, and a seeded fuzz loop showing corrupt input only ever yields ProtocolErrors.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { gzipSync } from "node:zlib";
import {
  CompressionCodec,
  DecompressionLimitError,
  codecName,
  compress,
  compressWithRoom,
  decompress,
} from "../../../src/protocol/compression/index.ts";
import { DecodeError, EncodeError, ProtocolError } from "../../../src/protocol/errors.ts";

const CODECS = [
  CompressionCodec.NONE,
  CompressionCodec.GZIP,
  CompressionCodec.SNAPPY,
  CompressionCodec.LZ4,
  CompressionCodec.ZSTD,
] as const;
const COMPRESSED = CODECS.filter((c) => c !== CompressionCodec.NONE);

// Deterministic pseudo-random numbers (mulberry32), so a failing fuzz case can be replayed.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sampleText(size: number): Buffer {
  const words = ["kafka", "ferry", "batch", "offset", "record", "topic", "partition", "\u00e9t\u00e9"];
  const rand = prng(size);
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const w = words[Math.floor(rand() * words.length)] as string;
    parts.push(w);
    length += w.length + 1;
  }
  return Buffer.from(parts.join(" ")).subarray(0, size);
}

for (const codec of CODECS) {
  test(`${codecName(codec)} round-trips arbitrary bytes`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (data) => {
        assert.deepEqual(decompress(codec, compress(codec, data)), Buffer.from(data));
      }),
      { numRuns: 60 },
    );
  });

  test(`${codecName(codec)} round-trips 300 KB of text across many blocks`, () => {
    const data = sampleText(300_000);
    assert.ok(decompress(codec, compress(codec, data)).equals(data));
  });
}

for (const codec of COMPRESSED) {
  test(`${codecName(codec)} stops a decompression bomb at maxBytes`, () => {
    const bomb = compress(codec, Buffer.alloc(8 * 1024 * 1024));
    assert.ok(bomb.length < 512 * 1024, `bomb is ${bomb.length} bytes`);
    assert.throws(() => decompress(codec, bomb, 1024 * 1024), DecompressionLimitError);
    assert.equal(decompress(codec, bomb, 8 * 1024 * 1024).length, 8 * 1024 * 1024);
  });

  test(`${codecName(codec)} decodes output of exactly maxBytes`, () => {
    const data = sampleText(100_000);
    assert.equal(decompress(codec, compress(codec, data), data.length).length, data.length);
    assert.throws(() => decompress(codec, compress(codec, data), data.length - 1), DecompressionLimitError);
  });

  test(`${codecName(codec)} rejects empty input as corrupt`, () => {
    assert.throws(() => decompress(codec, Buffer.alloc(0)), DecodeError);
  });

  test(`${codecName(codec)} rejects a truncated stream`, () => {
    const z = compress(codec, sampleText(50_000));
    for (const cut of [1, 5, Math.floor(z.length / 2)]) {
      assert.throws(() => decompress(codec, z.subarray(0, z.length - cut)), DecodeError, `cut ${cut}`);
    }
  });
}

test("gzip and zstd honour a compression level", () => {
  const data = sampleText(50_000);
  for (const codec of [CompressionCodec.GZIP, CompressionCodec.ZSTD]) {
    const fast = compress(codec, data, { level: 1 });
    const best = compress(codec, data, { level: 9 });
    assert.ok(best.length <= fast.length);
    assert.ok(decompress(codec, best).equals(data));
  }
});

test("gzip decodes several concatenated members, as Java's reader does", () => {
  const joined = Buffer.concat([gzipSync(Buffer.from("first ")), gzipSync(Buffer.from("second"))]);
  assert.equal(decompress(CompressionCodec.GZIP, joined).toString(), "first second");
});

test("unknown codec ids are typed errors both ways", () => {
  for (const id of [5, 6, 7, -1]) {
    assert.throws(() => decompress(id, Buffer.from("x")), DecodeError);
    assert.throws(() => compress(id, Buffer.from("x")), EncodeError);
  }
});

test("corrupted and truncated compressed data only ever fails with a ProtocolError", () => {
  const rand = prng(0xfe77);
  const inputs = [Buffer.alloc(0), Buffer.from("a"), sampleText(3000), Buffer.alloc(70_000, 0x41)];
  for (const codec of COMPRESSED) {
    const samples = inputs.map((d) => compress(codec, d));
    for (let i = 0; i < 2500; i++) {
      const base = samples[i % samples.length] as Buffer;
      const m = mutate(base, rand);
      try {
        decompress(codec, m, 1 << 20);
      } catch (e) {
        if (!(e instanceof ProtocolError)) {
          assert.fail(
            `${codecName(codec)} mutation ${i} (${m.toString("hex").slice(0, 80)}) threw ${String(e)}`,
          );
        }
      }
    }
  }
});

function mutate(base: Buffer, rand: () => number): Buffer {
  const b = Buffer.from(base);
  const pick = (n: number): number => Math.floor(rand() * n);
  switch (pick(5)) {
    case 0: // flip bits
      for (let k = 1 + pick(4); k > 0 && b.length > 0; k--) {
        const i = pick(b.length);
        b[i] = (b[i] as number) ^ (1 << pick(8));
      }
      return b;
    case 1: // random bytes
      for (let k = 1 + pick(4); k > 0 && b.length > 0; k--) b[pick(b.length)] = pick(256);
      return b;
    case 2: // truncate
      return b.subarray(0, pick(b.length + 1));
    case 3: // append garbage
      return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + pick(20) }, () => pick(256)))]);
    default: // large values in a length-like position
      if (b.length >= 4) b.writeUInt32BE(Math.floor(rand() * 0xffffffff), pick(b.length - 3));
      return b;
  }
}

test("compressWithRoom leaves the room untouched in front of the same compressed bytes, for every codec", () => {
  const data = Buffer.from("a batch's records, repeated. ".repeat(5000));
  for (const codec of CODECS) {
    const out = compressWithRoom(codec, data, 61);
    const frame = out.subarray(61);
    assert.deepEqual(decompress(codec, frame), data, codecName(codec));
    assert.deepEqual(frame, compress(codec, data), codecName(codec));
  }
});
