// Zstd frames: multi-frame input (which node:zlib alone would cut short), skippable frames,
// trailing garbage, window size limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { zstdCompressSync } from "node:zlib";
import { zstdCompress, zstdDecompress } from "../../../src/protocol/compression/zstd.ts";
import { DecompressionLimitError } from "../../../src/protocol/compression/errors.ts";
import { DecodeError } from "../../../src/protocol/errors.ts";

const MAX = 1 << 20;

test("concatenated frames all decode, as zstd-jni reads them", () => {
  const joined = Buffer.concat([
    zstdCompressSync(Buffer.from("first ")),
    zstdCompressSync(Buffer.from("second")),
  ]);
  assert.equal(zstdDecompress(joined, MAX).toString(), "first second");
});

test("skippable frames are skipped", () => {
  const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
  const joined = Buffer.concat([skippable, zstdCompress(Buffer.from("data"))]);
  assert.equal(zstdDecompress(joined, MAX).toString(), "data");
  assert.throws(() => zstdDecompress(skippable, MAX), DecodeError);
});

test("trailing garbage after the last frame is corrupt", () => {
  assert.throws(
    () => zstdDecompress(Buffer.concat([zstdCompress(Buffer.from("x")), Buffer.from("junk")]), MAX),
    DecodeError,
  );
});

test("a frame asking for a window far beyond the limit is refused before allocating it", () => {
  // FHD 0: no content size; window descriptor 0xa0: 2^30 bytes; one last raw block of 1 byte
  const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa0, 0x09, 0x00, 0x00, 0x41]);
  assert.throws(() => zstdDecompress(frame, MAX), DecodeError);
  frame[5] = 0x50; // 2^20 window: fine
  assert.equal(zstdDecompress(frame, MAX).toString(), "A");
});

test("a reserved block type is corrupt", () => {
  const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50, 0x07, 0x00, 0x00, 0x41]);
  assert.throws(() => zstdDecompress(frame, MAX), /reserved block type/);
});

test("the limit spans all frames", () => {
  const frame = zstdCompress(Buffer.alloc(600_000));
  assert.throws(() => zstdDecompress(Buffer.concat([frame, frame]), MAX), DecompressionLimitError);
});
