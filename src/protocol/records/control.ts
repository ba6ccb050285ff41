// Control records: the single record of a control batch. Its key is (version int16, type
// int16); for transaction markers (ABORT, COMMIT) the value is (version int16,
// coordinatorEpoch int32). Other types (KRaft's) have values this module leaves opaque.
import { DecodeError, EncodeError } from "../errors.ts";

/** Control record types (Kafka's ControlRecordType). */
export const ControlRecordType = {
  ABORT: 0,
  COMMIT: 1,
  LEADER_CHANGE: 2,
  SNAPSHOT_HEADER: 3,
  SNAPSHOT_FOOTER: 4,
  KRAFT_VERSION: 5,
  KRAFT_VOTERS: 6,
} as const;

const CONTROL_KEY_VERSION = 0;
const CONTROL_KEY_SIZE = 4;
const END_TXN_MARKER_VERSION = 0;
const END_TXN_MARKER_VALUE_SIZE = 6;

export interface ControlRecordKey {
  version: number;
  type: number;
}

/** The 4-byte key of a control record of the given type. */
export function encodeControlKey(type: number): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 0x7fff)
    throw new EncodeError(`bad control record type ${type}`);
  const b = Buffer.allocUnsafe(CONTROL_KEY_SIZE);
  b.writeInt16BE(CONTROL_KEY_VERSION, 0);
  b.writeInt16BE(type, 2);
  return b;
}

/**
 * Parses a control record key. Like Kafka, a newer key version is read as version 0 and a
 * negative one is corruption.
 */
export function decodeControlKey(key: Uint8Array | null): ControlRecordKey {
  if (key === null || key.length < CONTROL_KEY_SIZE) {
    throw new DecodeError(`control record key needs ${CONTROL_KEY_SIZE} bytes, has ${key?.length ?? "null"}`);
  }
  const view = Buffer.from(key.buffer, key.byteOffset, key.length);
  const version = view.readInt16BE(0);
  if (version < 0) throw new DecodeError(`control record key version ${version} is negative`);
  return { version, type: view.readInt16BE(2) };
}

/** The value of an ABORT or COMMIT marker. */
export function encodeEndTxnMarkerValue(coordinatorEpoch: number): Buffer {
  if (
    !Number.isInteger(coordinatorEpoch) ||
    coordinatorEpoch < -0x80000000 ||
    coordinatorEpoch > 0x7fffffff
  ) {
    throw new EncodeError(`coordinatorEpoch ${coordinatorEpoch} is not an int32`);
  }
  const b = Buffer.allocUnsafe(END_TXN_MARKER_VALUE_SIZE);
  b.writeInt16BE(END_TXN_MARKER_VERSION, 0);
  b.writeInt32BE(coordinatorEpoch, 2);
  return b;
}

/** Parses the value of an ABORT or COMMIT marker. */
export function decodeEndTxnMarkerValue(value: Uint8Array | null): {
  version: number;
  coordinatorEpoch: number;
} {
  if (value === null || value.length < END_TXN_MARKER_VALUE_SIZE) {
    throw new DecodeError(
      `end transaction marker value needs ${END_TXN_MARKER_VALUE_SIZE} bytes, has ${value?.length ?? "null"}`,
    );
  }
  const view = Buffer.from(value.buffer, value.byteOffset, value.length);
  const version = view.readInt16BE(0);
  if (version < 0) throw new DecodeError(`end transaction marker version ${version} is negative`);
  return { version, coordinatorEpoch: view.readInt32BE(2) };
}

/**
 * The control record type of the stored control batch at buf[pos, end): read from its first
 * record's key, without decoding the batch (control batches are never compressed). -1 when
 * the bytes do not hold a readable key (a truncated view, or a malformed batch).
 */
export function readControlRecordType(buf: Buffer, pos: number, end: number): number {
  // Records start after the 61-byte batch header: length, attributes, timestampDelta,
  // offsetDelta (varints, one int8), then the key length and the key.
  let at = pos + 61;
  for (let field = 0; field < 4; field++) {
    if (field === 1) {
      at++;
      continue;
    }
    const skipped = skipVarint(buf, at, end);
    if (skipped < 0) return -1;
    at = skipped;
  }
  let raw = 0;
  let shift = 0;
  for (;;) {
    if (at >= end || shift > 28) return -1;
    const b = buf[at++] as number;
    raw |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  const keyLength = (raw >>> 1) ^ -(raw & 1);
  if (keyLength < CONTROL_KEY_SIZE || at + CONTROL_KEY_SIZE > end) return -1;
  if (buf.readInt16BE(at) < 0) return -1;
  return buf.readInt16BE(at + 2);
}

function skipVarint(buf: Buffer, at: number, end: number): number {
  for (let i = 0; i < 10; i++) {
    if (at >= end) return -1;
    if (((buf[at++] as number) & 0x80) === 0) return at;
  }
  return -1;
}
