// Kafka codec 3, LZ4 frame format (not raw blocks). Java writes magic 04 22 4D 18, FLG 0x60
// (version 1, independent blocks, no checksums, no content size), BD 0x40 (64 KiB blocks),
// a correct header checksum, then blocks (stored raw, high bit set, when they do not
// shrink) and an end mark; the encoder writes exactly that. The notorious broken header
// checksum (computed over the magic too) only ever applied to magic v0 message sets, which
// Ferry rejects, so the checksum is always verified here.
//
// Frames are parsed here and only raw blocks go to lz4-napi: its frame functions return
// napi external buffers, which cost about 10x the decoding itself on Node 24. Parsing here
// also enforces the output limit block by block and rejects what Java rejects (dependent
// blocks, dictionaries).
import { compressSync, uncompressSync } from "lz4-napi";
import { DecodeError } from "../errors.ts";
import { DecompressionLimitError, checkLimit, corrupt } from "./errors.ts";
import { xxhash32 } from "./xxhash32.ts";

const MAGIC = 0x184d2204;
const INCOMPRESSIBLE = 0x80000000;
const FLG = 0x60;
const BD = 0x40;
const BLOCK_SIZE = 64 * 1024;
const HEADER = Buffer.from([
  0x04,
  0x22,
  0x4d,
  0x18,
  FLG,
  BD,
  (xxhash32(Buffer.from([FLG, BD])) >>> 8) & 0xff,
]);
const END_MARK = Buffer.alloc(4);

/** Compresses data as one LZ4 frame with the framing Kafka's Java producer writes. */
export function lz4Compress(data: Uint8Array): Buffer {
  const input = Buffer.from(data.buffer, data.byteOffset, data.length);
  const parts: Buffer[] = [HEADER];
  let total = HEADER.length + END_MARK.length;
  for (let pos = 0; pos < input.length; pos += BLOCK_SIZE) {
    const chunk = input.subarray(pos, Math.min(pos + BLOCK_SIZE, input.length));
    // lz4-napi prefixes the block with its uncompressed size (LE); the frame wants the
    // compressed size there instead.
    const block = compressSync(chunk);
    const compressedSize = block.length - 4;
    if (compressedSize < chunk.length) {
      block.writeUInt32LE(compressedSize, 0);
      parts.push(block);
    } else {
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32LE((INCOMPRESSIBLE | chunk.length) >>> 0, 0);
      parts.push(length, chunk);
    }
    total += 4 + Math.min(compressedSize, chunk.length);
  }
  parts.push(END_MARK);
  return Buffer.concat(parts, total);
}

/** Decompresses one or more concatenated LZ4 frames, failing once the output would pass maxBytes. */
export function lz4Decompress(data: Uint8Array, maxBytes: number): Buffer {
  checkLimit(maxBytes);
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (view.length === 0) throw new DecodeError("lz4: empty input");
  const out: Output = { parts: [], total: 0 };
  for (let pos = 0; pos < view.length;) pos = decodeFrame(view, pos, maxBytes, out);
  return out.parts.length === 1 ? (out.parts[0] as Buffer) : Buffer.concat(out.parts, out.total);
}

interface Output {
  parts: Buffer[];
  total: number;
}

// Decodes the frame at start, appending its blocks to out; returns the frame's end.
function decodeFrame(view: Buffer, start: number, maxBytes: number, out: Output): number {
  const producedBefore = out.total;
  let pos = start;
  const need = (n: number, what: string): void => {
    if (view.length - pos < n) throw new DecodeError(`lz4: truncated ${what} at offset ${pos}`);
  };
  need(7, "frame header");
  if (view.readUInt32LE(pos) !== MAGIC) throw new DecodeError(`lz4: bad frame magic at offset ${pos}`);
  pos += 4;
  const flg = view[pos] as number;
  const bd = view[pos + 1] as number;
  if (flg >>> 6 !== 1) throw new DecodeError(`lz4: unsupported frame version ${flg >>> 6}`);
  if ((flg & 0x20) === 0)
    throw new DecodeError("lz4: dependent blocks are not supported (nor by Kafka's Java client)");
  if ((flg & 0x03) !== 0) throw new DecodeError("lz4: reserved FLG bits or a dictionary id are set");
  if ((bd & 0x8f) !== 0) throw new DecodeError("lz4: reserved BD bits are set");
  const sizeId = (bd >>> 4) & 7;
  if (sizeId < 4) throw new DecodeError(`lz4: invalid block size id ${sizeId}`);
  const blockMax = 1 << (2 * sizeId + 8);
  const blockChecksum = (flg & 0x10) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  let contentSize = -1;
  if ((flg & 0x08) !== 0) {
    need(11, "frame header");
    const size = view.readBigUInt64LE(pos + 2);
    if (size > BigInt(maxBytes - producedBefore)) {
      throw new DecompressionLimitError("lz4", maxBytes, `a frame declares ${size} bytes`);
    }
    contentSize = Number(size);
  }
  const descriptorEnd = pos + (contentSize < 0 ? 2 : 10);
  if (((xxhash32(view, pos, descriptorEnd) >>> 8) & 0xff) !== view[descriptorEnd]) {
    throw new DecodeError("lz4: frame header checksum mismatch");
  }
  pos = descriptorEnd + 1;

  const firstPart = out.parts.length;
  let produced = 0;
  // lz4-napi's block decoder wants the output size first; the block maximum is a bound
  // it accepts, and the block is copied after it once into a reused scratch buffer.
  let scratch: Buffer | null = null;
  for (;;) {
    need(4, "block length");
    const word = view.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = (word & ~INCOMPRESSIBLE) >>> 0;
    if (size > blockMax) throw new DecodeError(`lz4: block of ${size} bytes exceeds the frame's ${blockMax}`);
    need(size + (blockChecksum ? 4 : 0), "block");
    const blockEnd = pos + size;
    if (blockChecksum && xxhash32(view, pos, blockEnd) !== view.readUInt32LE(blockEnd)) {
      throw new DecodeError(`lz4: block checksum mismatch at offset ${pos - 4}`);
    }
    let block: Buffer;
    if ((word & INCOMPRESSIBLE) !== 0) {
      block = view.subarray(pos, blockEnd);
    } else {
      if (scratch === null) {
        scratch = Buffer.allocUnsafe(4 + blockMax);
        scratch.writeUInt32LE(blockMax, 0);
      }
      view.copy(scratch, 4, pos, blockEnd);
      try {
        block = uncompressSync(scratch.subarray(0, 4 + size));
      } catch (e) {
        throw corrupt("lz4", e);
      }
    }
    produced += block.length;
    if (producedBefore + produced > maxBytes) throw new DecompressionLimitError("lz4", maxBytes);
    out.parts.push(block);
    out.total += block.length;
    pos = blockEnd + (blockChecksum ? 4 : 0);
  }
  if (contentSize >= 0 && produced !== contentSize) {
    throw new DecodeError(`lz4: frame decoded to ${produced} bytes, its header says ${contentSize}`);
  }
  if (contentChecksum) {
    need(4, "content checksum");
    const frameParts = out.parts.slice(firstPart);
    const content = frameParts.length === 1 ? (frameParts[0] as Buffer) : Buffer.concat(frameParts, produced);
    if (xxhash32(content) !== view.readUInt32LE(pos)) throw new DecodeError("lz4: content checksum mismatch");
    pos += 4;
  }
  return pos;
}
