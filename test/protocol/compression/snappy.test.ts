// Snappy as Kafka uses it: the xerial framing Java producers write (built here by hand from
// the format), raw blocks as librdkafka sends them, and their limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compressSync } from "snappy";
import {
  XERIAL_BLOCK_SIZE,
  XERIAL_MAGIC,
  snappyCompress,
  snappyCompressRaw,
  snappyDecompress,
} from "../../../src/protocol/compression/snappy.ts";
import { DecompressionLimitError } from "../../../src/protocol/compression/errors.ts";
import { DecodeError } from "../../../src/protocol/errors.ts";

const MAX = 1 << 20;

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v, 0);
  return b;
}

// magic 82 'SNAPPY' 00, version 1, minimum compatible version 1
const HEADER = Buffer.concat([
  Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]),
  int32(1),
  int32(1),
]);

function xerialBlock(data: string): Buffer {
  const block = compressSync(Buffer.from(data));
  return Buffer.concat([int32(block.length), block]);
}

test("a hand-built xerial stream of two blocks decodes to their concatenation", () => {
  const stream = Buffer.concat([HEADER, xerialBlock("hello, "), xerialBlock("xerial world")]);
  assert.equal(snappyDecompress(stream, MAX).toString(), "hello, xerial world");
});

test("a xerial header with no blocks decodes to nothing", () => {
  assert.equal(snappyDecompress(HEADER, MAX).length, 0);
});

test("concatenated xerial streams decode as one, as snappy-java reads them", () => {
  const stream = Buffer.concat([HEADER, xerialBlock("one "), HEADER, xerialBlock("two")]);
  assert.equal(snappyDecompress(stream, MAX).toString(), "one two");
});

test("a raw snappy block decodes too", () => {
  assert.equal(snappyDecompress(compressSync(Buffer.from("raw block")), MAX).toString(), "raw block");
  assert.equal(snappyDecompress(snappyCompressRaw(Buffer.from("librdkafka")), MAX).toString(), "librdkafka");
});

test("the encoder writes what Java's producer writes: the xerial header, then 32 KiB blocks", () => {
  const data = Buffer.alloc(XERIAL_BLOCK_SIZE * 2 + 100, 0x61);
  const out = snappyCompress(data);
  assert.ok(out.subarray(0, 16).equals(HEADER));
  assert.ok(XERIAL_MAGIC.equals(HEADER.subarray(0, 8)));
  let pos = 16;
  const blockSizes: number[] = [];
  while (pos < out.length) {
    const length = out.readInt32BE(pos);
    const block = snappyDecompress(out.subarray(pos + 4, pos + 4 + length), MAX);
    blockSizes.push(block.length);
    pos += 4 + length;
  }
  assert.deepEqual(blockSizes, [XERIAL_BLOCK_SIZE, XERIAL_BLOCK_SIZE, 100]);
  assert.ok(snappyDecompress(out, MAX).equals(data));
});

test("empty input encodes as a bare xerial header", () => {
  assert.ok(snappyCompress(Buffer.alloc(0)).equals(HEADER));
});

test("a xerial version older than 1 is refused", () => {
  const old = Buffer.concat([HEADER.subarray(0, 8), int32(0), int32(0), xerialBlock("x")]);
  assert.throws(() => snappyDecompress(old, MAX), DecodeError);
});

test("a xerial block length beyond the data, negative or zero is corrupt", () => {
  const block = xerialBlock("some data");
  for (const length of [block.length + 10, -5, 0]) {
    const bad = Buffer.concat([HEADER, int32(length), block.subarray(4)]);
    assert.throws(() => snappyDecompress(bad, MAX), DecodeError, `length ${length}`);
  }
  assert.throws(() => snappyDecompress(Buffer.concat([HEADER, Buffer.from([0, 0])]), MAX), DecodeError);
});

test("the declared uncompressed length is checked against the limit before decoding", () => {
  // preamble says 4 GiB - 1; the body is nonsense and is never handed to the decoder
  const lie = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
  assert.throws(() => snappyDecompress(lie, MAX), DecompressionLimitError);
  assert.throws(
    () => snappyDecompress(Buffer.concat([HEADER, int32(lie.length), lie]), MAX),
    DecompressionLimitError,
  );
});

test("the limit applies to the sum of xerial blocks", () => {
  const data = Buffer.alloc(XERIAL_BLOCK_SIZE * 3, 0x62);
  assert.throws(() => snappyDecompress(snappyCompress(data), XERIAL_BLOCK_SIZE * 2), DecompressionLimitError);
});

test("a raw block whose contents disagree with its preamble is corrupt", () => {
  const raw = Buffer.from(compressSync(Buffer.from("abcdefgh")));
  raw[0] = 20; // claims 20 bytes, holds 8
  assert.throws(() => snappyDecompress(raw, MAX), DecodeError);
});
