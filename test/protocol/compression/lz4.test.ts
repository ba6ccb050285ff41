// LZ4 frames as Kafka uses them: the exact framing Java writes, hand-built frames with
// uncompressed blocks and checksums, what Java refuses, and the output bound.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compressFrameSync } from "lz4-napi";
import { lz4Compress, lz4Decompress } from "../../../src/protocol/compression/lz4.ts";
import { xxhash32 } from "../../../src/protocol/compression/xxhash32.ts";
import { DecompressionLimitError } from "../../../src/protocol/compression/errors.ts";
import { DecodeError } from "../../../src/protocol/errors.ts";

const MAX = 1 << 20;
const MAGIC = Buffer.from([0x04, 0x22, 0x4d, 0x18]);

function u32le(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

// A frame of uncompressed blocks, with optional block and content checksums.
function handFrame(
  blocks: string[],
  options: { blockChecksum?: boolean; contentChecksum?: boolean; flg?: number } = {},
) {
  const flg =
    options.flg ??
    0x60 | (options.blockChecksum === true ? 0x10 : 0) | (options.contentChecksum === true ? 0x04 : 0);
  const descriptor = Buffer.from([flg, 0x40]);
  const hc = (xxhash32(descriptor) >>> 8) & 0xff;
  const parts: Buffer[] = [MAGIC, descriptor, Buffer.from([hc])];
  for (const text of blocks) {
    const data = Buffer.from(text);
    parts.push(u32le(0x80000000 | data.length), data);
    if (options.blockChecksum === true) parts.push(u32le(xxhash32(data)));
  }
  parts.push(u32le(0));
  if (options.contentChecksum === true) parts.push(u32le(xxhash32(Buffer.from(blocks.join("")))));
  return Buffer.concat(parts);
}

test("the encoder writes Kafka's framing: FLG 0x60, BD 0x40 (64 KiB blocks), checksum 0x82", () => {
  const frame = lz4Compress(Buffer.from("kafka"));
  assert.deepEqual([...frame.subarray(0, 7)], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
  assert.equal(frame.readUInt32LE(frame.length - 4), 0, "ends with an end mark and no content checksum");
});

test("a hand-built frame of uncompressed blocks decodes", () => {
  assert.equal(lz4Decompress(handFrame(["hello ", "lz4"]), MAX).toString(), "hello lz4");
});

test("block and content checksums are verified when present", () => {
  const good = handFrame(["abc", "def"], { blockChecksum: true, contentChecksum: true });
  assert.equal(lz4Decompress(good, MAX).toString(), "abcdef");
  const badBlock = Buffer.from(good);
  badBlock[7 + 4 + 3] = (badBlock[7 + 4 + 3] as number) ^ 1; // last byte of the first block's checksum
  assert.throws(() => lz4Decompress(badBlock, MAX), DecodeError);
  const badContent = Buffer.from(good);
  badContent[badContent.length - 1] = (badContent[badContent.length - 1] as number) ^ 1;
  assert.throws(() => lz4Decompress(badContent, MAX), DecodeError);
});

test("frames from another encoder decode, their checksums verified", () => {
  const data = Buffer.alloc(100_000, 0x7a);
  const frame = compressFrameSync(data, { blockChecksums: true, contentChecksum: true });
  assert.equal(frame[4], 0x74, "FLG with both checksums");
  assert.ok(lz4Decompress(frame, MAX).equals(data));
  assert.ok(lz4Decompress(compressFrameSync(data), MAX).equals(data));
  const badContent = Buffer.from(frame);
  badContent[badContent.length - 1] = (badContent[badContent.length - 1] as number) ^ 1;
  assert.throws(() => lz4Decompress(badContent, MAX), /content checksum/);
  const badBlock = Buffer.from(frame);
  const firstBlockSize = badBlock.readUInt32LE(7) & 0x7fffffff;
  badBlock[7 + 4 + firstBlockSize] = (badBlock[7 + 4 + firstBlockSize] as number) ^ 1;
  assert.throws(() => lz4Decompress(badBlock, MAX), /block checksum/);
});

test("the encoder cuts 64 KiB blocks and stores incompressible ones raw, as Java does", () => {
  const noise = Buffer.alloc(70_000);
  for (let i = 0, x = 1; i < noise.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    noise[i] = x >>> 24;
  }
  const frame = lz4Compress(noise);
  assert.equal(frame.readUInt32LE(7), (0x80000000 | 65536) >>> 0, "first block raw, 64 KiB");
  assert.equal(frame.readUInt32LE(7 + 4 + 65536), (0x80000000 | (70_000 - 65536)) >>> 0);
  assert.ok(lz4Decompress(frame, MAX).equals(noise));
});

test("a wrong header checksum is refused (Kafka's broken-checksum quirk applied only to magic 0)", () => {
  const frame = handFrame(["x"]);
  frame[6] = (frame[6] as number) ^ 0xff;
  assert.throws(() => lz4Decompress(frame, MAX), /header checksum/);
});

test("dependent blocks, dictionaries and reserved bits are refused as Java refuses them", () => {
  for (const flg of [0x40, 0x61, 0x62]) {
    assert.throws(
      () => lz4Decompress(handFrame(["x"], { flg }), MAX),
      DecodeError,
      `FLG ${flg.toString(16)}`,
    );
  }
});

test("concatenated frames decode fully; trailing garbage does not", () => {
  const two = Buffer.concat([lz4Compress(Buffer.from("one ")), lz4Compress(Buffer.from("two"))]);
  assert.equal(lz4Decompress(two, MAX).toString(), "one two");
  assert.throws(
    () => lz4Decompress(Buffer.concat([lz4Compress(Buffer.from("x")), Buffer.from("zz")]), MAX),
    DecodeError,
  );
});

test("a frame missing its end mark is truncated", () => {
  const frame = handFrame(["abc"]);
  assert.throws(() => lz4Decompress(frame.subarray(0, frame.length - 2), MAX), DecodeError);
});

test("a block larger than the frame's block size is corrupt", () => {
  const frame = handFrame(["abc"]);
  frame.writeUInt32LE((0x80000000 | (64 * 1024 + 1)) >>> 0, 7);
  assert.throws(() => lz4Decompress(frame, MAX), /exceeds/);
});

test("the limit is enforced block by block as output appears", () => {
  const frame = lz4Compress(Buffer.alloc(300_000));
  assert.throws(() => lz4Decompress(frame, 200_000), DecompressionLimitError);
});
