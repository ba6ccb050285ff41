// Names of the files in a partition directory. Segment files are named by their base offset,
// zero-padded to 20 digits as Kafka names them, so a directory listing sorts by offset and
// Kafka's tools recognise the layout.
import { join } from "node:path";

export const LOG_SUFFIX = ".log";
export const OFFSET_INDEX_SUFFIX = ".index";
export const TIME_INDEX_SUFFIX = ".timeindex";
/** Aborted transactions whose markers are in the segment (Kafka's layout). */
export const TXN_INDEX_SUFFIX = ".txnindex";
/** Producer state as of the offset in the name (Kafka's .snapshot files, our own format). */
export const SNAPSHOT_SUFFIX = ".snapshot";
/** A segment file waiting for file.delete.delay.ms before it is unlinked. */
export const DELETED_SUFFIX = ".deleted";
/** A file being written for an atomic replace; a leftover one is garbage from a crash. */
export const TEMP_SUFFIX = ".tmp";
/** logStartOffset, recovery point and clean-shutdown flag of the partition. */
export const CHECKPOINT_FILE = "partition.checkpoint";

/** The file name for an offset and suffix: 00000000000000001234.log. */
export function offsetFileName(offset: number, suffix: string): string {
  return String(offset).padStart(20, "0") + suffix;
}

/** The path of a segment's or snapshot's file. */
export function offsetFilePath(dir: string, offset: number, suffix: string): string {
  return join(dir, offsetFileName(offset, suffix));
}

/** The offset in a file name with the given suffix, or null when the name is not one. */
export function parseOffsetFileName(name: string, suffix: string): number | null {
  if (!name.endsWith(suffix)) return null;
  const stem = name.slice(0, name.length - suffix.length);
  if (!/^\d{20}$/.test(stem)) return null;
  const offset = Number(stem);
  return Number.isSafeInteger(offset) ? offset : null;
}
