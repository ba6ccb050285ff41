// Growable writer of Kafka wire primitives. One Writer builds one frame; `finish()`
// returns a view of the bytes written, with no copy. A gathering writer (for frames) keeps
// large byte fields (record batches) as references instead of copying them, and hands the
// frame out as a list of chunks for a vectored socket write.
import { EncodeError } from "./errors.ts";

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** Byte fields at least this long are referenced, not copied, by a gathering writer. */
export const GATHER_MIN_BYTES = 16 * 1024;

export class Writer {
  buf: Buffer;
  pos = 0;
  /** Completed chunks before buf (gathering writers only). */
  #chunks: Buffer[] | null = null;
  #chunkedBytes = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** A writer whose large raw() inputs are referenced rather than copied; read it with finishChunks(). */
  static gathering(initialSize = 256): Writer {
    const w = new Writer(initialSize);
    w.#chunks = [];
    return w;
  }

  /** Bytes written in all, chunks included. */
  get length(): number {
    return this.#chunkedBytes + this.pos;
  }

  /**
   * The frame as chunks, in order: views of the writer's buffers and the referenced inputs,
   * which must not change until the chunks are written out.
   */
  finishChunks(): Buffer[] {
    const tail = this.buf.subarray(0, this.pos);
    if (this.#chunks === null || this.#chunks.length === 0) return [tail];
    return this.pos === 0 ? [...this.#chunks] : [...this.#chunks, tail];
  }

  /** Makes room for n more bytes. */
  reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, 256);
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** The bytes written so far (a view, valid until the writer is written to again). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  int8(v: number): this {
    this.reserve(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
    return this;
  }

  uint8(v: number): this {
    this.reserve(1);
    this.buf[this.pos++] = v;
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  int16(v: number): this {
    this.reserve(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  uint16(v: number): this {
    this.reserve(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.reserve(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(v: number): this {
    this.reserve(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  int64(v: bigint): this {
    this.reserve(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  float64(v: number): this {
    this.reserve(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  /** Unsigned varint of a value in [0, 2^32). */
  uvarint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new EncodeError(`uvarint out of range: ${v}`);
    this.reserve(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  /** Zig-zag signed varint of an int32. */
  varint(v: number): this {
    if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX)
      throw new EncodeError(`varint out of range: ${v}`);
    return this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  uvarlong(v: bigint): this {
    this.reserve(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
    return this;
  }

  /** Zig-zag signed varlong of an int64. */
  varlong(v: bigint): this {
    return this.uvarlong(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
  }

  uuid(v: string): this {
    const b = Buffer.from(v, "base64url");
    if (b.length !== 16 || v.length !== 22) throw new EncodeError(`not a uuid: ${JSON.stringify(v)}`);
    return this.raw(b);
  }

  /** Copies bytes in as they are (a gathering writer references large ones instead). */
  raw(b: Uint8Array): this {
    const chunks = this.#chunks;
    if (chunks !== null && b.length >= GATHER_MIN_BYTES) {
      if (this.pos > 0) {
        chunks.push(this.buf.subarray(0, this.pos));
        this.#chunkedBytes += this.pos;
        // Later small writes go on in the rest of the current buffer.
        this.buf = this.buf.subarray(this.pos);
        this.pos = 0;
      }
      chunks.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      this.#chunkedBytes += b.length;
      return this;
    }
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  private utf8(s: string, len: number): this {
    this.reserve(len);
    this.pos += this.buf.write(s, this.pos, len, "utf8");
    return this;
  }

  string(s: string): this {
    const len = Buffer.byteLength(s, "utf8");
    if (len > 0x7fff) throw new EncodeError(`string of ${len} bytes exceeds the int16 length limit`);
    return this.int16(len).utf8(s, len);
  }

  nullableString(s: string | null): this {
    return s === null ? this.int16(-1) : this.string(s);
  }

  compactString(s: string): this {
    const len = Buffer.byteLength(s, "utf8");
    if (len > 0x7fff) throw new EncodeError(`string of ${len} bytes exceeds the int16 length limit`);
    return this.uvarint(len + 1).utf8(s, len);
  }

  compactNullableString(s: string | null): this {
    return s === null ? this.uvarint(0) : this.compactString(s);
  }

  bytes(b: Uint8Array): this {
    return this.int32(b.length).raw(b);
  }

  nullableBytes(b: Uint8Array | null): this {
    return b === null ? this.int32(-1) : this.bytes(b);
  }

  compactBytes(b: Uint8Array): this {
    return this.uvarint(b.length + 1).raw(b);
  }

  compactNullableBytes(b: Uint8Array | null): this {
    return b === null ? this.uvarint(0) : this.compactBytes(b);
  }

  /** Overwrites an int32 at an earlier position (for length prefixes). */
  int32At(pos: number, v: number): this {
    this.buf.writeInt32BE(v, pos);
    return this;
  }
}

/** Bytes a uvarint takes. */
export function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
