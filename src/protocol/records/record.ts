// One record inside a v2 batch (DefaultRecord): its size, encoding and decoding.
//   length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
//   key (varint length, -1 = null), value (likewise), headers: varint count, then per
//   header a varint-length UTF-8 key and a varint-length nullable value.
// Keys, values and header values decode as views into the batch's bytes, not copies.
import { DecodeError, EncodeError } from "../errors.ts";
import type { Reader } from "../reader.ts";
import { uvarintSize, type Writer } from "../writer.ts";

/** A decoded record header; the value is a view into the batch. */
export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A record header to encode. */
export interface RecordHeaderInput {
  key: string;
  value: Uint8Array | null;
}

/**
 * A decoded record. Its offset is the batch's baseOffset + offsetDelta (see recordOffset);
 * timestamp is absolute, in ms (for LogAppendTime batches it is the batch maxTimestamp, as
 * Kafka's Java client reports it).
 */
export interface DecodedRecord {
  attributes: number;
  timestamp: number;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly RecordHeader[];
}

/** A record to encode. A DecodedRecord is one, so decoded records re-encode as they are. */
export interface RecordInput {
  key?: Uint8Array | null;
  value?: Uint8Array | null;
  headers?: readonly RecordHeaderInput[];
  /** Absolute ms; defaults to the batch's default timestamp. */
  timestamp?: number;
  /** Defaults to the record's index in the batch. */
  offsetDelta?: number;
  /** Unused by Kafka; kept so that records re-encode byte for byte. */
  attributes?: number;
}

/**
 * The fewest bytes a record takes: length, attributes, timestampDelta, offsetDelta, key
 * length, value length and header count of one byte each. It bounds how many records a
 * given number of bytes can hold.
 */
export const MIN_RECORD_SIZE = 7;

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

// Record timestamps are stored as deltas from the batch's baseTimestamp; deltas that fit a
// 4-byte varlong (about ±18 hours) take a fast path without bigint.
const FAST_VARLONG_BYTES = 4;

/** Zig-zag varint size of an int32. */
export function varintSize(v: number): number {
  return uvarintSize(((v << 1) ^ (v >> 31)) >>> 0);
}

/** Zig-zag varlong size of an integer number of up to 53 bits. */
export function varlongSize(v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return uvarintSize(((v << 1) ^ (v >> 31)) >>> 0);
  let zz = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (zz >= 128) {
    zz = Math.floor(zz / 128);
    n++;
  }
  return n;
}

function bytesFieldSize(b: Uint8Array | null | undefined): number {
  return b === null || b === undefined ? 1 : varintSize(b.length) + b.length;
}

/** Size of a record's body (everything after its length varint). */
export function recordBodySize(rec: RecordInput, timestampDelta: number, offsetDelta: number): number {
  let size =
    1 +
    varlongSize(timestampDelta) +
    varintSize(offsetDelta) +
    bytesFieldSize(rec.key) +
    bytesFieldSize(rec.value);
  const headers = rec.headers;
  if (headers === undefined) return size + 1;
  size += varintSize(headers.length);
  for (const h of headers) {
    const keyLength = Buffer.byteLength(h.key, "utf8");
    size += varintSize(keyLength) + keyLength + bytesFieldSize(h.value);
  }
  return size;
}

/** Writes one record whose body size recordBodySize computed. */
export function writeRecord(
  w: Writer,
  rec: RecordInput,
  timestampDelta: number,
  offsetDelta: number,
  bodySize: number,
): void {
  w.varint(bodySize);
  const start = w.pos;
  w.int8(rec.attributes ?? 0);
  writeVarlongNumber(w, timestampDelta);
  w.varint(offsetDelta);
  writeBytesField(w, rec.key);
  writeBytesField(w, rec.value);
  const headers = rec.headers;
  if (headers === undefined) {
    w.varint(0);
  } else {
    w.varint(headers.length);
    for (const h of headers) {
      const keyLength = Buffer.byteLength(h.key, "utf8");
      w.varint(keyLength);
      w.reserve(keyLength);
      w.pos += w.buf.write(h.key, w.pos, keyLength, "utf8");
      writeBytesField(w, h.value);
    }
  }
  if (w.pos - start !== bodySize)
    throw new EncodeError(`record body is ${w.pos - start} bytes, sized ${bodySize}`);
}

function writeBytesField(w: Writer, b: Uint8Array | null | undefined): void {
  if (b === null || b === undefined) {
    w.varint(-1);
  } else {
    w.varint(b.length);
    w.raw(b);
  }
}

