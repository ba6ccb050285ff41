// Kafka codec 3, LZ4 frame format (not raw blocks). Java writes magic 04 22 4D 18, FLG 0x60
// (version 1, independent blocks, no checksums, no content size), BD 0x40 (64 KiB blocks)
// and a correct header checksum; lz4-napi writes exactly that framing. The notorious
// broken header checksum (computed over the magic too) only ever applied to magic v0
// message sets, which Ferry rejects, so the checksum is always verified here.
//
// The frame is walked here before any native call, to bound the output from its block
// sizes (a block of n compressed bytes yields at most min(blockMax, 255 n)) and to reject
// what Java rejects (dependent blocks, dictionaries, trailing garbage).
import { compressFrameSync, decompressFrameSync, uncompressSync } from "lz4-napi";
import { DecodeError } from "../errors.ts";
import { DecompressionLimitError, checkLimit, corrupt } from "./errors.ts";
import { xxhash32 } from "./xxhash32.ts";

const MAGIC = 0x184d2204;
const INCOMPRESSIBLE = 0x80000000;
// One LZ4 sequence of k+3 input bytes yields at most 19 + 255k output bytes.
const MAX_RATIO = 255;

/** Compresses data as one LZ4 frame with the framing Kafka's Java producer writes. */
export function lz4Compress(data: Uint8Array): Buffer {
  return compressFrameSync(Buffer.from(data.buffer, data.byteOffset, data.length));
}

interface FrameInfo {
  end: number;
  blockChecksum: boolean;
  contentChecksum: boolean;
  contentSize: number | null;
  blockMax: number;
  dataStart: number;
  /** Upper bound of the decompressed size. */
  bound: number;
}

/** Decompresses one or more concatenated LZ4 frames, failing once the output would pass maxBytes. */
export function lz4Decompress(data: Uint8Array, maxBytes: number): Buffer {
  checkLimit(maxBytes);
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (view.length === 0) throw new DecodeError("lz4: empty input");
  const parts: Buffer[] = [];
  let total = 0;
  for (let pos = 0; pos < view.length; ) {
    const frame = walkFrame(view, pos);
    const budget = maxBytes - total;
    if (frame.contentSize !== null && frame.contentSize > budget) {
      throw new DecompressionLimitError("lz4", maxBytes, `a frame declares ${frame.contentSize} bytes`);
    }
    const out =
      frame.bound <= budget ? decodeNative(view.subarray(pos, frame.end), budget) : decodeByBlock(view, frame, budget);
    if (frame.contentSize !== null && out.length !== frame.contentSize) {
      throw new DecodeError(`lz4: frame decoded to ${out.length} bytes, its header says ${frame.contentSize}`);
    }
    parts.push(out);
    total += out.length;
    pos = frame.end;
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, total);
}

function walkFrame(view: Buffer, start: number): FrameInfo {
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
  if ((flg & 0x20) === 0) throw new DecodeError("lz4: dependent blocks are not supported (nor by Kafka's Java client)");
  if ((flg & 0x03) !== 0) throw new DecodeError("lz4: reserved FLG bits or a dictionary id are set");
  if ((bd & 0x8f) !== 0) throw new DecodeError("lz4: reserved BD bits are set");
  const sizeId = (bd >>> 4) & 7;
  if (sizeId < 4) throw new DecodeError(`lz4: invalid block size id ${sizeId}`);
  const blockMax = 1 << (2 * sizeId + 8);
  const blockChecksum = (flg & 0x10) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  let contentSize: number | null = null;
  if ((flg & 0x08) !== 0) {
    need(11, "frame header");
    const size = view.readBigUInt64LE(pos + 2);
    contentSize = size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size);
  }
  const descriptorEnd = pos + (contentSize === null ? 2 : 10);
  const hc = view[descriptorEnd] as number;
  if (((xxhash32(view, pos, descriptorEnd) >>> 8) & 0xff) !== hc) {
    throw new DecodeError("lz4: frame header checksum mismatch");
  }
  pos = descriptorEnd + 1;
  const dataStart = pos;
  let bound = 0;
  for (;;) {
    need(4, "block length");
    const word = view.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = (word & ~INCOMPRESSIBLE) >>> 0;
    if (size > blockMax) throw new DecodeError(`lz4: block of ${size} bytes exceeds the frame's ${blockMax}`);
    need(size + (blockChecksum ? 4 : 0), "block");
    bound += (word & INCOMPRESSIBLE) !== 0 ? size : Math.min(blockMax, size * MAX_RATIO);
    pos += size + (blockChecksum ? 4 : 0);
  }
  if (contentChecksum) {
    need(4, "content checksum");
    pos += 4;
  }
  return { end: pos, blockChecksum, contentChecksum, contentSize, blockMax, dataStart, bound };
}

function decodeNative(frame: Buffer, budget: number): Buffer {
  let out: Buffer;
  try {
    out = decompressFrameSync(frame);
  } catch (e) {
    throw corrupt("lz4", e);
  }
  if (out.length > budget) throw new DecompressionLimitError("lz4", budget);
  return out;
}

// Used only when the frame's bound exceeds the budget: decodes block by block so that the
// limit is enforced as output appears, verifying the optional checksums itself.
function decodeByBlock(view: Buffer, frame: FrameInfo, budget: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let pos = frame.dataStart;
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32LE(frame.blockMax, 0);
  for (;;) {
    const word = view.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = (word & ~INCOMPRESSIBLE) >>> 0;
    const blockEnd = pos + size;
    if (frame.blockChecksum && xxhash32(view, pos, blockEnd) !== view.readUInt32LE(blockEnd)) {
      throw new DecodeError(`lz4: block checksum mismatch at offset ${pos - 4}`);
    }
    let block: Buffer;
    if ((word & INCOMPRESSIBLE) !== 0) {
      block = view.subarray(pos, blockEnd);
    } else {
      try {
        block = uncompressSync(Buffer.concat([prefix, view.subarray(pos, blockEnd)]));
      } catch (e) {
        throw corrupt("lz4", e);
      }
    }
    total += block.length;
    if (total > budget) throw new DecompressionLimitError("lz4", budget);
    parts.push(block);
    pos = blockEnd + (frame.blockChecksum ? 4 : 0);
  }
  const out = Buffer.concat(parts, total);
  if (frame.contentChecksum && xxhash32(out) !== view.readUInt32LE(pos)) {
    throw new DecodeError("lz4: content checksum mismatch");
  }
  return out;
}
