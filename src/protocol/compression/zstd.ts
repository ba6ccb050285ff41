// Kafka codec 4, zstd, through node:zlib (Node 24 has it built in). Java writes one frame
// at level 3 (zstd's default, also node:zlib's). Frames are walked here first: node:zlib
// decodes only the first frame of a concatenation and ignores what follows, while Java's
// reader decodes them all; and the walk rejects trailing garbage.
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { DecodeError } from "../errors.ts";
import { DecompressionLimitError, checkLimit, corrupt, isTooLarge } from "./errors.ts";

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
// The decoder allocates a window as large as the frame asks for. Frames never need a
// window larger than their output, so the window is capped near the output limit, but not
// below 8 MiB: Java's streaming encoder uses 2 MiB windows at level 3 whatever the size.
const MIN_WINDOW_LOG = 23;
const MAX_WINDOW_LOG = 31;

/** Zstd-compresses data (level 1-22, or zstd's default 3). */
export function zstdCompress(data: Uint8Array, level?: number): Buffer {
  return level === undefined
    ? zstdCompressSync(data)
    : zstdCompressSync(data, { params: { [constants.ZSTD_c_compressionLevel]: level } });
}

/** Decompresses one or more zstd frames, failing once the output would pass maxBytes. */
export function zstdDecompress(data: Uint8Array, maxBytes: number): Buffer {
  checkLimit(maxBytes);
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (view.length === 0) throw new DecodeError("zstd: empty input");
  const windowLogMax = Math.min(MAX_WINDOW_LOG, Math.max(MIN_WINDOW_LOG, Math.ceil(Math.log2(maxBytes + 1))));
  const parts: Buffer[] = [];
  let total = 0;
  for (let pos = 0; pos < view.length;) {
    const end = frameEnd(view, pos);
    if (view.readUInt32LE(pos) === FRAME_MAGIC) {
      const out = decodeFrame(view.subarray(pos, end), maxBytes - total, windowLogMax, maxBytes);
      parts.push(out);
      total += out.length;
    }
    pos = end;
  }
  if (parts.length === 0) throw new DecodeError("zstd: no data frame");
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, total);
}

function decodeFrame(frame: Buffer, budget: number, windowLogMax: number, maxBytes: number): Buffer {
  let out: Buffer;
  try {
    out = zstdDecompressSync(frame, {
      maxOutputLength: Math.max(1, budget),
      params: { [constants.ZSTD_d_windowLogMax]: windowLogMax },
    });
  } catch (e) {
    if (isTooLarge(e)) throw new DecompressionLimitError("zstd", maxBytes);
    throw corrupt("zstd", e);
  }
  if (out.length > budget) throw new DecompressionLimitError("zstd", maxBytes);
  return out;
}

// End offset of the frame starting at pos, from its header and block headers alone.
function frameEnd(view: Buffer, start: number): number {
  const need = (pos: number, n: number, what: string): void => {
    if (view.length - pos < n) throw new DecodeError(`zstd: truncated ${what} at offset ${pos}`);
  };
  need(start, 4, "frame magic");
  const magic = view.readUInt32LE(start);
  if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
    need(start + 4, 4, "skippable frame");
    const end = start + 8 + view.readUInt32LE(start + 4);
    need(start + 8, end - start - 8, "skippable frame");
    return end;
  }
  if (magic !== FRAME_MAGIC) throw new DecodeError(`zstd: bad frame magic at offset ${start}`);
  need(start + 4, 1, "frame header");
  const fhd = view[start + 4] as number;
  if ((fhd & 0x08) !== 0) throw new DecodeError("zstd: reserved frame header bit is set");
  const singleSegment = (fhd & 0x20) !== 0;
  const fcsFlag = fhd >>> 6;
  const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
  const dictIdSize = [0, 1, 2, 4][fhd & 3] as number;
  let pos = start + 5 + (singleSegment ? 0 : 1) + dictIdSize + fcsSize;
  for (;;) {
    need(pos, 3, "block header");
    const header =
      (view[pos] as number) | ((view[pos + 1] as number) << 8) | ((view[pos + 2] as number) << 16);
    const last = (header & 1) !== 0;
    const type = (header >>> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw new DecodeError(`zstd: reserved block type at offset ${pos}`);
    const contentSize = type === 1 ? 1 : size;
    need(pos + 3, contentSize, "block");
    pos += 3 + contentSize;
    if (last) break;
  }
  if ((fhd & 0x04) !== 0) {
    need(pos, 4, "content checksum");
    pos += 4;
  }
  return pos;
}
