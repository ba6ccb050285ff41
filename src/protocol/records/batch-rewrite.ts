// Header rewrites for batches that otherwise pass through untouched: the broker assigns
// baseOffset and partitionLeaderEpoch, the replication link swaps in its own producer
// id/epoch/sequence. The payload is never decompressed; since CRC-32C is linear, the new
// CRC is the old one XOR the CRC of the header difference carried past the payload, which
// costs the same for a 100-byte batch as for a 1 MiB one.
import { crc32c, crc32cShift, crc32cUpdate } from "../crc32c.ts";
import { DecodeError, EncodeError } from "../errors.ts";
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  CRC_OFFSET,
  CRC_START,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  checkedBatchEnd,
  writeTimestamp,
} from "./batch-header.ts";

/** Header fields to change; those left undefined keep their value. */
export interface BatchHeaderPatch {
  /** Not covered by the CRC. */
  baseOffset?: bigint;
  /** Not covered by the CRC. */
  partitionLeaderEpoch?: number;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  /** Sets or clears the transactional attribute bit. */
  transactional?: boolean;
  /** Marks the batch LogAppendTime with this maxTimestamp, as a broker does for such topics. */
  logAppendTime?: number;
}

export interface RewriteOptions {
  /**
   * Check the stored CRC before rewriting (default true). A rewrite would otherwise give a
   * corrupted batch a fresh valid CRC; pass false only for a batch verified since it was read.
   */
  verifyCrc?: boolean;
}

const INT16_MIN = -0x8000;
const INT16_MAX = 0x7fff;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

// The CRC-covered header bytes (attributes..recordCount) before the patch, and then their
// XOR with the bytes after it. Module scope: rewrites allocate nothing.
const COVERED = RECORDS_OFFSET - CRC_START;
const scratch = Buffer.alloc(COVERED);

/** Applies a patch to the v2 batch at pos in place and fixes its CRC without reading the payload. */
export function rewriteBatchHeader(
  buf: Buffer,
  pos: number,
  patch: BatchHeaderPatch,
  options: RewriteOptions = {},
): void {
  checkPatch(patch);
  const end = checkedBatchEnd(buf, pos);
  if (
    options.verifyCrc !== false &&
    crc32c(buf, pos + CRC_START, end) !== buf.readUInt32BE(pos + CRC_OFFSET)
  ) {
    throw new DecodeError(`record batch at offset ${pos} fails its CRC check; refusing to rewrite it`);
  }
  if (patch.baseOffset !== undefined) buf.writeBigInt64BE(patch.baseOffset, pos + BASE_OFFSET_OFFSET);
  if (patch.partitionLeaderEpoch !== undefined) {
    buf.writeInt32BE(patch.partitionLeaderEpoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
  }
  if (
    patch.producerId === undefined &&
    patch.producerEpoch === undefined &&
    patch.baseSequence === undefined &&
    patch.transactional === undefined &&
    patch.logAppendTime === undefined
  ) {
    return;
  }
  const covered = pos + CRC_START;
  buf.copy(scratch, 0, covered, covered + COVERED);
  if (patch.producerId !== undefined) buf.writeBigInt64BE(patch.producerId, pos + PRODUCER_ID_OFFSET);
  if (patch.producerEpoch !== undefined) buf.writeInt16BE(patch.producerEpoch, pos + PRODUCER_EPOCH_OFFSET);
  if (patch.baseSequence !== undefined) buf.writeInt32BE(patch.baseSequence, pos + BASE_SEQUENCE_OFFSET);
  let attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  if (patch.transactional !== undefined) {
    attributes = patch.transactional
      ? attributes | TRANSACTIONAL_FLAG_MASK
      : attributes & ~TRANSACTIONAL_FLAG_MASK;
  }
  if (patch.logAppendTime !== undefined) {
    attributes |= TIMESTAMP_TYPE_MASK;
    writeTimestamp(buf, pos + MAX_TIMESTAMP_OFFSET, patch.logAppendTime);
  }
  buf.writeInt16BE(attributes, pos + ATTRIBUTES_OFFSET);
  for (let i = 0; i < COVERED; i++) scratch[i] = (scratch[i] as number) ^ (buf[covered + i] as number);
  // Equal-length messages: crc(new) = crc(old) ^ rawCrc(difference), and the difference is
  // the header delta followed by as many zero bytes as the payload holds.
  const delta = crc32cShift(crc32cUpdate(0, scratch, 0, COVERED), end - (pos + RECORDS_OFFSET));
  buf.writeUInt32BE((buf.readUInt32BE(pos + CRC_OFFSET) ^ delta) >>> 0, pos + CRC_OFFSET);
}

/** Copies the v2 batch at pos into a new Buffer and applies the patch to the copy. */
export function copyBatchWithHeader(
  buf: Buffer,
  pos: number,
  patch: BatchHeaderPatch,
  options: RewriteOptions = {},
): Buffer {
  const end = checkedBatchEnd(buf, pos);
  const copy = Buffer.allocUnsafe(end - pos);
  buf.copy(copy, 0, pos, end);
  rewriteBatchHeader(copy, 0, patch, options);
  return copy;
}

function checkPatch(patch: BatchHeaderPatch): void {
  checkInt64("baseOffset", patch.baseOffset);
  checkInt64("producerId", patch.producerId);
  checkInt("partitionLeaderEpoch", patch.partitionLeaderEpoch, INT32_MIN, INT32_MAX);
  checkInt("producerEpoch", patch.producerEpoch, INT16_MIN, INT16_MAX);
  checkInt("baseSequence", patch.baseSequence, INT32_MIN, INT32_MAX);
  if (patch.logAppendTime !== undefined && !Number.isSafeInteger(patch.logAppendTime)) {
    throw new EncodeError(`logAppendTime must be an integer number of ms, got ${patch.logAppendTime}`);
  }
}

function checkInt(name: string, v: number | undefined, min: number, max: number): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max)) {
    throw new EncodeError(`${name} ${v} is outside [${min}, ${max}]`);
  }
}

function checkInt64(name: string, v: bigint | undefined): void {
  if (v !== undefined && (v < INT64_MIN || v > INT64_MAX))
    throw new EncodeError(`${name} ${v} is not an int64`);
}
