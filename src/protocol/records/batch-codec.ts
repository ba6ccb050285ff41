// Full encoding and decoding of magic v2 record batches, records included, compressed or
// not. The hot paths (broker append, link copy) keep batches opaque and use batch-header.ts
// and batch-rewrite.ts; this module is for producing, consuming and re-encoding.
//
// Decoding trusts nothing: every length is checked against the bytes present, a record
// count is checked against the least space that many records take, decompression is
// capped (maxDecompressedBytes), and all failures are ProtocolErrors.
import { allocateUnsafe, type Allocate } from "../allocate.ts";
import { crc32c } from "../crc32c.ts";
import { DecodeError, EncodeError } from "../errors.ts";
import { Reader } from "../reader.ts";
import { Writer } from "../writer.ts";
import {
  CompressionCodec,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  codecName,
  compressWithRoom,
  decompress,
  isCompressionCodec,
} from "../compression/index.ts";
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CRC_START,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  TimestampType,
  checkedBatchEnd,
  compressionOf,
  iterateBatches,
  makeAttributes,
  readBatchHeader,
  timestampTypeOf,
  writeTimestamp,
  type BatchHeader,
  type TimestampTypeId,
} from "./batch-header.ts";
import {
  MIN_RECORD_SIZE,
  readRecord,
  readRecordAs,
  type RecordMaker,
  recordBodySize,
  varintSize,
  writeRecord,
  type DecodedRecord,
  type RecordInput,
} from "./record.ts";
import { ControlRecordType, encodeControlKey, encodeEndTxnMarkerValue } from "./control.ts";

/** What encodeBatch needs; everything but records has Kafka's "none" default. */
export interface EncodeBatchOptions {
  records: readonly RecordInput[];
  /** Default 0n; brokers assign the real one on append. */
  baseOffset?: bigint;
  /** Default -1 (NO_PARTITION_LEADER_EPOCH). */
  partitionLeaderEpoch?: number;
  /** Codec id (CompressionCodec); default NONE. */
  compression?: number;
  /** Level for gzip and zstd. */
  compressionLevel?: number;
  /**
   * Where the batch's bytes go: returns a buffer of exactly the size asked for (default
   * Buffer.allocUnsafe). A producer that knows when a batch is done hands out pooled memory.
   */
  allocate?: Allocate;
  /** Default CREATE_TIME. */
  timestampType?: TimestampTypeId;
  transactional?: boolean;
  isControl?: boolean;
  /** Default -1n (no producer id). */
  producerId?: bigint;
  /** Default -1. */
  producerEpoch?: number;
  /** Default -1 (NO_SEQUENCE). */
  baseSequence?: number;
  /** Timestamp of records that carry none; default Date.now(). */
  timestamp?: number;
  /** Default the first record's timestamp, or -1 for an empty batch. */
  baseTimestamp?: number;
  /** Default the largest record timestamp (at least -1); a LogAppendTime batch sets it to the append time. */
  maxTimestamp?: number;
  /** Default the last record's offsetDelta (0 for an empty batch); compaction keeps it larger. */
  lastOffsetDelta?: number;
  /** Sets the delete-horizon attribute; baseTimestamp then holds this value. */
  deleteHorizonMs?: number;
}

export interface DecodeBatchOptions {
  /** Check the CRC-32C before decoding (default true). */
  verifyCrc?: boolean;
  /** Limit of the decompressed records of one batch (default 64 MiB). */
  maxDecompressedBytes?: number;
}

/** A decoded batch. */
export interface RecordBatch {
  header: BatchHeader;
  records: DecodedRecord[];
}

