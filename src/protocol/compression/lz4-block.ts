// Decoding one LZ4 block (the raw format inside LZ4 frames) straight into a caller's buffer.
// Written here rather than called through lz4-napi: a native call per block returns a fresh
// buffer that the frame decoder must then copy and join, which cost more than the decoding
// itself; in JavaScript the literals and matches land where they belong in one pass.
import { DecodeError } from "../errors.ts";

// Below this length a byte loop beats a native copy call.
const SHORT_COPY = 32;

/**
 * Decodes the LZ4 block src[start, end) into out from `op`, writing no further than `limit`.
 * Returns the position after the last byte written, or -1 when the output would pass
 * `limit`. Malformed input (truncated lengths, an offset before the block's output) throws
 * a DecodeError.
 */
export function decodeLz4Block(
  src: Buffer,
  start: number,
  end: number,
  out: Buffer,
  op: number,
  limit: number,
): number {
  const blockStart = op;
  let sp = start;
  while (sp < end) {
    const token = src[sp++] as number;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (sp >= end) throw new DecodeError("lz4: block ends inside a literal length");
        b = src[sp++] as number;
        literals += b;
      } while (b === 255);
    }
    if (literals > 0) {
      if (literals > end - sp) throw new DecodeError("lz4: literals run past the end of the block");
      if (literals > limit - op) return -1;
      if (literals < SHORT_COPY) {
        for (let i = 0; i < literals; i++) out[op + i] = src[sp + i] as number;
      } else {
        src.copy(out, op, sp, sp + literals);
      }
      sp += literals;
      op += literals;
    }
    // The last sequence has literals only.
    if (sp >= end) break;
    if (end - sp < 2) throw new DecodeError("lz4: block ends inside a match offset");
    const offset = (src[sp] as number) | ((src[sp + 1] as number) << 8);
    sp += 2;
    if (offset === 0 || offset > op - blockStart) {
      throw new DecodeError(`lz4: match offset ${offset} points before the start of the block`);
    }
    let length = (token & 15) + 4;
    if (length === 19) {
      let b: number;
      do {
        if (sp >= end) throw new DecodeError("lz4: block ends inside a match length");
        b = src[sp++] as number;
        length += b;
      } while (b === 255);
    }
    if (length > limit - op) return -1;
    if (length < SHORT_COPY) {
      // Short matches (overlapping or not) copy forwards byte by byte, which also repeats the
      // bytes just written when the match overlaps its own output.
      let from = op - offset;
      const stop = op + length;
      while (op < stop) out[op++] = out[from++] as number;
    } else if (offset >= length) {
      out.copyWithin(op, op - offset, op - offset + length);
      op += length;
    } else {
      // A long overlapping match repeats a period of `offset` bytes. Copy whole periods with
      // native copies: every copy doubles the periodic run behind op, so its span doubles too.
      const stop = op + length;
      let span = offset;
      while (op < stop) {
        const n = Math.min(span, stop - op);
        if (n < SHORT_COPY) {
          let from = op - span;
          const end = op + n;
          while (op < end) out[op++] = out[from++] as number;
        } else {
          out.copyWithin(op, op - span, op - span + n);
          op += n;
        }
        span *= 2;
      }
    }
  }
  return op;
}
