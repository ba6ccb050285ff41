// Cuts a byte stream into Kafka frames (a 4-byte big-endian size, then that many bytes).
// Pull-style, so a reader that stops pulling (a busy server connection) leaves frames
// buffered here instead of queueing them somewhere else.
import { FrameSizeError } from "./errors.ts";

/** Kafka's `socket.request.max.bytes` default: 100 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 104_857_600;

/**
 * Frames from this size up are read straight into a buffer of their own, of their exact size
 * (from the `allocate` option: a pool's, or fresh): one copy (the kernel's) instead of two,
 * through the shared read buffer and then out of its chunks. The buffer is taken when the size
 * prefix arrives, or, for a peer whose prefix is not trusted, once half the frame has (sooner
 * if `allocateFree` has one that costs no new memory).
 */
export const MEDIUM_DIRECT_MIN_BYTES = 16 * 1024;

/** The size of a socket read buffer outside large frames (what Node itself uses). */
const READ_CHUNK_BYTES = 64 * 1024;

// Every decoder's ordinary reads land in this one buffer and are copied out, right-sized,
// before the read callback returns (as Node does with its own read buffers), so the next read
// on any socket can reuse it. A fresh 64 KiB buffer per read would keep mostly unused memory
// alive behind every small request and drive the garbage collector.
const sharedReadBuffer = Buffer.allocUnsafeSlow(READ_CHUNK_BYTES);

export interface FrameDecoderOptions {
  /** Largest payload accepted (the size prefix's value); default DEFAULT_MAX_FRAME_BYTES. */
  maxFrameBytes?: number;
  /** Allocates the buffers frames are read into directly (a FramePool's take); default fresh ones. */
  allocate?: (size: number) => Buffer;
  /**
   * Allocate a frame's buffer as soon as its size prefix is read (default true, for a
   * peer we asked). A server sets false: a frame gets its buffer only once half of it has
   * arrived, so a hostile prefix alone costs nothing and a peer can make us hold at most
   * twice the bytes it really sent (four times from a pool, whose buffers are up to twice the
   * frame's size).
   */
  trustSizePrefix?: boolean;
  /**
   * A buffer for a frame that costs no new memory (a FramePool's free buffer), or undefined:
   * with it an untrusted frame is read directly from its first byte.
   */
  allocateFree?: (size: number) => Buffer | undefined;
}

/**
 * Accumulates socket chunks and hands out complete frame payloads, without the size prefix.
 *
 * A payload that lies within one chunk is a view of that chunk (no copy; the view keeps the
 * chunk alive). A payload spanning chunks is copied once, when its last byte has arrived, so a
 * size prefix alone never causes an allocation: a hostile peer can only make us hold the bytes
 * it actually sent, up to the limit, which is checked as soon as the prefix is complete.
 */
