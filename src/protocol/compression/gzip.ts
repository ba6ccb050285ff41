// Kafka codec 1, gzip, through node:zlib. Java writes one gzip member at Deflater's default
// level (6), which is also zlib's default; several members one after another also decode.
import { gunzipSync, gzipSync } from "node:zlib";
import { DecodeError } from "../errors.ts";
import { DecompressionLimitError, checkLimit, corrupt, isTooLarge } from "./errors.ts";

/** Gzip-compresses data (level 1-9, or zlib's default). */
export function gzipCompress(data: Uint8Array, level?: number): Buffer {
  return level === undefined ? gzipSync(data) : gzipSync(data, { level });
}

/** Decompresses gzip data, failing once the output would pass maxBytes. */
export function gzipDecompress(data: Uint8Array, maxBytes: number): Buffer {
  checkLimit(maxBytes);
  // A gzip member is at least 18 bytes; zlib would happily return nothing for an empty input.
  if (data.length < 18) throw new DecodeError(`gzip: ${data.length} bytes is shorter than any gzip member`);
  let out: Buffer;
  try {
    // zlib stops inflating as soon as the output passes maxOutputLength, so a bomb costs
    // at most maxBytes of memory and the time to produce them.
    out = gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (e) {
    if (isTooLarge(e)) throw new DecompressionLimitError("gzip", maxBytes);
    throw corrupt("gzip", e);
  }
  if (out.length > maxBytes) throw new DecompressionLimitError("gzip", maxBytes);
  return out;
}
