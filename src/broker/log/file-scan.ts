// Walks the record batches of a segment file batch by batch with large sequential reads:
// recovery (checking every length and CRC), index rebuilds, producer-state replay and
// locating a fetch position all use it. The visitor is synchronous and gets each batch as a
// slice of a reused chunk buffer, so a scan allocates per chunk, not per batch.
import type { FileHandle } from "node:fs/promises";
import { crc32c } from "../../protocol/crc32c.ts";
import {
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CRC_START,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MIN_BATCH_LENGTH,
  RECORD_BATCH_OVERHEAD,
} from "../../protocol/records/batch-header.ts";

/**
 * Called for each batch: buf[at, at + size) is the batch (or, with headersOnly, at least its
 * 61-byte header), filePos its position in the file. Return false to stop the scan.
 */
export type BatchVisitor = (buf: Buffer, at: number, filePos: number, size: number) => boolean;

export interface ScanOptions {
  /** Check each batch's CRC (recovery). */
  verifyCrc?: boolean;
  /** Only headers are needed: batches larger than a chunk are skipped, not read whole. */
  headersOnly?: boolean;
  /** Bytes per read (default 1 MiB). */
  chunkSize?: number;
  /**
   * A buffer to read into instead of a new one (headersOnly scans, which never replace it);
   * the visitor must not keep references into it.
   */
  buffer?: Buffer;
}

export interface ScanResult {
  /** Position after the last batch accepted (visited and not stopped on). */
  validEnd: number;
  /** Why the scan ended: reached `end`, the visitor said stop, or bytes that are not a valid batch. */
  stop: "end" | "visitor" | "invalid";
  /** For "invalid": what was wrong. */
  reason: string;
}

const DEFAULT_CHUNK = 1024 * 1024;

/** Reads exactly length bytes at position (fewer only at end of file). */
export async function readFully(
  fh: FileHandle,
  buf: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, offset + done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Writes all of buf at position. */
export async function writeFully(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`write made no progress at position ${position + done}`);
    done += bytesWritten;
  }
}

/** Why the bytes at buf[at] (avail bytes present, file ends at fileEnd) are not a v2 batch, or null. */
function batchProblem(
  buf: Buffer,
  at: number,
  avail: number,
  filePos: number,
  fileEnd: number,
): string | null {
  if (fileEnd - filePos < RECORD_BATCH_OVERHEAD)
    return `${fileEnd - filePos} trailing bytes are too short for a batch`;
  if (avail < MAGIC_OFFSET + 1) return null; // caller reads more
  const length = buf.readInt32BE(at + BATCH_LENGTH_OFFSET);
  if (length < MIN_BATCH_LENGTH) return `batch length ${length} is below the minimum`;
  if (length > fileEnd - filePos - LOG_OVERHEAD)
    return `batch of ${length + LOG_OVERHEAD} bytes runs past the end`;
  const magic = buf[at + MAGIC_OFFSET];
  if (magic !== CURRENT_MAGIC) return `magic ${magic} is not 2`;
  return null;
}

/** Scans batches in [start, end) of the file. */
export async function scanBatches(
  fh: FileHandle,
  start: number,
  end: number,
  visit: BatchVisitor,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const given = options.headersOnly === true ? options.buffer : undefined;
  const chunkSize = Math.max(given?.length ?? options.chunkSize ?? DEFAULT_CHUNK, RECORD_BATCH_OVERHEAD);
  let chunk =
    given !== undefined && given.length >= RECORD_BATCH_OVERHEAD
      ? given
      : Buffer.allocUnsafe(Math.min(chunkSize, Math.max(end - start, RECORD_BATCH_OVERHEAD)));
  let pos = start;
  while (pos < end) {
    const want = Math.min(chunk.length, end - pos);
    const got = await readFully(fh, chunk, 0, want, pos);
    if (got < Math.min(want, RECORD_BATCH_OVERHEAD)) {
      return { validEnd: pos, stop: "invalid", reason: `file ends ${got} bytes after position ${pos}` };
    }
    let at = 0;
    for (;;) {
      const filePos = pos + at;
      if (filePos >= end) break;
      const avail = got - at;
      if (avail < RECORD_BATCH_OVERHEAD && filePos + avail < end) break; // header split by the chunk
      const problem = batchProblem(chunk, at, avail, filePos, end);
      if (problem !== null)
        return { validEnd: filePos, stop: "invalid", reason: `at position ${filePos}: ${problem}` };
      const size = LOG_OVERHEAD + chunk.readInt32BE(at + BATCH_LENGTH_OFFSET);
      if (size > avail) {
        if (at > 0) break; // read the next chunk from this batch on
        if (options.headersOnly !== true) {
          // The batch is bigger than a chunk: read it whole.
          chunk = Buffer.allocUnsafe(size);
          const n = await readFully(fh, chunk, 0, size, filePos);
          if (n < size) return { validEnd: filePos, stop: "invalid", reason: `batch at ${filePos} is torn` };
          if (options.verifyCrc === true && !crcMatches(chunk, 0, size)) {
            return { validEnd: filePos, stop: "invalid", reason: `batch at ${filePos} fails its CRC` };
          }
          const goOn = visit(chunk, 0, filePos, size);
          if (!goOn) return { validEnd: filePos, stop: "visitor", reason: "" };
          chunk = Buffer.allocUnsafe(
            Math.min(chunkSize, Math.max(end - filePos - size, RECORD_BATCH_OVERHEAD)),
          );
          at = size;
          break;
        }
        const goOn = visit(chunk, at, filePos, size);
        if (!goOn) return { validEnd: filePos, stop: "visitor", reason: "" };
        at += size;
        break;
      }
      if (options.verifyCrc === true && !crcMatches(chunk, at, size)) {
        return { validEnd: filePos, stop: "invalid", reason: `batch at ${filePos} fails its CRC` };
      }
      if (!visit(chunk, at, filePos, size)) return { validEnd: filePos, stop: "visitor", reason: "" };
      at += size;
    }
    pos += at;
  }
  return { validEnd: pos, stop: "end", reason: "" };
}

function crcMatches(buf: Buffer, at: number, size: number): boolean {
  return crc32c(buf, at + CRC_START, at + size) === buf.readUInt32BE(at + CRC_OFFSET);
}
