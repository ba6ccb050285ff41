// Bounds-checked reader of Kafka wire primitives over one Buffer. Every length is checked
// against the bytes that remain before anything is allocated, so a hostile length field
// fails with a DecodeError instead of allocating what it claims.
import { DecodeError } from "./errors.ts";

export class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  /**
   * Read a null where the schema says a string or bytes field is not nullable as empty instead
   * of failing. Set for responses: librdkafka's mock cluster answers a failed SyncGroup with a
   * null assignment, and a client must still see the error code (librdkafka's own client
   * accepts it). Requests stay strict.
   */
  lenientNulls = false;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless n more bytes are available. */
  need(n: number): void {
    if (n > this.end - this.pos || n < 0) {
      throw new DecodeError(`need ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`);
    }
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  /** Skips a tagged-fields section (KIP-482) whose fields the caller does not use. */
  skipTaggedFields(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  uint8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  float64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Unsigned varint of at most 32 bits (5 bytes), as in compact lengths and tags. */
  uvarint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) throw new DecodeError(`truncated varint at offset ${this.pos}`);
      const b = this.buf[this.pos++] as number;
      if (shift === 28 && b > 0x0f)
        throw new DecodeError(`varint overflows 32 bits at offset ${this.pos - 1}`);
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
    }
    throw new DecodeError(`varint longer than 5 bytes at offset ${this.pos}`);
  }

  /** Zig-zag signed varint of at most 32 bits. */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Unsigned varint of at most 64 bits (10 bytes). */
  uvarlong(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new DecodeError(`truncated varlong at offset ${this.pos}`);
      const b = this.buf[this.pos++] as number;
      if (shift === 63n && b > 1)
        throw new DecodeError(`varlong overflows 64 bits at offset ${this.pos - 1}`);
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new DecodeError(`varlong longer than 10 bytes at offset ${this.pos}`);
  }

  /** Zig-zag signed varlong of at most 64 bits. */
  varlong(): bigint {
    const u = this.uvarlong();
    return (u >> 1n) ^ -(u & 1n);
  }

  /** 16-byte uuid in Kafka's string form (URL-safe base64, no padding). */
  uuid(): string {
    this.need(16);
    const s = this.buf.toString("base64url", this.pos, this.pos + 16);
    this.pos += 16;
    return s;
  }

  private utf8(len: number): string {
    this.need(len);
    const s = this.buf.toString("utf8", this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  private slice(len: number): Buffer {
    this.need(len);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  string(): string {
    const len = this.int16();
    if (len < 0) throw new DecodeError(`null string where a string is required at offset ${this.pos - 2}`);
    return this.utf8(len);
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len === -1) return null;
    if (len < 0) throw new DecodeError(`negative string length ${len} at offset ${this.pos - 2}`);
    return this.utf8(len);
  }

  compactString(): string {
    const len = this.uvarint() - 1;
    if (len < 0) throw new DecodeError(`null string where a string is required at offset ${this.pos}`);
    return this.utf8(len);
  }

  compactNullableString(): string | null {
    const len = this.uvarint() - 1;
    return len < 0 ? null : this.utf8(len);
  }

  /** Bytes are returned as a view into the frame, not a copy. */
  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) throw new DecodeError(`null bytes where bytes are required at offset ${this.pos - 4}`);
    return this.slice(len);
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len === -1) return null;
    if (len < 0) throw new DecodeError(`negative bytes length ${len} at offset ${this.pos - 4}`);
    return this.slice(len);
  }

  compactBytes(): Buffer {
    const len = this.uvarint() - 1;
    if (len < 0) throw new DecodeError(`null bytes where bytes are required at offset ${this.pos}`);
    return this.slice(len);
  }

  compactNullableBytes(): Buffer | null {
    const len = this.uvarint() - 1;
    return len < 0 ? null : this.slice(len);
  }

  /**
   * Array element count (-1 for null). A count larger than the bytes left is rejected, as
   * Kafka's own readers do: no element is encoded in less than one byte on the wire that
   * matters, and this bounds the work a hostile count can cause.
   */
  arrayLength(): number {
    const n = this.int32();
    if (n < -1) throw new DecodeError(`negative array length ${n} at offset ${this.pos - 4}`);
    if (n > this.end - this.pos)
      throw new DecodeError(`array length ${n} exceeds the ${this.end - this.pos} bytes left`);
    return n;
  }

  compactArrayLength(): number {
    const n = this.uvarint() - 1;
    if (n > this.end - this.pos)
      throw new DecodeError(`array length ${n} exceeds the ${this.end - this.pos} bytes left`);
    return n;
  }
}
