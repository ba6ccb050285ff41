// Walks the records of a v2 batch payload (uncompressed, or after decompression) checking
// their structure the way Kafka's DefaultRecord reader does, without creating an object per
// record: lengths, varints, offset deltas 0..n-1, no bytes left over; and collecting what
// validation needs (oldest and newest timestamp, whether every record has a key).

/** What a scan found; reused between scans to keep the hot path allocation-free. */
export interface RecordScanResult {
  /** Smallest record timestamp other than -1 (NO_TIMESTAMP), or +Infinity. */
  minTimestamp: number;
  /** Largest record timestamp, or -1. */
  maxTimestamp: number;
  /** Whether every record has a non-null key. */
  allKeyed: boolean;
  /** Index of the record the error is about (for Produce's record_errors). */
  errorIndex: number;
}

/** A fresh result holder. */
export function newRecordScanResult(): RecordScanResult {
  return { minTimestamp: Infinity, maxTimestamp: -1, allKeyed: true, errorIndex: -1 };
}

// Read position of the varint helpers: module state so they can return a plain number.
let cursor = 0;

/** A zig-zag varint (int32), or NaN when malformed or running past end. */
function varint(buf: Uint8Array, end: number): number {
  let v = 0;
  let shift = 0;
  let pos = cursor;
  for (let i = 0; i < 5; i++) {
    if (pos >= end) return NaN;
    const b = buf[pos++] as number;
    v |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) {
      cursor = pos;
      return (v >>> 1) ^ -(v & 1);
    }
    shift += 7;
  }
  return NaN;
}

/** A zig-zag varlong as a number, or NaN when malformed, past end or beyond 2^53. */
function varlong(buf: Uint8Array, end: number): number {
  let v = 0;
  let mul = 1;
  let pos = cursor;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return NaN;
    const b = buf[pos++] as number;
    v += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      cursor = pos;
      if (v > Number.MAX_SAFE_INTEGER) return NaN;
      return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    }
    mul *= 128;
  }
  return NaN;
}

/**
 * Checks the count records in buf[start, end) against Kafka's record grammar. Returns null
 * when they are well formed (filling out), or what is wrong (out.errorIndex says where).
 * Timestamps are baseTimestamp + delta; a LogAppendTime batch's records are not read for
 * timestamps by the caller.
 */
export function scanRecords(
  buf: Uint8Array,
  start: number,
  end: number,
  count: number,
  baseTimestamp: number,
  out: RecordScanResult,
): string | null {
  out.minTimestamp = Infinity;
  out.maxTimestamp = -1;
  out.allKeyed = true;
  out.errorIndex = -1;
  cursor = start;
  for (let i = 0; i < count; i++) {
    out.errorIndex = i;
    const length = varint(buf, end);
    if (!(length >= 0)) return `record ${i}: bad length`;
    const recordEnd = cursor + length;
    if (recordEnd > end) return `record ${i}: length ${length} runs past the batch`;
    cursor += 1; // attributes
    const timestampDelta = varlong(buf, recordEnd);
    if (Number.isNaN(timestampDelta)) return `record ${i}: bad timestamp delta`;
    const offsetDelta = varint(buf, recordEnd);
    if (offsetDelta !== i) return `record ${i}: offset delta ${offsetDelta}, expected ${i}`;
    const keyLength = varint(buf, recordEnd);
    if (Number.isNaN(keyLength)) return `record ${i}: bad key length`;
    if (keyLength >= 0) cursor += keyLength;
    else out.allKeyed = false;
    if (cursor > recordEnd) return `record ${i}: key runs past the record`;
    const valueLength = varint(buf, recordEnd);
    if (Number.isNaN(valueLength)) return `record ${i}: bad value length`;
    if (valueLength > 0) cursor += valueLength;
    if (cursor > recordEnd) return `record ${i}: value runs past the record`;
    const headerCount = varint(buf, recordEnd);
    if (!(headerCount >= 0)) return `record ${i}: bad header count`;
    for (let h = 0; h < headerCount; h++) {
      const hk = varint(buf, recordEnd);
      if (!(hk >= 0)) return `record ${i}: bad header key length`;
      cursor += hk;
      if (cursor > recordEnd) return `record ${i}: header key runs past the record`;
      const hv = varint(buf, recordEnd);
      if (Number.isNaN(hv)) return `record ${i}: bad header value length`;
      if (hv > 0) cursor += hv;
      if (cursor > recordEnd) return `record ${i}: header value runs past the record`;
    }
    if (cursor !== recordEnd)
      return `record ${i}: declares ${length} bytes but holds ${length - (recordEnd - cursor)}`;
    const timestamp = baseTimestamp + timestampDelta;
    if (timestamp > out.maxTimestamp) out.maxTimestamp = timestamp;
    if (timestamp !== -1 && timestamp < out.minTimestamp) out.minTimestamp = timestamp;
  }
  out.errorIndex = -1;
  if (cursor !== end) return `${end - cursor} bytes left after the batch's ${count} records`;
  return null;
}
