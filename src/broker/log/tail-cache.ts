// The newest bytes of the active segment kept in memory, so that consumers reading at the
// tail of the log (the common case) are served without a read syscall: a read copies its
// batches out of an arena. The previous arena is kept too, so a consumer slightly behind a
// switch still hits memory. Writes go to the file from the same arena in one write() call.
//
// An arena that falls out of a cache is reused, by any log's cache: fresh 1 MiB arenas for
// every MiB appended cost more in garbage collection and page faults than the appends. That is
// safe because nothing outlives its time in the cache: reads copy (log-reader.ts), and the
// log writes one group at a time, so the writes from an arena two generations old are done.

/** One arena: file bytes [start, start + used) of the segment with this base offset. */
export interface Arena {
  segmentBase: number;
  start: number;
  buf: Buffer;
  used: number;
  /** Base offset of the first batch in the arena, so a read knows whether it can start here. */
  firstOffset: number;
}

/** Spare arenas by capacity, shared by all caches; at most SPARE_BYTES of them. */
const spares = new Map<number, Buffer[]>();
const SPARE_BYTES = 16 * 1024 * 1024;
let spareBytes = 0;

function takeArena(capacity: number): Buffer {
  const spare = spares.get(capacity)?.pop();
  if (spare === undefined) return Buffer.allocUnsafe(capacity);
  spareBytes -= capacity;
  return spare;
}

function retire(arena: Arena | null): void {
  if (arena === null || spareBytes + arena.buf.length > SPARE_BYTES) return;
  let list = spares.get(arena.buf.length);
  if (list === undefined) spares.set(arena.buf.length, (list = []));
  list.push(arena.buf);
  spareBytes += arena.buf.length;
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
   * caller writes them directly and the cache forgets this segment's tail). Only the log's
   * writer calls this, between writes: no write from an arena dropped here is under way.
   */
  reserve(segmentBase: number, filePos: number, len: number, firstOffset: number): Buffer | null {
    if (len > this.capacity) {
      retire(this.previous);
      retire(this.current);
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
      retire(this.previous);
      if (a !== null && a.segmentBase === segmentBase && a.start + a.used === filePos) this.previous = a;
      else {
        retire(a);
        this.previous = null;
      }
      a = { segmentBase, start: filePos, buf: takeArena(this.capacity), used: 0, firstOffset };
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

  /**
   * Forgets everything (roll, truncation). The arenas are left to the garbage collector, not
   * reused: this may run while a write from one is under way.
   */
  clear(): void {
    this.current = null;
    this.previous = null;
  }
}