export class FrameDecoder {
  #maxFrameBytes: number;
  // Unconsumed chunks are chunks[head..]; the first `offset` bytes of chunks[head] are consumed.
  #chunks: Buffer[] = [];
  #head = 0;
  #offset = 0;
  #buffered = 0;
  // Payload size of the frame being assembled, or -1 while its prefix is incomplete.
  #frameSize = -1;
  #error: FrameSizeError | undefined;
  // A large frame being read straight into its buffer: the frame, how much has arrived, and the
  // view the pending read was given.
  #direct: Buffer | undefined;
  #directFilled = 0;
  #directView: Buffer | undefined;
  readonly #allocate: (size: number) => Buffer;
  readonly #trustSizePrefix: boolean;
  readonly #allocateFree: ((size: number) => Buffer | undefined) | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.#allocate = options.allocate ?? ((size) => Buffer.allocUnsafe(size));
    this.#trustSizePrefix = options.trustSizePrefix ?? true;
    this.#allocateFree = options.allocateFree;
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < 0 || max > 0x7fffffff) {
      throw new RangeError(`maxFrameBytes must be an integer in 0..2147483647, got ${max}`);
    }
    this.#maxFrameBytes = max;
  }

  /** Largest payload accepted now. */
  get maxFrameBytes(): number {
    return this.#maxFrameBytes;
  }

  /**
   * Changes the limit for frames whose size prefix is not read yet (a broker raises it once a
   * SASL client has authenticated).
   */
  setMaxFrameBytes(max: number): void {
    if (!Number.isInteger(max) || max < 0 || max > 0x7fffffff) {
      throw new RangeError(`maxFrameBytes must be an integer in 0..2147483647, got ${max}`);
    }
    this.#maxFrameBytes = max;
  }

  /** Bytes received but not yet handed out (including a partly read size prefix). */
  get bufferedBytes(): number {
    return this.#buffered + (this.#direct === undefined ? 0 : this.#directFilled);
  }

  /** Adds a chunk read from the socket. Empty chunks are ignored. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * The next complete frame payload, or undefined until more bytes arrive. Throws
   * FrameSizeError (and keeps throwing it) once a size prefix is negative or over the limit.
   */
  next(): Buffer | undefined {
    if (this.#error !== undefined) throw this.#error;
    const direct = this.#direct;
    if (direct !== undefined) {
      if (this.#directFilled < direct.length) return undefined;
      this.#direct = undefined;
      this.#directView = undefined;
      this.#frameSize = -1;
      return direct;
    }
    if (this.#frameSize < 0) {
      if (this.#buffered < 4) return undefined;
      const size = this.#peekSize();
      this.#consume(4);
      if (size < 0 || size > this.#maxFrameBytes) {
        this.#error = new FrameSizeError(size, this.#maxFrameBytes);
        throw this.#error;
      }
      this.#frameSize = size;
    }
    const size = this.#frameSize;
    if (this.#buffered < size) return undefined;
    this.#frameSize = -1;
    const first = this.#chunks[this.#head];
    if (first !== undefined && first.length - this.#offset >= size) {
      const payload = first.subarray(this.#offset, this.#offset + size);
      this.#consume(size);
      return payload;
    }
    return this.#copyOut(size);
  }

  /**
   * Where the next socket read should land (for sockets that read into buffers we supply): the
   * rest of a large frame whose size is known, so the kernel writes it in place and the frame
   * is never copied; otherwise the shared read buffer, whose bytes received() copies out.
   * Give what was read to received() before the next read.
   */
  readBuffer(): Buffer {
    // The next frame's size is learned here too, not only when it is pulled: a connection busy
    // with the previous request would otherwise leave the frame to arrive through the shared
    // buffer, copied twice.
    if (
      this.#frameSize < 0 &&
      this.#direct === undefined &&
      this.#buffered >= 4 &&
      this.#error === undefined
    ) {
      // A prefix over the limit is left for next() to refuse, under the limit in force then.
      const size = this.#peekSize();
      if (size >= 0 && size <= this.#maxFrameBytes) {
        this.#consume(4);
        this.#frameSize = size;
      }
    }
    if (
      this.#direct === undefined &&
      this.#frameSize >= MEDIUM_DIRECT_MIN_BYTES &&
      this.#buffered < this.#frameSize &&
      this.#error === undefined
    ) {
      // An untrusted prefix gets new memory only once half its frame has come; before that, the
      // frame may only take a buffer that already exists.
      const size = this.#frameSize;
      const trusted = this.#trustSizePrefix || this.#buffered * 2 >= size;
      const frame = trusted ? this.#allocate(size) : this.#allocateFree?.(size);
      if (frame === undefined) return sharedReadBuffer;
      // The bytes of this frame that came with earlier reads (all buffered bytes are its own).
      let filled = 0;
      while (this.#buffered > 0) {
        const chunk = this.#chunk(this.#head);
        const take = chunk.length - this.#offset;
        chunk.copy(frame, filled, this.#offset);
        filled += take;
        this.#consume(take);
      }
      this.#direct = frame;
      this.#directFilled = filled;
    }
    // A complete frame not pulled yet must not leave an empty read buffer behind.
    if (this.#direct !== undefined && this.#directFilled < this.#direct.length) {
      this.#directView = this.#direct.subarray(this.#directFilled);
      return this.#directView;
    }
    return sharedReadBuffer;
  }

  /** Takes the `n` bytes a socket read put at the start of `buf`, a buffer readBuffer() returned. */
  received(n: number, buf: Buffer): void {
    if (buf === this.#directView) {
      this.#directFilled += n;
      this.#directView = undefined;
      return;
    }
    if (buf === sharedReadBuffer) {
      const own = Buffer.allocUnsafe(n);
      buf.copy(own, 0, 0, n);
      this.push(own);
      return;
    }
    this.push(buf.subarray(0, n));
  }

  /** The big-endian int32 prefix at the front (which may straddle chunks), not consumed. */
  #peekSize(): number {
    let chunk = this.#chunk(this.#head);
    if (chunk.length - this.#offset >= 4) return chunk.readInt32BE(this.#offset);
    let size = 0;
    let i = this.#head;
    let pos = this.#offset;
    for (let n = 0; n < 4; n++) {
      while (pos >= chunk.length) {
        chunk = this.#chunk(++i);
        pos = 0;
      }
      size = (size << 8) | chunk.readUInt8(pos++);
    }
    return size; // `|` yields an int32, so a set top bit reads as negative, as Kafka reads it.
  }

  /** Copies a payload that spans chunks into one new buffer, the only copy the decoder makes. */
  #copyOut(size: number): Buffer {
    const payload = Buffer.allocUnsafe(size);
    let written = 0;
    while (written < size) {
      const chunk = this.#chunk(this.#head);
      const take = Math.min(chunk.length - this.#offset, size - written);
      chunk.copy(payload, written, this.#offset, this.#offset + take);
      written += take;
      this.#consume(take);
    }
    return payload;
  }

  /** Drops `n` bytes from the front; fully consumed chunks are released. */
  #consume(n: number): void {
    this.#buffered -= n;
    const chunks = this.#chunks;
    let offset = this.#offset + n;
    let head = this.#head;
    while (head < chunks.length) {
      const length = this.#chunk(head).length;
      if (offset < length) break;
      offset -= length;
      chunks[head++] = EMPTY;
    }
    if (head === chunks.length) {
      // Everything consumed: reuse the list from the start instead of letting it grow.
      chunks.length = 0;
      head = 0;
    } else if (head >= 64 && head * 2 >= chunks.length) {
      // A large frame arriving in many chunks: compact now and then, not on every frame.
      chunks.splice(0, head);
      head = 0;
    }
    this.#head = head;
    this.#offset = offset;
  }

  #chunk(index: number): Buffer {
    const chunk = this.#chunks[index];
    if (chunk === undefined)
      throw new Error(`frame decoder: no chunk at ${index} (buffer accounting is broken)`);
    return chunk;
  }
}

// Placeholder for released slots, so consumed chunks can be garbage collected.
const EMPTY = Buffer.alloc(0);
