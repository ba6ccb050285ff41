// The aborted-transaction index of a partition log (Kafka's `.txnindex`): one entry per
// aborted transaction, appended when its ABORT marker is written and kept in marker-offset
// order. read_committed fetches ask it which aborted transactions overlap the range they
// return, so consumers can drop those producers' batches. Each segment's entries (those whose
// marker lies in it) are stored in `<base>.txnindex` in Kafka's layout, written like the other
// indexes at roll and close and rebuilt by recovery for the segments it scans.
import { readFile, unlink } from "node:fs/promises";
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import { isCode, writeFileAtomic } from "./checkpoint-file.ts";
import { readInt64, writeInt64 } from "./int64.ts";
import { TXN_INDEX_SUFFIX, offsetFilePath } from "./log-files.ts";
import type { CompletedTxn, ProducerStateManager } from "./producer-state.ts";

/** One aborted transaction: its producer, first data offset, marker offset, and the LSO once it ended. */
export interface AbortedTxn {
  readonly producerId: number;
  readonly firstOffset: number;
  /** Offset of the ABORT marker. */
  readonly lastOffset: number;
  /** The last stable offset right after the marker: no transaction still open began before it. */
  readonly lastStableOffset: number;
}

/** Kafka's entry: version int16 (0), producerId, firstOffset, lastOffset, lastStableOffset (int64s). */
export const TXN_INDEX_ENTRY_SIZE = 34;
const ENTRY_VERSION = 0;

export class AbortedTxnIndex {
  /** Sorted by lastOffset (markers are appended in offset order). */
  #entries: AbortedTxn[] = [];

  get size(): number {
    return this.#entries.length;
  }

  /** Records an aborted transaction; an entry at or below the newest marker offset is a replay and ignored. */
  add(txn: AbortedTxn): void {
    const last = this.#entries[this.#entries.length - 1];
    if (last !== undefined && txn.lastOffset <= last.lastOffset) return;
    this.#entries.push(txn);
  }

  /**
   * The aborted transactions a read of [from, upTo) must report (Kafka's
   * collectAbortedTransactions): markers at or after `from` of transactions that began
   * before `upTo`. The scan stops at the first entry whose LSO reached `upTo`: no later
   * transaction can have begun below it. Null when there is none (no allocation).
   */
  collect(from: number, upTo: number): AbortedTxn[] | null {
    const entries = this.#entries;
    let out: AbortedTxn[] | null = null;
    for (let i = this.#firstEndingAtOrAfter(from); i < entries.length; i++) {
      const e = entries[i] as AbortedTxn;
      if (e.firstOffset < upTo) (out ??= []).push(e);
      if (e.lastStableOffset >= upTo) break;
    }
    return out;
  }

  /** Every entry whose marker lies in [from, to), oldest first (the entries of one segment). */
  entriesIn(from: number, to: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    for (let i = this.#firstEndingAtOrAfter(from); i < this.#entries.length; i++) {
      const e = this.#entries[i] as AbortedTxn;
      if (e.lastOffset >= to) break;
      out.push(e);
    }
    return out;
  }

  /** Forgets entries whose marker is below offset (their segments were deleted). */
  dropBelow(offset: number): void {
    const n = this.#firstEndingAtOrAfter(offset);
    if (n > 0) this.#entries = this.#entries.slice(n);
  }

