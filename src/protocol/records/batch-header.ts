// The fixed 61-byte header of a magic v2 record batch: its layout, attribute bits, reading
// it without touching the payload, CRC checks, and walking a `records` blob batch by batch.
// Magic 0 and 1 (removed in Kafka 4) are recognised only to be refused with a typed error.
import { crc32c } from "../crc32c.ts";
import { DecodeError, ProtocolError } from "../errors.ts";

// Byte offsets within a batch (DefaultRecordBatch's layout).
export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;
/** Size of the v2 batch header; also the size of a batch with no records. */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
/** baseOffset and batchLength: the bytes not counted by batchLength. */
export const LOG_OVERHEAD = 12;
/** The CRC covers attributes to the end of the batch. */
export const CRC_START = ATTRIBUTES_OFFSET;
/** Smallest legal batchLength of a v2 batch. */
export const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;
// The smallest v0 message (crc, magic, attributes, null key, null value) after its length.
const MIN_LEGACY_MESSAGE_LENGTH = 14;

export const CURRENT_MAGIC = 2;

// Attribute bits.
export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

/** Kafka's timestamp types (attribute bit 3). */
export const TimestampType = { CREATE_TIME: 0, LOG_APPEND_TIME: 1 } as const;
export type TimestampTypeId = (typeof TimestampType)[keyof typeof TimestampType];

// Sentinels Kafka uses when a batch has no producer, sequence, leader epoch or timestamp.
export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

/** Kafka error code for a message format the broker no longer supports. */
const UNSUPPORTED_FOR_MESSAGE_FORMAT = 43;

/** A batch whose magic is not 2: old message formats are gone since Kafka 4. */
export class UnsupportedMagicError extends ProtocolError {
  readonly magic: number;

  constructor(magic: number, pos: number) {
    super(
      UNSUPPORTED_FOR_MESSAGE_FORMAT,
      `record batch at offset ${pos} has magic ${magic}; only magic 2 is supported`,
    );
    this.name = "UnsupportedMagicError";
    this.magic = magic;
  }
}

/**
 * The fields of a v2 batch header. Offsets and producer ids are bigint (int64 identities);
 * timestamps are numbers of milliseconds since the epoch, exact up to year 287396.
 */
