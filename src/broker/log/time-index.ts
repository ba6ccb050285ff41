// The time index of one segment, in memory and in Kafka's .timeindex layout: 12-byte
// entries (timestamp int64, offset relative to the segment's base int32), big-endian. An
// entry (t, o) says the largest timestamp among the batches up to the one ending at offset o
// is t, so no record before o has a timestamp above t. Timestamps strictly increase, which
// makes "first offset with timestamp >= T" a binary search followed by a short scan.

export const TIME_INDEX_ENTRY_SIZE = 12;
const INITIAL_CAPACITY = 64;

export class TimeIndex {
  readonly baseOffset: number;
  readonly maxEntries: number;
  private buf: Buffer;
  private count: number;

  constructor(baseOffset: number, maxEntries: number, entries?: Buffer) {
    this.baseOffset = baseOffset;
    this.maxEntries = Math.max(1, maxEntries);
    if (entries === undefined) {
      this.buf = Buffer.alloc(INITIAL_CAPACITY * TIME_INDEX_ENTRY_SIZE);
      this.count = 0;
    } else {
      this.buf = entries;
      this.count = Math.floor(entries.length / TIME_INDEX_ENTRY_SIZE);
    }
  }

  /** A time index read from a file, or null when it cannot belong to a segment with offsets in [baseOffset, endOffset). */
  static fromBytes(
    baseOffset: number,
    maxEntries: number,
    bytes: Buffer,
    endOffset: number,
  ): TimeIndex | null {
    if (bytes.length % TIME_INDEX_ENTRY_SIZE !== 0) return null;
    const n = bytes.length / TIME_INDEX_ENTRY_SIZE;
    let lastTs = -Infinity;
    let lastRel = -1;
    for (let i = 0; i < n; i++) {
      const at = i * TIME_INDEX_ENTRY_SIZE;
      const ts = bytes.readInt32BE(at) * 0x100000000 + bytes.readUInt32BE(at + 4);
      const rel = bytes.readInt32BE(at + 8);
      if (
        !Number.isSafeInteger(ts) ||
        ts <= lastTs ||
        rel < lastRel ||
        rel < 0 ||
        baseOffset + rel >= endOffset
      ) {
        return null;
      }
      lastTs = ts;
      lastRel = rel;
    }
    return new TimeIndex(baseOffset, Math.max(maxEntries, n), Buffer.from(bytes));
  }

  get entries(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  timestampAt(i: number): number {
    const at = i * TIME_INDEX_ENTRY_SIZE;
    return this.buf.readInt32BE(at) * 0x100000000 + this.buf.readUInt32BE(at + 4);
  }

  offsetAt(i: number): number {
    return this.baseOffset + this.buf.readInt32BE(i * TIME_INDEX_ENTRY_SIZE + 8);
  }

  /** The newest timestamp indexed, or -1. */
  lastTimestamp(): number {
    return this.count === 0 ? -1 : this.timestampAt(this.count - 1);
  }

  /** The offset of the newest entry, or the base offset. */
  lastOffset(): number {
    return this.count === 0 ? this.baseOffset : this.offsetAt(this.count - 1);
  }

  /** Adds (timestamp, offset) when the timestamp is newer than the last entry's; returns whether it did. */
  maybeAppend(timestamp: number, offset: number): boolean {
    if (timestamp <= this.lastTimestamp()) return false;
    const rel = offset - this.baseOffset;
    if (!(rel >= 0 && rel <= 0x7fffffff)) {
      throw new RangeError(`offset ${offset} does not fit the time index of segment ${this.baseOffset}`);
    }
    if (this.count > 0 && offset < this.lastOffset()) {
      throw new RangeError(`time index offset ${offset} goes back from ${this.lastOffset()}`);
    }
    const at = this.count * TIME_INDEX_ENTRY_SIZE;
    if (at + TIME_INDEX_ENTRY_SIZE > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(this.buf.length * 2, INITIAL_CAPACITY * TIME_INDEX_ENTRY_SIZE));
      this.buf.copy(bigger, 0, 0, at);
      this.buf = bigger;
    }
    const hi = Math.floor(timestamp / 0x100000000);
    this.buf.writeInt32BE(hi, at);
    this.buf.writeUInt32BE(timestamp - hi * 0x100000000, at + 4);
    this.buf.writeInt32BE(rel, at + 8);
    this.count++;
    return true;
  }

  /**
   * Where a search for the first record with timestamp >= target may start: the offset of the
   * last entry whose timestamp is below target (records up to it are all older, except
   * possibly in that very batch), else the segment's base offset.
   */
  searchStartFor(target: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestampAt(mid) < target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? this.baseOffset : this.offsetAt(found);
  }

  /** The entries as file bytes (a view). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.count * TIME_INDEX_ENTRY_SIZE);
  }
}
