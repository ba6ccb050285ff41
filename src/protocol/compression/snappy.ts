// Kafka codec 2, snappy. Java producers write snappy-java's SnappyOutputStream framing
// ("xerial"): a 16-byte header (magic 82 'SNAPPY' 00, int32 version 1, int32 minimum
// compatible version 1) then blocks of [int32 big-endian compressed length][raw snappy block],
// each block holding up to 32 KiB of input. librdkafka and others send one raw snappy block.
// Java's reader takes both, so the decoder does too; the encoder writes what Java writes.
// copyOutputData: napi external buffers (the default) cost about 8x the codec on Node 24.
import { compressSync, uncompressSync } from "snappy";
import { DecodeError } from "../errors.ts";
import { DecompressionLimitError, checkLimit, corrupt } from "./errors.ts";

/** The 8-byte magic that opens a xerial snappy stream. */
export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** Magic, version and minimum compatible version. */
export const XERIAL_HEADER_SIZE = 16;
/** snappy-java's SnappyOutputStream.DEFAULT_BLOCK_SIZE, which Kafka's SnappyCompression uses. */
export const XERIAL_BLOCK_SIZE = 32 * 1024;
const XERIAL_VERSION = 1;
const XERIAL_MIN_COMPATIBLE_VERSION = 1;
// The first four magic bytes read as a big-endian int32, which is how a concatenated
// stream's second header shows up where a block length is expected.
const XERIAL_MAGIC_HEAD = XERIAL_MAGIC.readInt32BE(0);
const COPY = { copyOutputData: true } as const;

/** Compresses data the way Kafka's Java producer does: xerial framing, 32 KiB blocks. */
export function snappyCompress(data: Uint8Array): Buffer {
  const chunks: Buffer[] = [xerialHeader()];
  let total = XERIAL_HEADER_SIZE;
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_SIZE) {
    const block = compressSync(data.subarray(pos, Math.min(pos + XERIAL_BLOCK_SIZE, data.length)), COPY);
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    chunks.push(len, block);
    total += 4 + block.length;
  }
  return Buffer.concat(chunks, total);
}

/** Compresses data as one raw snappy block (what librdkafka sends). */
export function snappyCompressRaw(data: Uint8Array): Buffer {
  return compressSync(data, COPY);
}

function xerialHeader(): Buffer {
  const h = Buffer.allocUnsafe(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(h, 0);
  h.writeInt32BE(XERIAL_VERSION, 8);
  h.writeInt32BE(XERIAL_MIN_COMPATIBLE_VERSION, 12);
  return h;
}

/** True when data opens with a xerial header (the test snappy-java's reader applies). */
export function isXerial(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** Decompresses xerial-framed or raw snappy, failing once the output would pass maxBytes. */
export function snappyDecompress(data: Uint8Array, maxBytes: number): Buffer {
  checkLimit(maxBytes);
  return isXerial(data) ? decompressXerial(data, maxBytes) : decompressRaw(data, 0, data.length, maxBytes);
}

function decompressXerial(data: Uint8Array, maxBytes: number): Buffer {
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  const blocks: Buffer[] = [];
  let total = 0;
  let pos = readXerialHeader(view, 0);
  while (pos < view.length) {
    if (view.length - pos < 4)
      throw new DecodeError(`snappy: truncated xerial block length at offset ${pos}`);
    const blockLength = view.readInt32BE(pos);
    // snappy-java accepts another stream's header in the middle (concatenated streams).
    if (blockLength === XERIAL_MAGIC_HEAD) {
      pos = readXerialHeader(view, pos);
      continue;
    }
    pos += 4;
    if (blockLength <= 0 || blockLength > view.length - pos) {
      throw new DecodeError(
        `snappy: xerial block length ${blockLength} at offset ${pos - 4} is not within the data`,
      );
    }
    const block = decompressRaw(view, pos, pos + blockLength, maxBytes - total);
    blocks.push(block);
    total += block.length;
    pos += blockLength;
  }
  return blocks.length === 1 ? (blocks[0] as Buffer) : Buffer.concat(blocks, total);
}

function readXerialHeader(view: Buffer, pos: number): number {
  if (view.length - pos < XERIAL_HEADER_SIZE || !view.subarray(pos, pos + 8).equals(XERIAL_MAGIC)) {
    throw new DecodeError(`snappy: bad xerial header at offset ${pos}`);
  }
  const version = view.readInt32BE(pos + 8);
  if (version < XERIAL_MIN_COMPATIBLE_VERSION) {
    throw new DecodeError(
      `snappy: xerial stream version ${version} is older than ${XERIAL_MIN_COMPATIBLE_VERSION}`,
    );
  }
  return pos + XERIAL_HEADER_SIZE;
}

// A raw snappy block opens with its uncompressed length as a varint, so the limit is
// checked before the native decoder allocates anything.
function decompressRaw(data: Uint8Array, start: number, end: number, maxBytes: number): Buffer {
  let length = 0;
  let pos = start;
  for (let shift = 0; ; shift += 7) {
    if (pos >= end || shift > 28)
      throw new DecodeError(`snappy: bad uncompressed-length preamble at offset ${start}`);
    const b = data[pos++] as number;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  if (length > 0xffffffff) throw new DecodeError(`snappy: uncompressed length ${length} exceeds 32 bits`);
  if (length > maxBytes)
    throw new DecompressionLimitError("snappy", maxBytes, `a block declares ${length} bytes`);
  let out: string | Buffer;
  try {
    out = uncompressSync(start === 0 && end === data.length ? data : data.subarray(start, end), COPY);
  } catch (e) {
    throw corrupt("snappy", e);
  }
  if (typeof out === "string" || out.length !== length) {
    throw new DecodeError(`snappy: block decoded to a different length than its preamble (${length})`);
  }
  return out;
}