export interface BatchHeader {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** The compression codec id (attribute bits 0-2). */
export function compressionOf(attributes: number): number {
  return attributes & COMPRESSION_CODEC_MASK;
}

/** The timestamp type (attribute bit 3): CREATE_TIME or LOG_APPEND_TIME. */
export function timestampTypeOf(attributes: number): TimestampTypeId {
  return (attributes & TIMESTAMP_TYPE_MASK) === 0 ? TimestampType.CREATE_TIME : TimestampType.LOG_APPEND_TIME;
}

/** Whether the batch belongs to a transaction (attribute bit 4). */
export function isTransactional(attributes: number): boolean {
  return (attributes & TRANSACTIONAL_FLAG_MASK) !== 0;
}

/** Whether the batch holds a control record (attribute bit 5). */
export function isControl(attributes: number): boolean {
  return (attributes & CONTROL_FLAG_MASK) !== 0;
}

/** Whether baseTimestamp is the compaction delete horizon (attribute bit 6). */
export function hasDeleteHorizon(attributes: number): boolean {
  return (attributes & DELETE_HORIZON_FLAG_MASK) !== 0;
}

/** Builds an attributes value from its parts. */
export function makeAttributes(parts: {
  compression?: number;
  timestampType?: number;
  transactional?: boolean;
  control?: boolean;
  deleteHorizon?: boolean;
}): number {
  return (
    ((parts.compression ?? 0) & COMPRESSION_CODEC_MASK) |
    (parts.timestampType === TimestampType.LOG_APPEND_TIME ? TIMESTAMP_TYPE_MASK : 0) |
    (parts.transactional === true ? TRANSACTIONAL_FLAG_MASK : 0) |
    (parts.control === true ? CONTROL_FLAG_MASK : 0) |
    (parts.deleteHorizon === true ? DELETE_HORIZON_FLAG_MASK : 0)
  );
}

/** The magic byte of the batch (or legacy message) at pos, whatever its version. */
export function readMagic(buf: Uint8Array, pos = 0): number {
  if (!(pos >= 0 && buf.length - pos > MAGIC_OFFSET)) {
    throw new DecodeError(`need ${MAGIC_OFFSET + 1} bytes at offset ${pos} to read a magic byte`);
  }
  return ((buf[pos + MAGIC_OFFSET] as number) << 24) >> 24;
}

/**
 * Reads the header of the v2 batch at pos. Needs only the 61 header bytes: the payload is
 * neither read nor required to be present, and the CRC is not checked (verifyBatchCrc).
 */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  const magic = readMagic(buf, pos);
  if (magic !== CURRENT_MAGIC) throw new UnsupportedMagicError(magic, pos);
  if (buf.length - pos < RECORD_BATCH_OVERHEAD) {
    throw new DecodeError(`record batch header at offset ${pos} is truncated (${buf.length - pos} bytes)`);
  }
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new DecodeError(
      `record batch at offset ${pos} has batchLength ${batchLength} < ${MIN_BATCH_LENGTH}`,
    );
  }
  return {
    baseOffset: buf.readBigInt64BE(pos + BASE_OFFSET_OFFSET),
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic,
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes: buf.readInt16BE(pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readTimestamp(buf, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readTimestamp(buf, pos + MAX_TIMESTAMP_OFFSET),
    producerId: buf.readBigInt64BE(pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(pos + RECORD_COUNT_OFFSET),
  };
}

/**
 * An int64 millisecond timestamp as a number. Values beyond 2^53 cannot be real times and
 * would lose precision, so they are refused rather than rounded.
 */
export function readTimestamp(buf: Buffer, pos: number): number {
  const hi = buf.readInt32BE(pos);
  const v = hi * 0x100000000 + buf.readUInt32BE(pos + 4);
  if (!Number.isSafeInteger(v)) throw new DecodeError(`timestamp at offset ${pos} is beyond ±2^53 ms`);
  return v;
}

/** Writes a millisecond timestamp as an int64. */
export function writeTimestamp(buf: Buffer, pos: number, ms: number): void {
  const hi = Math.floor(ms / 0x100000000);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(ms - hi * 0x100000000, pos + 4);
}

/** Size in bytes of the whole batch at pos (batchLength plus the 12 bytes before it). */
export function batchSize(buf: Buffer, pos = 0): number {
  if (!(pos >= 0 && buf.length - pos >= LOG_OVERHEAD)) {
    throw new DecodeError(`need ${LOG_OVERHEAD} bytes at offset ${pos} to read a batch length`);
  }
  return LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
}

/** The CRC-32C the batch at pos should carry, computed over attributes..end. */
export function computeBatchCrc(buf: Buffer, pos = 0): number {
  const end = checkedBatchEnd(buf, pos);
  return crc32c(buf, pos + CRC_START, end);
}

/** Whether the stored CRC of the complete v2 batch at pos matches its bytes. */
export function verifyBatchCrc(buf: Buffer, pos = 0): boolean {
  const end = checkedBatchEnd(buf, pos);
  return crc32c(buf, pos + CRC_START, end) === buf.readUInt32BE(pos + CRC_OFFSET);
}

/** End offset of the complete v2 batch at pos, after checking magic and bounds. */
export function checkedBatchEnd(buf: Buffer, pos: number): number {
  const magic = readMagic(buf, pos);
  if (magic !== CURRENT_MAGIC) throw new UnsupportedMagicError(magic, pos);
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new DecodeError(
      `record batch at offset ${pos} has batchLength ${batchLength} < ${MIN_BATCH_LENGTH}`,
    );
  }
  const end = pos + LOG_OVERHEAD + batchLength;
  if (end > buf.length) {
    throw new DecodeError(
      `record batch at offset ${pos} needs ${end - pos} bytes, ${buf.length - pos} present`,
    );
  }
  return end;
}

/** Where one batch lies in a records blob. A truncated span is always the last. */
export interface BatchSpan {
  start: number;
  end: number;
  /** The blob ends inside this batch (Fetch responses may do that); end is the blob's end. */
  truncated: boolean;
}

/**
 * Walks a records blob (as in Produce requests and Fetch responses) batch by batch, using
 * only each batch's length. A trailing partial batch is yielded with truncated = true, not
 * thrown; a length no batch can have is a DecodeError. Works for any magic, so callers can
 * read each span's magic and decide.
 */
export function* iterateBatches(
  buf: Buffer,
  start = 0,
  end = buf.length,
): Generator<BatchSpan, void, undefined> {
  if (!(start >= 0 && start <= end && end <= buf.length)) {
    throw new DecodeError(`records range [${start}, ${end}) outside a buffer of ${buf.length} bytes`);
  }
  let pos = start;
  while (pos < end) {
    if (end - pos < LOG_OVERHEAD) {
      yield { start: pos, end, truncated: true };
      return;
    }
    const length = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    const isV2 = end - pos > MAGIC_OFFSET && buf[pos + MAGIC_OFFSET] === CURRENT_MAGIC;
    if (length < (isV2 ? MIN_BATCH_LENGTH : MIN_LEGACY_MESSAGE_LENGTH)) {
      throw new DecodeError(`record batch at offset ${pos} has an impossible length ${length}`);
    }
    if (length > end - pos - LOG_OVERHEAD) {
      yield { start: pos, end, truncated: true };
      return;
    }
    const next = pos + LOG_OVERHEAD + length;
    yield { start: pos, end: next, truncated: false };
    pos = next;
  }
}
