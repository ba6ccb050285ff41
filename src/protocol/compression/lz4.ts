// Kafka codec 3, LZ4 frame format (not raw blocks). Java writes magic 04 22 4D 18, FLG 0x60
// (version 1, independent blocks, no checksums, no content size), BD 0x40 (64 KiB blocks),
// a correct header checksum, then blocks (stored raw, high bit set, when they do not
// shrink) and an end mark; the encoder writes exactly that. The notorious broken header
// checksum (computed over the magic too) only ever applied to magic v0 message sets, which
// Ferry rejects, so the checksum is always verified here.
//
// Frames are written and parsed here. Blocks are compressed by Ferry's own compressor built
// to WebAssembly (native/lz4-compress.c, lz4-wasm.ts) and decoded here too (lz4-block.ts),
// straight into one output buffer. Native bindings returned a fresh external buffer per
// block, which cost more than the work itself on Node 24. Parsing here also enforces the
// output limit block by block and rejects what Java rejects (dependent blocks, dictionaries).
import { allocateUnsafe, type Allocate } from "../allocate.ts";
import { DecodeError } from "../errors.ts";
import { DecompressionLimitError, checkLimit } from "./errors.ts";
import { decodeLz4Block } from "./lz4-block.ts";
import { BLOCK_OVERRUN, lz4Areas, lz4AreasDone } from "./lz4-wasm.ts";
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

/**
 * Compresses data as one LZ4 frame with the framing Kafka's Java producer writes, `room` bytes
 * into the buffer returned (left for the caller: a batch header), so the frame is not copied again.
 * The frame is assembled in the compressor's memory and copied out once, into a buffer from
 * `allocate` (which must return exactly the size asked for).
 */
export function lz4Compress(data: Uint8Array, room = 0, allocate: Allocate = allocateUnsafe): Buffer {
  const input = Buffer.from(data.buffer, data.byteOffset, data.length);
  const blocks = Math.ceil(input.length / BLOCK_SIZE);
  const w = lz4Areas(HEADER.length + input.length + 4 * blocks + BLOCK_OVERRUN + END_MARK.length);
  const mem = w.memory;
  let at = w.output + HEADER.copy(mem, w.output);
  for (let pos = 0; pos < input.length; pos += BLOCK_SIZE) {
    const n = Math.min(BLOCK_SIZE, input.length - pos);
    input.copy(mem, w.input, pos, pos + n);
    const size = w.block(n, at + 4);
    if (size < n) {
      mem.writeUInt32LE(size, at);
      at += 4 + size;
    } else {
      // Stored raw, as Java does when a block does not shrink.
      mem.writeUInt32LE((INCOMPRESSIBLE | n) >>> 0, at);
      at += 4 + mem.copy(mem, at + 4, w.input, w.input + n);
    }
  }
  at += END_MARK.copy(mem, at);
  const out = allocate(room + at - w.output);
  mem.copy(out, room, w.output, at);
  lz4AreasDone();
  return out;
}

/** Decompresses one or more concatenated LZ4 frames, failing once the output would pass maxBytes. */
export function lz4Decompress(data: Uint8Array, maxBytes: number): Buffer {
  checkLimit(maxBytes);
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (view.length === 0) throw new DecodeError("lz4: empty input");
  // Blocks decode straight into the buffer handed out, sized from the block headers (LZ4
  // cannot expand more than 255-fold). Small outputs decode into a reused scratch buffer and
  // are copied out exactly; so are outputs that used less than half their buffer.
  const bound = Math.min(outputBound(view), maxBytes, view.length * 255 + BLOCK_SIZE);
  const small = bound <= SMALL_OUTPUT;
  const out: Output = { buf: small ? smallScratch : Buffer.allocUnsafe(bound), pos: 0 };
  for (let pos = 0; pos < view.length;) pos = decodeFrame(view, pos, maxBytes, out);
  if (!small && out.pos >= out.buf.length / 2) return out.buf.subarray(0, out.pos);
  const result = Buffer.allocUnsafe(out.pos);
  out.buf.copy(result, 0, 0, out.pos);
  if (small && out.buf.length <= SMALL_OUTPUT) smallScratch = out.buf;
  return result;
}

const SMALL_OUTPUT = 64 * 1024;
let smallScratch: Buffer = Buffer.allocUnsafe(SMALL_OUTPUT);

/**
 * The most the frames' blocks can decode to, from their headers alone: a stored block's size,
 * a compressed block's frame maximum. Malformed framing is left to the decoder to report;
 * the bound then only has to be a starting size.
 */
function outputBound(view: Buffer): number {
  let total = 0;
  let pos = 0;
  while (pos < view.length) {
    if (view.length - pos < 7 || view.readUInt32LE(pos) !== MAGIC) return total + BLOCK_SIZE;
    const flg = view[pos + 4] as number;
    const blockMax = 1 << (2 * (((view[pos + 5] as number) >>> 4) & 7) + 8);
    const blockChecksum = (flg & 0x10) !== 0 ? 4 : 0;
    pos += 7 + ((flg & 0x08) !== 0 ? 8 : 0);
    for (;;) {
      if (view.length - pos < 4) return total + blockMax;
      const word = view.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = (word & ~INCOMPRESSIBLE) >>> 0;
      total += (word & INCOMPRESSIBLE) !== 0 ? size : blockMax;
      pos += size + blockChecksum;
    }
    if ((flg & 0x04) !== 0) pos += 4;
  }
  return total;
}

interface Output {
  buf: Buffer;
  pos: number;
}

/** Makes room for n more bytes of output. */
function reserve(out: Output, n: number): void {
  const need = out.pos + n;
  if (need <= out.buf.length) return;
  const next = Buffer.allocUnsafe(Math.max(need, out.buf.length * 2));
  out.buf.copy(next, 0, 0, out.pos);
  out.buf = next;
}

// Decodes the frame at start, appending its blocks to out; returns the frame's end.
function decodeFrame(view: Buffer, start: number, maxBytes: number, out: Output): number {
  const producedBefore = out.pos;
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
    if ((word & INCOMPRESSIBLE) !== 0) {
      if (out.pos + size > maxBytes) throw new DecompressionLimitError("lz4", maxBytes);
      reserve(out, size);
      view.copy(out.buf, out.pos, pos, blockEnd);
      out.pos += size;
    } else {
      // A block decodes to at most blockMax bytes; the caller's limit may allow fewer.
      const room = Math.min(blockMax, maxBytes - out.pos);
      reserve(out, room);
      const end = decodeLz4Block(view, pos, blockEnd, out.buf, out.pos, out.pos + room);
      if (end < 0) {
        if (room < blockMax) throw new DecompressionLimitError("lz4", maxBytes);
        throw new DecodeError(`lz4: block at offset ${pos - 4} decodes to more than ${blockMax} bytes`);
      }
      out.pos = end;
    }
    pos = blockEnd + (blockChecksum ? 4 : 0);
  }
  const produced = out.pos - producedBefore;
  if (contentSize >= 0 && produced !== contentSize) {
    throw new DecodeError(`lz4: frame decoded to ${produced} bytes, its header says ${contentSize}`);
  }
  if (contentChecksum) {
    need(4, "content checksum");
    if (xxhash32(out.buf, producedBefore, out.pos) !== view.readUInt32LE(pos)) {
      throw new DecodeError("lz4: content checksum mismatch");
    }
    pos += 4;
  }
  return pos;
}
