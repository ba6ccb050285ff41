// Reusable buffers for large frames. A process that moves hundreds of MB/s through fresh
// frame buffers spends much of its time in the garbage collector (V8 runs full collections as
// external memory grows) and in page faults on new memory; handing frames back to a pool when
// their owner is done with them avoids both. Only the owner knows when nothing refers to a
// frame any more, so nothing returns to the pool unless it is given back.

/** Frames smaller than this are not worth pooling (and are read into shared chunks anyway). */
const MIN_CLASS_BYTES = 256 * 1024;

export class FramePool {
  /** Free buffers by size class (powers of two). */
  readonly #free = new Map<number, ArrayBuffer[]>();
  readonly #isFree = new WeakSet<ArrayBuffer>();
  readonly #ours = new WeakSet<ArrayBuffer>();
  readonly #maxFreeBytes: number;
  #freeBytes = 0;
  #taken = 0;
  #reused = 0;

  /** Keeps at most `maxFreeBytes` of free buffers; beyond that, given-back buffers are left to the GC. */
  constructor(maxFreeBytes = 96 * 1024 * 1024) {
    this.#maxFreeBytes = maxFreeBytes;
  }

  /** A buffer of exactly `size` bytes (uninitialised), reused when one of its class is free. */
  take(size: number): Buffer {
    const cls = classOf(size);
    this.#taken++;
    const free = this.#free.get(cls);
    const reused = free?.pop();
    if (reused !== undefined) {
      this.#isFree.delete(reused);
      this.#freeBytes -= cls;
      this.#reused++;
      return Buffer.from(reused, 0, size);
    }
    const fresh = Buffer.allocUnsafeSlow(cls).buffer as ArrayBuffer;
    this.#ours.add(fresh);
    return Buffer.from(fresh, 0, size);
  }

  /**
   * Gives back the buffer under `view` (any view of a taken buffer). The caller promises that
   * nothing reads or writes it any more. Views of other memory, and second returns, are ignored.
   */
  give(view: Uint8Array): void {
    const ab = view.buffer as ArrayBuffer;
    if (!this.#ours.has(ab) || this.#isFree.has(ab)) return;
    if (this.#freeBytes + ab.byteLength > this.#maxFreeBytes) return;
    let list = this.#free.get(ab.byteLength);
    if (list === undefined) this.#free.set(ab.byteLength, (list = []));
    list.push(ab);
    this.#isFree.add(ab);
    this.#freeBytes += ab.byteLength;
  }

  /** Buffers handed out, how many of them were reused, and the bytes lying free. */
  get stats(): { taken: number; reused: number; freeBytes: number } {
    return { taken: this.#taken, reused: this.#reused, freeBytes: this.#freeBytes };
  }
}

function classOf(size: number): number {
  let cls = MIN_CLASS_BYTES;
  while (cls < size) cls *= 2;
  return cls;
}
