// Small state files replaced atomically (write a temp file, fsync it, rename it over the old
// one, fsync the directory), so that after a crash of the process or the machine the file
// holds either the old or the new content, never a mix. Also the partition checkpoint kept
// this way: logStartOffset, recovery point and whether the last shutdown was clean.
import { open, readFile, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { crc32c } from "../../protocol/crc32c.ts";
import { CHECKPOINT_FILE, TEMP_SUFFIX } from "./log-files.ts";

let tempCounter = 0;

/** Replaces path with data so that a crash at any point leaves the old or the new content. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}-${++tempCounter}${TEMP_SUFFIX}`;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  await syncDir(dirname(path));
}

/**
 * Makes a directory's entries (files created, renamed) durable. Platforms that cannot open a
 * directory for fsync (Windows) get no directory fsync; their file systems journal metadata.
 */
export async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, "r");
  } catch (err) {
    if (isCode(err, "EISDIR") || isCode(err, "EPERM") || isCode(err, "EACCES")) return;
    throw err;
  }
  try {
    await fh.sync();
  } catch (err) {
    if (!(isCode(err, "EINVAL") || isCode(err, "EPERM") || isCode(err, "EBADF"))) throw err;
  } finally {
    await fh.close();
  }
}

/** What the partition checkpoint records. */
export interface PartitionCheckpoint {
  /** DeleteRecords and retention move it; it must survive restarts. */
  logStartOffset: number;
  /** Segments that end at or below it were fsynced with their indexes; recovery skips them. */
  recoveryPoint: number;
  /** Set by close() after everything was flushed; cleared as soon as the log is reopened. */
  cleanShutdown: boolean;
}

const HEADER = "ferry-partition-checkpoint 1";

/** The checkpoint as text, ending with a CRC-32C line over the lines before it. */
export function encodePartitionCheckpoint(c: PartitionCheckpoint): Buffer {
  const body =
    `${HEADER}\nlogStartOffset ${c.logStartOffset}\nrecoveryPoint ${c.recoveryPoint}\n` +
    `cleanShutdown ${c.cleanShutdown ? 1 : 0}\n`;
  const bytes = Buffer.from(body, "utf8");
  return Buffer.concat([bytes, Buffer.from(`crc ${crc32c(bytes).toString(16).padStart(8, "0")}\n`)]);
}

/** Parses a checkpoint; null when it is not one or fails its CRC. */
export function decodePartitionCheckpoint(buf: Buffer): PartitionCheckpoint | null {
  const text = buf.toString("utf8");
  const crcAt = text.lastIndexOf("crc ");
  if (crcAt < 0) return null;
  const body = Buffer.from(text.slice(0, crcAt), "utf8");
  const crcText = text.slice(crcAt + 4).trim();
  if (!/^[0-9a-f]{8}$/.test(crcText) || Number.parseInt(crcText, 16) !== crc32c(body)) return null;
  const lines = text.slice(0, crcAt).split("\n");
  if (lines[0] !== HEADER) return null;
  const fields = new Map<string, number>();
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const m = /^(\w+) (-?\d+)$/.exec(line);
    if (m === null) return null;
    fields.set(m[1] as string, Number(m[2]));
  }
  const logStartOffset = fields.get("logStartOffset");
  const recoveryPoint = fields.get("recoveryPoint");
  const clean = fields.get("cleanShutdown");
  if (
    logStartOffset === undefined ||
    recoveryPoint === undefined ||
    clean === undefined ||
    !Number.isSafeInteger(logStartOffset) ||
    !Number.isSafeInteger(recoveryPoint) ||
    logStartOffset < 0 ||
    recoveryPoint < 0
  ) {
    return null;
  }
  return { logStartOffset, recoveryPoint, cleanShutdown: clean === 1 };
}

/** Reads the partition checkpoint of dir; null when missing or unreadable. */
export async function readPartitionCheckpoint(dir: string): Promise<PartitionCheckpoint | null> {
  let buf: Buffer;
  try {
    buf = await readFile(join(dir, CHECKPOINT_FILE));
  } catch (err) {
    if (isCode(err, "ENOENT")) return null;
    throw err;
  }
  return decodePartitionCheckpoint(buf);
}

/** Durably replaces the partition checkpoint of dir. */
export async function writePartitionCheckpoint(dir: string, c: PartitionCheckpoint): Promise<void> {
  await writeFileAtomic(join(dir, CHECKPOINT_FILE), encodePartitionCheckpoint(c));
}

/** Whether err is a Node system error with this code. */
export function isCode(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}
