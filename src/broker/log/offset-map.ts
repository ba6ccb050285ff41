// The log cleaner's key → latest offset map, in bounded memory as Kafka's SkimpyOffsetMap
// keeps it: each key is reduced to its 16-byte MD5 digest, and a slot holds the digest and
// an offset (24 bytes), so the memory a cleaning pass uses is fixed by
// log.cleaner.dedupe.buffer.size whatever the keys look like. Two keys with the same digest
// would be treated as one; with MD5 that is as unlikely as it is in Kafka.
import { hash } from "node:crypto";

/** Bytes of memory one slot takes (digest 16, offset 8). */
export const OFFSET_MAP_SLOT_BYTES = 24;
const EMPTY = -1;

export class OffsetMap {
  /** Slots in the table (a power of two). */
  readonly slots: number;
  /** Keys the map takes before it reports full (slots × load factor, Kafka's log.cleaner.io.buffer.load.factor). */
  readonly maxEntries: number;
  private readonly digests: Int32Array;
  private readonly offsets: Float64Array;
  private count = 0;
  /** The last offset the map has seen (Kafka's latestOffset), -1 when empty. */
  latestOffset = -1;
  // The digest of the last key hashed, as four int32s (reused: no allocation per key).
  private d0 = 0;
  private d1 = 0;
  private d2 = 0;
  private d3 = 0;

  /** A map of at most memoryBytes (rounded down to a power-of-two slot count), full at loadFactor. */
  constructor(memoryBytes: number, loadFactor = 0.9) {
    const wanted = Math.max(2, Math.floor(memoryBytes / OFFSET_MAP_SLOT_BYTES));
    this.slots = 2 ** Math.floor(Math.log2(wanted));
    // One slot always stays empty, so a probe for a missing key ends.
    this.maxEntries = Math.max(1, Math.min(this.slots - 1, Math.floor(this.slots * loadFactor)));
    this.digests = new Int32Array(this.slots * 4);
    this.offsets = new Float64Array(this.slots).fill(EMPTY);
  }

  /** Keys stored. */
  get size(): number {
    return this.count;
  }

  /** Whether another new key would exceed the load factor. */
  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  /** Share of the slots in use. */
  get utilization(): number {
    return this.count / this.slots;
  }

  /** Forgets every key. */
  clear(): void {
    this.offsets.fill(EMPTY);
    this.count = 0;
    this.latestOffset = -1;
  }

  /** Records offset as the latest for key; false (nothing stored) when the key is new and the map is full. */
  put(key: Uint8Array, offset: number): boolean {
    this.digest(key);
    const slot = this.find();
    if (this.offsets[slot] === EMPTY) {
      if (this.count >= this.maxEntries) return false;
      const at = slot * 4;
      this.digests[at] = this.d0;
      this.digests[at + 1] = this.d1;
      this.digests[at + 2] = this.d2;
      this.digests[at + 3] = this.d3;
      this.count++;
    }
    this.offsets[slot] = offset;
    if (offset > this.latestOffset) this.latestOffset = offset;
    return true;
  }

  /** The latest offset recorded for key, or -1. */
  get(key: Uint8Array): number {
    this.digest(key);
    return this.offsets[this.find()] as number;
  }

  /** Moves latestOffset forward (to the end of a batch or segment that held no more keys). */
  updateLatestOffset(offset: number): void {
    if (offset > this.latestOffset) this.latestOffset = offset;
  }

  private digest(key: Uint8Array): void {
    // A "binary" (latin1) string is the cheapest way out of node:crypto without a Buffer per key.
    const s = hash("md5", key, "binary");
    this.d0 = word(s, 0);
    this.d1 = word(s, 4);
    this.d2 = word(s, 8);
    this.d3 = word(s, 12);
  }

  /** The slot holding the current digest, or the empty slot where it would go (double hashing). */
  private find(): number {
    const mask = this.slots - 1;
    let slot = this.d0 & mask;
    // An odd step visits every slot of a power-of-two table.
    const step = (this.d1 | 1) & mask;
    for (;;) {
      if (this.offsets[slot] === EMPTY) return slot;
      const at = slot * 4;
      if (
        this.digests[at] === this.d0 &&
        this.digests[at + 1] === this.d1 &&
        this.digests[at + 2] === this.d2 &&
        this.digests[at + 3] === this.d3
      ) {
        return slot;
      }
      slot = (slot + step) & mask;
    }
  }
}

function word(s: string, i: number): number {
  return (
    s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)
  );
}