// Zig-zag varlong of an integer number of up to 53 bits, without going through bigint.
function writeVarlongNumber(w: Writer, v: number): void {
  if (v >= -0x40000000 && v < 0x40000000) {
    w.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
    return;
  }
  let zz = v >= 0 ? v * 2 : -v * 2 - 1;
  w.reserve(10);
  const buf = w.buf;
  while (zz >= 128) {
    buf[w.pos++] = (zz % 128) | 0x80;
    zz = Math.floor(zz / 128);
  }
  buf[w.pos++] = zz;
}

/** Builds the caller's own record object from a record's fields (one allocation per record). */
export type RecordMaker<T> = (
  attributes: number,
  timestamp: number,
  offsetDelta: number,
  key: Buffer | null,
  value: Buffer | null,
  headers: readonly RecordHeader[],
) => T;

const decodedRecord: RecordMaker<DecodedRecord> = (
  attributes,
  timestamp,
  offsetDelta,
  key,
  value,
  headers,
) => ({
  attributes,
  timestamp,
  offsetDelta,
  key,
  value,
  headers,
});

/**
 * Reads one record. baseTimestamp turns deltas into absolute times; logAppendTime, when not
 * null, replaces every record's timestamp. Throws DecodeError on any malformed field.
 */
export function readRecord(r: Reader, baseTimestamp: number, logAppendTime: number | null): DecodedRecord {
  return readRecordAs(r, baseTimestamp, logAppendTime, decodedRecord);
}

/** readRecord, building the record with `make`. */
export function readRecordAs<T>(
  r: Reader,
  baseTimestamp: number,
  logAppendTime: number | null,
  make: RecordMaker<T>,
): T {
  const bodySize = r.varint();
  if (bodySize < 0 || bodySize > r.remaining) {
    throw new DecodeError(
      `record length ${bodySize} at offset ${r.pos} exceeds the ${r.remaining} bytes left`,
    );
  }
  const recordEnd = r.pos + bodySize;
  const attributes = r.int8();
  const timestampDelta = readVarlongNumber(r);
  const offsetDelta = r.varint();
  const key = readBytesField(r);
  const value = readBytesField(r);
  const headerCount = r.varint();
  if (headerCount < 0 || headerCount > r.remaining) {
    throw new DecodeError(`invalid record header count ${headerCount} at offset ${r.pos}`);
  }
  let headers = NO_HEADERS;
  if (headerCount > 0) {
    const list: RecordHeader[] = [];
    for (let i = 0; i < headerCount; i++) {
      const keyLength = r.varint();
      if (keyLength < 0) throw new DecodeError(`negative record header key length at offset ${r.pos}`);
      r.need(keyLength);
      const headerKey = r.buf.toString("utf8", r.pos, r.pos + keyLength);
      r.pos += keyLength;
      list.push({ key: headerKey, value: readBytesField(r) });
    }
    headers = list;
  }
  if (r.pos !== recordEnd) {
    throw new DecodeError(
      `record at offset ${recordEnd - bodySize} declares ${bodySize} bytes but holds ${r.pos - recordEnd + bodySize}`,
    );
  }
  const timestamp = logAppendTime ?? baseTimestamp + timestampDelta;
  if (!Number.isSafeInteger(timestamp)) {
    throw new DecodeError(`record timestamp ${baseTimestamp} + ${timestampDelta} is beyond ±2^53 ms`);
  }
  return make(attributes, timestamp, offsetDelta, key, value, headers);
}

// Kafka's Java reader treats any negative length as null.
function readBytesField(r: Reader): Buffer | null {
  const length = r.varint();
  if (length < 0) return null;
  r.need(length);
  const b = r.buf.subarray(r.pos, r.pos + length);
  r.pos += length;
  return b;
}

// A zig-zag varlong as a number. Short ones are decoded inline; longer ones go through the
// Reader's exact bigint decoding and must fit 53 bits.
function readVarlongNumber(r: Reader): number {
  const buf = r.buf;
  const start = r.pos;
  const end = Math.min(r.end, start + FAST_VARLONG_BYTES);
  let u = 0;
  for (let pos = start, shift = 0; pos < end; shift += 7) {
    const b = buf[pos++] as number;
    u |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) {
      r.pos = pos;
      return (u >>> 1) ^ -(u & 1);
    }
  }
  const v = r.varlong();
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new DecodeError(`timestamp delta ${v} at offset ${start} is beyond ±2^53 ms`);
  }
  return Number(v);
}
