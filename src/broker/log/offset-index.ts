// The sparse offset index of one segment, in memory and in Kafka's .index layout: 8-byte
// entries (offset relative to the segment's base, int32; byte position in the .log file,
// int32), big-endian. An entry (o, p) says the batch starting at byte p ends at offset o, so
// the batch holding any offset >= o starts at or after p. Lookups are binary searches.
//
// The active segment's index lives only in memory and is written out when the segment is
// rolled or the log is closed; after a crash the active segment is rescanned anyway, so
// writing the index on every append would buy nothing.

export const OFFSET_INDEX_ENTRY_SIZE = 8;
const INITIAL_CAPACITY = 64;

export class OffsetIndex {
  readonly baseOffset: number;
  readonly maxEntries: number;
  private buf: Buffer;
  private count: number;

  constructor(baseOffset: number, maxEntries: number, entries?: Buffer) {
    this.baseOffset = baseOffset;
    this.maxEntries = Math.max(1, maxEntries);
    if (entries === undefined) {
      this.buf = Buffer.alloc(INITIAL_CAPACITY * OFFSET_INDEX_ENTRY_SIZE);
      this.count = 0;
    } else {
      this.buf = entries;
      this.count = Math.floor(entries.length / OFFSET_INDEX_ENTRY_SIZE);
    }
  }

  /**
   * An index read from a file, or null when the bytes cannot be a valid index for a segment
   * of logSize bytes whose offsets lie in [baseOffset, endOffset). Every entry is checked:
   * an index is never trusted to point beyond the valid log.
   */
  static fromBytes(
    baseOffset: number,
    maxEntries: number,
    bytes: Buffer,
    logSize: number,
    endOffset: number,
  ): OffsetIndex | null {
    if (bytes.length % OFFSET_INDEX_ENTRY_SIZE !== 0) return null;
    const n = bytes.length / OFFSET_INDEX_ENTRY_SIZE;
    let lastRel = -1;
    let lastPos = -1;
    for (let i = 0; i < n; i++) {
      const rel = bytes.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE);
      const pos = bytes.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE + 4);
      if (rel <= lastRel || pos <= lastPos || pos >= logSize || baseOffset + rel >= endOffset) return null;
      lastRel = rel;
      lastPos = pos;
    }
    return new OffsetIndex(baseOffset, Math.max(maxEntries, n), Buffer.from(bytes));
  }

  get entries(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  /** Offset of entry i. */
  offsetAt(i: number): number {
    return this.baseOffset + this.buf.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE);
  }

  /** File position of entry i. */
  positionAt(i: number): number {
    return this.buf.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE + 4);
  }

  /** Adds an entry; offsets and positions must increase. */
  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (!(rel >= 0 && rel <= 0x7fffffff)) {
      throw new RangeError(`offset ${offset} does not fit the index of segment ${this.baseOffset}`);
    }
    if (
      this.count > 0 &&
      (offset <= this.offsetAt(this.count - 1) || position <= this.positionAt(this.count - 1))
    ) {
      throw new RangeError(`index entry (${offset}, ${position}) does not follow the last one`);
    }
    const at = this.count * OFFSET_INDEX_ENTRY_SIZE;
    if (at + OFFSET_INDEX_ENTRY_SIZE > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(this.buf.length * 2, INITIAL_CAPACITY * OFFSET_INDEX_ENTRY_SIZE));
      this.buf.copy(bigger, 0, 0, at);
      this.buf = bigger;
    }
    this.buf.writeInt32BE(rel, at);
    this.buf.writeInt32BE(position, at + 4);
    this.count++;
  }

  /** The position to start scanning from for target: the entry with the largest offset <= target, else 0. */
  positionFor(target: number): number {
    const i = this.floorEntry(target);
    return i < 0 ? 0 : this.positionAt(i);
  }

  /** Index of the last entry whose offset <= target, or -1. */
  floorEntry(target: number): number {
    const rel = target - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.buf.readInt32BE(mid * OFFSET_INDEX_ENTRY_SIZE) <= rel) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** The entries as file bytes (a view; copy before mutating the index further). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.count * OFFSET_INDEX_ENTRY_SIZE);
  }
}