const INT16_MIN = -0x8000;
const INT16_MAX = 0x7fff;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Encodes a v2 batch, compressing its records if asked; returns exactly the batch's bytes. */
export function encodeBatch(options: EncodeBatchOptions): Buffer {
  const records = options.records;
  const n = records.length;
  const compression = options.compression ?? CompressionCodec.NONE;
  if (!isCompressionCodec(compression)) throw new EncodeError(`unknown compression codec ${compression}`);
  const baseOffset = options.baseOffset ?? 0n;
  const producerId = options.producerId ?? NO_PRODUCER_ID;
  checkInt64("baseOffset", baseOffset);
  checkInt64("producerId", producerId);
  const partitionLeaderEpoch = checkInt(
    "partitionLeaderEpoch",
    options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
    INT32_MIN,
    INT32_MAX,
  );
  const producerEpoch = checkInt(
    "producerEpoch",
    options.producerEpoch ?? NO_PRODUCER_EPOCH,
    INT16_MIN,
    INT16_MAX,
  );
  const baseSequence = checkInt("baseSequence", options.baseSequence ?? NO_SEQUENCE, INT32_MIN, INT32_MAX);

  const defaultTimestamp = checkTimestamp("timestamp", options.timestamp ?? Date.now());
  if (options.deleteHorizonMs !== undefined && options.baseTimestamp !== undefined) {
    throw new EncodeError(
      "deleteHorizonMs and baseTimestamp both set; the delete horizon is the base timestamp",
    );
  }
  const firstTimestamp = n > 0 ? ((records[0] as RecordInput).timestamp ?? defaultTimestamp) : NO_TIMESTAMP;
  const baseTimestamp = checkTimestamp(
    "baseTimestamp",
    options.deleteHorizonMs ?? options.baseTimestamp ?? firstTimestamp,
  );

  // Pass 1: validate, size every record, find maxTimestamp.
  const bodySizes = new Array<number>(n);
  let recordsSize = 0;
  let maxTimestamp = NO_TIMESTAMP;
  let previousDelta = -1;
  for (let i = 0; i < n; i++) {
    const rec = records[i] as RecordInput;
    const timestamp = checkTimestamp("record timestamp", rec.timestamp ?? defaultTimestamp);
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const offsetDelta = rec.offsetDelta ?? i;
    if (!Number.isInteger(offsetDelta) || offsetDelta <= previousDelta || offsetDelta > INT32_MAX) {
      throw new EncodeError(`record ${i} has offsetDelta ${offsetDelta}; deltas must increase from 0`);
    }
    previousDelta = offsetDelta;
    checkInt("record attributes", rec.attributes ?? 0, -0x80, 0x7f);
    const delta = timestampDelta(timestamp, baseTimestamp);
    const size = recordBodySize(rec, delta, offsetDelta);
    bodySizes[i] = size;
    recordsSize += varintSize(size) + size;
  }
  const lastOffsetDelta = checkInt(
    "lastOffsetDelta",
    options.lastOffsetDelta ?? Math.max(previousDelta, 0),
    Math.max(previousDelta, 0),
    INT32_MAX,
  );
  const finalMaxTimestamp = checkTimestamp("maxTimestamp", options.maxTimestamp ?? maxTimestamp);

  // Pass 2: write records, straight after the header when not compressed; otherwise into a
  // reused scratch buffer that the codec compresses from (fresh 100 KiB buffers per batch
  // keep the garbage collector busy).
  const inline = compression === CompressionCodec.NONE;
  const allocate = options.allocate ?? allocateUnsafe;
  const w = inline ? new Writer(0) : scratchWriter(recordsSize);
  if (inline) {
    w.buf = allocate(RECORDS_OFFSET + recordsSize);
    w.pos = RECORDS_OFFSET;
  }
  for (let i = 0; i < n; i++) {
    const rec = records[i] as RecordInput;
    const timestamp = rec.timestamp ?? defaultTimestamp;
    writeRecord(
      w,
      rec,
      timestampDelta(timestamp, baseTimestamp),
      rec.offsetDelta ?? i,
      bodySizes[i] as number,
    );
  }
  let out: Buffer;
  if (inline) {
    out = w.finish();
  } else {
    const level = options.compressionLevel;
    out = compressWithRoom(
      compression,
      w.finish(),
      RECORDS_OFFSET,
      level === undefined ? {} : { level },
      allocate,
    );
  }

  out.writeBigInt64BE(baseOffset, BASE_OFFSET_OFFSET);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt32BE(partitionLeaderEpoch, PARTITION_LEADER_EPOCH_OFFSET);
  out.writeInt8(CURRENT_MAGIC, MAGIC_OFFSET);
  const attributes = makeAttributes({
    compression,
    timestampType: options.timestampType ?? TimestampType.CREATE_TIME,
    transactional: options.transactional === true,
    control: options.isControl === true,
    deleteHorizon: options.deleteHorizonMs !== undefined,
  });
  out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  out.writeInt32BE(lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  writeTimestamp(out, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeTimestamp(out, MAX_TIMESTAMP_OFFSET, finalMaxTimestamp);
  out.writeBigInt64BE(producerId, PRODUCER_ID_OFFSET);
  out.writeInt16BE(producerEpoch, PRODUCER_EPOCH_OFFSET);
  out.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET);
  out.writeInt32BE(n, RECORD_COUNT_OFFSET);
  out.writeUInt32BE(crc32c(out, CRC_START, out.length), CRC_OFFSET);
  return out;
}

// Kept between calls up to this size; encodeBatch is synchronous, so one scratch suffices.
const SCRATCH_KEEP_BYTES = 4 * 1024 * 1024;
let scratch: Writer | undefined;

function scratchWriter(size: number): Writer {
  if (scratch !== undefined && scratch.buf.length >= size) {
    scratch.pos = 0;
    return scratch;
  }
  const w = new Writer(Math.max(size, 1));
  if (size <= SCRATCH_KEEP_BYTES) scratch = w;
  return w;
}

/** Encodes the control batch that ends a transaction (an ABORT or COMMIT marker). */
export function encodeEndTxnMarkerBatch(options: {
  commit: boolean;
  coordinatorEpoch: number;
  producerId: bigint;
  producerEpoch: number;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  timestamp?: number;
}): Buffer {
  const type = options.commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT;
  const batch: EncodeBatchOptions = {
    records: [{ key: encodeControlKey(type), value: encodeEndTxnMarkerValue(options.coordinatorEpoch) }],
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: NO_SEQUENCE,
    transactional: true,
    isControl: true,
  };
  if (options.baseOffset !== undefined) batch.baseOffset = options.baseOffset;
  if (options.partitionLeaderEpoch !== undefined) batch.partitionLeaderEpoch = options.partitionLeaderEpoch;
  if (options.timestamp !== undefined) batch.timestamp = options.timestamp;
  return encodeBatch(batch);
}

/** Decodes the complete v2 batch at pos, decompressing its records. */
export function decodeBatch(buf: Buffer, pos = 0, options: DecodeBatchOptions = {}): RecordBatch {
  const header = readBatchHeader(buf, pos);
  const records: DecodedRecord[] = [];
  decodeBatchRecords(buf, pos, header, options, readRecord, records);
  return { header, records };
}

/**
 * Decodes the records of the complete v2 batch at pos (whose header the caller has read) into
 * `out`, each built by `make`: a consumer gets its own record objects without intermediate ones.
 */
export function decodeBatchRecordsAs<T>(
  buf: Buffer,
  pos: number,
  header: BatchHeader,
  options: DecodeBatchOptions,
  make: RecordMaker<T>,
  out: T[],
): void {
  decodeBatchRecords(
    buf,
    pos,
    header,
    options,
    (r, base, logAppendTime) => readRecordAs(r, base, logAppendTime, make),
    out,
  );
}

function decodeBatchRecords<T>(
  buf: Buffer,
  pos: number,
  header: BatchHeader,
  options: DecodeBatchOptions,
  read: (r: Reader, baseTimestamp: number, logAppendTime: number | null) => T,
  out: T[],
): void {
  const end = checkedBatchEnd(buf, pos);
  if (options.verifyCrc !== false && crc32c(buf, pos + CRC_START, end) !== header.crc) {
    throw new DecodeError(`record batch at offset ${pos} fails its CRC check`);
  }
  const count = header.recordCount;
  if (count < 0) throw new DecodeError(`record batch at offset ${pos} has record count ${count}`);
  const codec = compressionOf(header.attributes);
  if (!isCompressionCodec(codec))
    throw new DecodeError(`record batch at offset ${pos} uses ${codecName(codec)}`);
  // Compaction can leave a batch with no records, whatever its codec and payload.
  if (count === 0) return;

  let r: Reader;
  if (codec === CompressionCodec.NONE) {
    r = new Reader(buf, pos + RECORDS_OFFSET, end);
  } else {
    const maxBytes = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
    const payload = decompress(codec, buf.subarray(pos + RECORDS_OFFSET, end), maxBytes);
    r = new Reader(payload);
  }
  if (count > r.remaining / MIN_RECORD_SIZE) {
    throw new DecodeError(`record count ${count} cannot fit in ${r.remaining} bytes of records`);
  }
  const logAppendTime =
    timestampTypeOf(header.attributes) === TimestampType.LOG_APPEND_TIME ? header.maxTimestamp : null;
  for (let i = 0; i < count; i++) out.push(read(r, header.baseTimestamp, logAppendTime));
  if (r.remaining !== 0) {
    throw new DecodeError(
      `record batch at offset ${pos} has ${r.remaining} bytes after its ${count} records`,
    );
  }
}

/** Decodes every complete batch of a records blob; a trailing partial batch is left out. */
export function decodeBatches(blob: Buffer, options: DecodeBatchOptions = {}): RecordBatch[] {
  const batches: RecordBatch[] = [];
  for (const span of iterateBatches(blob)) {
    if (span.truncated) break;
    batches.push(decodeBatch(blob, span.start, options));
  }
  return batches;
}

/** The absolute offset of a record of a batch. */
export function recordOffset(header: BatchHeader, record: DecodedRecord): bigint {
  return header.baseOffset + BigInt(record.offsetDelta);
}

function timestampDelta(timestamp: number, baseTimestamp: number): number {
  const delta = timestamp - baseTimestamp;
  if (!Number.isSafeInteger(delta)) {
    throw new EncodeError(`timestamp ${timestamp} is too far from the base timestamp ${baseTimestamp}`);
  }
  return delta;
}

function checkTimestamp(name: string, v: number): number {
  if (!Number.isSafeInteger(v)) throw new EncodeError(`${name} ${v} is not an integer number of ms`);
  return v;
}

function checkInt(name: string, v: number, min: number, max: number): number {
  if (!(Number.isInteger(v) && v >= min && v <= max))
    throw new EncodeError(`${name} ${v} is outside [${min}, ${max}]`);
  return v;
}

function checkInt64(name: string, v: bigint): void {
  if (v < INT64_MIN || v > INT64_MAX) throw new EncodeError(`${name} ${v} is not an int64`);
}
