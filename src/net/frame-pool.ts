// Reusable buffers for large frames. A process that moves hundreds of MB/s through fresh
// frame buffers spends much of its time in the garbage collector (V8 runs full collections as
// external memory grows) and in page faults on new memory; handing frames back to a pool when
// their owner is done with them avoids both. Only the owner knows when nothing refers to a
// frame any more, so nothing returns to the pool unless it is given back.

/** By default, frames smaller than this are not pooled (they are read into shared chunks anyway). */
const MIN_CLASS_BYTES = 256 * 1024;

export class FramePool {
  /** Free buffers by size class (powers of two). */
  readonly #free = new Map<number, ArrayBuffer[]>();
  readonly #isFree = new WeakSet<ArrayBuffer>();
  readonly #ours = new WeakSet<ArrayBuffer>();
  readonly #maxFreeBytes: number;
  readonly #minClassBytes: number;
  #freeBytes = 0;
  #taken = 0;
  #reused = 0;

  /**
   * Keeps at most `maxFreeBytes` of free buffers; beyond that, given-back buffers are left to
   * the GC. Buffers come in powers of two from `minClassBytes`.
   */
  constructor(maxFreeBytes = 96 * 1024 * 1024, minClassBytes = MIN_CLASS_BYTES) {
    this.#maxFreeBytes = maxFreeBytes;
    this.#minClassBytes = minClassBytes;
  }

  /**
   * A buffer of exactly `size` bytes (uninitialised), reused when a free one of its class, or
   * of a class up to four times larger, is at hand. Sizes under the smallest class are not
   * pooled: they get fresh memory of their exact size, which give() then ignores.
   */
  take(size: number): Buffer {
    if (size < this.#minClassBytes) return Buffer.allocUnsafe(size);
    const free = this.takeFree(size);
    if (free !== undefined) return free;
    this.#taken++;
    const cls = classOf(size, this.#minClassBytes);
    const fresh = Buffer.allocUnsafeSlow(cls).buffer;
    this.#ours.add(fresh);
    return Buffer.from(fresh, 0, size);
  }

  /** Like take, but only a free buffer: undefined instead of allocating one. */
  takeFree(size: number): Buffer | undefined {
    if (size < this.#minClassBytes) return undefined;
    const cls = classOf(size, this.#minClassBytes);
    for (let c = cls; c <= cls * 4; c *= 2) {
      const reused = this.#free.get(c)?.pop();
      if (reused === undefined) continue;
      this.#isFree.delete(reused);
      this.#freeBytes -= c;
      this.#taken++;
      this.#reused++;
      return Buffer.from(reused, 0, size);
    }
    return undefined;
  }

  /**
   * Gives back the buffer under `view` (any view of a taken buffer). The caller promises that
   * nothing reads or writes it any more. Views of other memory, and second returns, are ignored.
   */
  give(view: Uint8Array): void {
    const ab = view.buffer as ArrayBuffer;
    if (!this.#ours.has(ab) || this.#isFree.has(ab)) return;
    if (ab.byteLength > this.#maxFreeBytes) return;
    // Room is made by dropping free buffers of the largest classes: the sizes in use change
    // (a fetch-only phase, then mirroring), and a pool full of the wrong size helps nobody.
    while (this.#freeBytes + ab.byteLength > this.#maxFreeBytes) if (!this.#dropLargest()) return;
    let list = this.#free.get(ab.byteLength);
    if (list === undefined) this.#free.set(ab.byteLength, (list = []));
    list.push(ab);
    this.#isFree.add(ab);
    this.#freeBytes += ab.byteLength;
  }

  #dropLargest(): boolean {
    let largest = 0;
    for (const [cls, list] of this.#free) if (list.length > 0 && cls > largest) largest = cls;
    const dropped = this.#free.get(largest)?.pop();
    if (dropped === undefined) return false;
    this.#isFree.delete(dropped);
    this.#freeBytes -= largest;
    return true;
  }

  /** Buffers handed out, how many of them were reused, and the bytes lying free. */
  get stats(): { taken: number; reused: number; freeBytes: number } {
    return { taken: this.#taken, reused: this.#reused, freeBytes: this.#freeBytes };
  }
}

function classOf(size: number, min: number): number {
  let cls = min;
  while (cls < size) cls *= 2;
  return cls;
}
