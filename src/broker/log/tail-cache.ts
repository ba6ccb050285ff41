// The newest bytes of the active segment kept in memory, so that consumers reading at the
// tail of the log (the common case) are served without a read syscall and without a copy:
// a fetch gets a view into an arena. Arenas are append-only and never reused, so a view
// handed out stays valid; the previous arena is kept too, so a consumer slightly behind a
// switch still hits memory. Writes go to the file from the same arena in one write() call.

/** One arena: file bytes [start, start + used) of the segment with this base offset. */
export interface Arena {
  segmentBase: number;
  start: number;
  buf: Buffer;
  used: number;
  /** Base offset of the first batch in the arena, so a read knows whether it can start here. */
  firstOffset: number;
}

export class TailCache {
  readonly capacity: number;
  private current: Arena | null = null;
  private previous: Arena | null = null;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /**
   * Room for len bytes that will sit at filePos of the segment, starting with the batch at
   * firstOffset: a view to copy them into, or null when they do not fit any arena (the
   * caller writes them directly and the cache forgets this segment's tail).
   */
  reserve(segmentBase: number, filePos: number, len: number, firstOffset: number): Buffer | null {
    if (len > this.capacity) {
      this.previous = null;
      this.current = null;
      return null;
    }
    let a = this.current;
    if (
      a === null ||
      a.segmentBase !== segmentBase ||
      a.start + a.used !== filePos ||
      a.used + len > a.buf.length
    ) {
      if (a !== null && a.segmentBase === segmentBase && a.start + a.used === filePos) this.previous = a;
      else this.previous = null;
      a = { segmentBase, start: filePos, buf: Buffer.allocUnsafe(this.capacity), used: 0, firstOffset };
      this.current = a;
    }
    const view = a.buf.subarray(a.used, a.used + len);
    a.used += len;
    return view;
  }

  /** Undoes the last reservation of len bytes (a write that failed). */
  unreserve(len: number): void {
    if (this.current !== null) this.current.used = Math.max(0, this.current.used - len);
  }

  /** The newest arena of this segment whose first batch is at or below offset, or null. */
  arenaForOffset(segmentBase: number, offset: number): Arena | null {
    for (const a of [this.current, this.previous]) {
      if (a !== null && a.segmentBase === segmentBase && a.used > 0 && a.firstOffset <= offset) return a;
    }
    return null;
  }

  /** Forgets everything (roll, truncation). */
  clear(): void {
    this.current = null;
    this.previous = null;
  }
}
