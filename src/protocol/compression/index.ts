// Kafka's compression codecs by id (the low three bits of a batch's attributes), with sync
// compress/decompress that dispatch to one module per codec. Every decode failure is a
// typed ProtocolError (CORRUPT_MESSAGE) and every decode is bounded by maxBytes.
import { allocateUnsafe, type Allocate } from "../allocate.ts";
import { DecodeError, EncodeError } from "../errors.ts";
import { gzipCompress, gzipDecompress } from "./gzip.ts";
import { lz4Compress, lz4Decompress } from "./lz4.ts";
import { snappyCompress, snappyDecompress } from "./snappy.ts";
import { zstdCompress, zstdDecompress } from "./zstd.ts";
import { DecompressionLimitError, checkLimit } from "./errors.ts";

export { DecompressionLimitError } from "./errors.ts";

/** Kafka's compression codec ids. */
export const CompressionCodec = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;
export type CompressionCodecId = (typeof CompressionCodec)[keyof typeof CompressionCodec];

const NAMES = ["none", "gzip", "snappy", "lz4", "zstd"] as const;

/**
 * Default output limit for one decompression: generous next to Kafka's default
 * message.max.bytes (1 MiB) and fetch.max.bytes (50 MiB), small enough that a bomb
 * cannot take the process down.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export interface CompressOptions {
  /** Compression level for gzip (1-9) and zstd (1-22); snappy and lz4 have none. */
  level?: number;
}

/** True when id is a codec Kafka defines. */
export function isCompressionCodec(id: number): id is CompressionCodecId {
  return Number.isInteger(id) && id >= 0 && id <= 4;
}

/** Kafka's name for a codec id ("none", "gzip", "snappy", "lz4", "zstd"). */
export function codecName(id: number): string {
  return isCompressionCodec(id) ? NAMES[id] : `unknown codec ${id}`;
}

/** Compresses data with a codec, framed as Kafka's Java producer frames it. */
export function compress(codec: number, data: Uint8Array, options: CompressOptions = {}): Buffer {
  switch (codec) {
    case CompressionCodec.NONE:
      return Buffer.from(data);
    case CompressionCodec.GZIP:
      return gzipCompress(data, options.level);
    case CompressionCodec.SNAPPY:
      return snappyCompress(data);
    case CompressionCodec.LZ4:
      return lz4Compress(data);
    case CompressionCodec.ZSTD:
      return zstdCompress(data, options.level);
    default:
      throw new EncodeError(`cannot compress with ${codecName(codec)}`);
  }
}

/**
 * compress, with `room` unused bytes in front of the compressed data in the buffer returned
 * (for a batch header): LZ4 writes its frame there directly; other codecs are copied once.
 * The buffer comes from `allocate`, which must return exactly the size asked for.
 */
export function compressWithRoom(
  codec: number,
  data: Uint8Array,
  room: number,
  options: CompressOptions = {},
  allocate: Allocate = allocateUnsafe,
): Buffer {
  if (codec === CompressionCodec.LZ4) return lz4Compress(data, room, allocate);
  const payload = compress(codec, data, options);
  const out = allocate(room + payload.length);
  payload.copy(out, room);
  return out;
}

/** Decompresses data, throwing a DecodeError if it is corrupt or would exceed maxBytes. */
export function decompress(
  codec: number,
  data: Uint8Array,
  maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Buffer {
  checkLimit(maxBytes);
  switch (codec) {
    case CompressionCodec.NONE:
      if (data.length > maxBytes) throw new DecompressionLimitError("none", maxBytes);
      return Buffer.from(data.buffer, data.byteOffset, data.length);
    case CompressionCodec.GZIP:
      return gzipDecompress(data, maxBytes);
    case CompressionCodec.SNAPPY:
      return snappyDecompress(data, maxBytes);
    case CompressionCodec.LZ4:
      return lz4Decompress(data, maxBytes);
    case CompressionCodec.ZSTD:
      return zstdDecompress(data, maxBytes);
    default:
      throw new DecodeError(`cannot decompress ${codecName(codec)}`);
  }
}