  /** Forgets entries whose marker is at or above offset (the log was cut there). */
  truncateFrom(offset: number): void {
    const n = this.#firstEndingAtOrAfter(offset);
    if (n < this.#entries.length) this.#entries = this.#entries.slice(0, n);
  }

  /** Adds a segment's entries read from its file (segments must be loaded oldest first). */
  load(entries: readonly AbortedTxn[]): void {
    for (const e of entries) this.add(e);
  }

  #firstEndingAtOrAfter(offset: number): number {
    const entries = this.#entries;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((entries[mid] as AbortedTxn).lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A segment's entries as `.txnindex` file bytes. */
export function encodeTxnIndex(entries: readonly AbortedTxn[]): Buffer {
  const buf = Buffer.alloc(entries.length * TXN_INDEX_ENTRY_SIZE);
  let pos = 0;
  for (const e of entries) {
    buf.writeInt16BE(ENTRY_VERSION, pos);
    writeInt64(buf, pos + 2, e.producerId);
    writeInt64(buf, pos + 10, e.firstOffset);
    writeInt64(buf, pos + 18, e.lastOffset);
    writeInt64(buf, pos + 26, e.lastStableOffset);
    pos += TXN_INDEX_ENTRY_SIZE;
  }
  return buf;
}

/**
 * Parses a segment's `.txnindex` file, checking that its markers lie in [base, end) and
 * increase. Throws KAFKA_STORAGE_ERROR for bytes that are not such an index (the caller
 * rebuilds it from the log).
 */
export function decodeTxnIndex(buf: Buffer, base: number, end: number): AbortedTxn[] {
  if (buf.length % TXN_INDEX_ENTRY_SIZE !== 0) bad(`${buf.length} bytes is not a whole number of entries`);
  const out: AbortedTxn[] = [];
  let previous = -1;
  for (let pos = 0; pos < buf.length; pos += TXN_INDEX_ENTRY_SIZE) {
    if (buf.readInt16BE(pos) !== ENTRY_VERSION) bad(`entry version ${buf.readInt16BE(pos)}`);
    const e: AbortedTxn = {
      producerId: readInt64(buf, pos + 2),
      firstOffset: readInt64(buf, pos + 10),
      lastOffset: readInt64(buf, pos + 18),
      lastStableOffset: readInt64(buf, pos + 26),
    };
    if (!(e.lastOffset >= base && e.lastOffset < end && e.lastOffset > previous))
      bad(`marker offset ${e.lastOffset} outside [${base}, ${end}) or out of order`);
    if (!(e.firstOffset <= e.lastOffset && e.producerId >= 0))
      bad(`entry at ${e.lastOffset} is inconsistent`);
    previous = e.lastOffset;
    out.push(e);
  }
  return out;
}

function bad(why: string): never {
  throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `transaction index: ${why}`);
}

/**
 * Adds the transaction a marker just closed to the index if it was aborted. Call after the
 * producer state took the marker: the entry's LSO is the oldest transaction still open.
 */
export function indexAbortedTxn(
  state: { txnIndex: AbortedTxnIndex; producers: ProducerStateManager },
  completed: CompletedTxn | null,
): void {
  if (completed === null || !completed.aborted) return;
  const open = state.producers.firstUnstableOffset();
  const end = completed.lastOffset + 1;
  state.txnIndex.add({
    producerId: completed.producerId,
    firstOffset: completed.firstOffset,
    lastOffset: completed.lastOffset,
    lastStableOffset: open >= 0 ? Math.min(open, end) : end,
  });
}

/** Writes a segment's `.txnindex` (atomically, fsynced); removes a stale one when there are no entries. */
export async function writeSegmentTxnIndex(
  dir: string,
  base: number,
  entries: readonly AbortedTxn[],
): Promise<void> {
  const path = offsetFilePath(dir, base, TXN_INDEX_SUFFIX);
  if (entries.length > 0) {
    await writeFileAtomic(path, encodeTxnIndex(entries));
    return;
  }
  try {
    await unlink(path);
  } catch (err) {
    if (!isCode(err, "ENOENT")) throw err;
  }
}

/** Reads a segment's `.txnindex`: its entries, [] when there is no file, null when the file is unusable. */
export async function readSegmentTxnIndex(
  dir: string,
  base: number,
  end: number,
): Promise<AbortedTxn[] | null> {
  let buf: Buffer;
  try {
    buf = await readFile(offsetFilePath(dir, base, TXN_INDEX_SUFFIX));
  } catch (err) {
    if (isCode(err, "ENOENT")) return [];
    throw err;
  }
  try {
    return decodeTxnIndex(buf, base, end);
  } catch (err) {
    if (err instanceof KafkaError) return null;
    throw err;
  }
}
