// Checks a records blob before it is appended, answering with the Kafka error code a real
// broker gives (Kafka's ProduceRequest.validateRecords, UnifiedLog.analyzeAndValidateRecords
// and LogValidator, in their order). Nothing here mutates the blob: a rejected append
// leaves no trace. Offsets, LogAppendTime and corrected maxTimestamps are applied later.
//
// Records inside compressed batches are not decompressed unless a record-level rule needs
// them (cleanup.policy=compact needs keys; a finite message.timestamp.before.max.ms needs
// the oldest timestamp). Kafka decompresses every compressed batch; we keep batches opaque
// like the rest of Ferry: the CRC proves the bytes are what the producer sent, the header
// gives count, offsets and maxTimestamp (checked against message.timestamp.after.max.ms),
// and decompressing is the costliest thing a broker can do per byte. Uncompressed batches
// are walked record by record (cheap, allocation-free), so malformed records are refused.
import { crc32c } from "../../protocol/crc32c.ts";
import {
  decompress,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  isCompressionCodec,
} from "../../protocol/compression/index.ts";
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  CRC_START,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  MIN_BATCH_LENGTH,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  compressionOf,
} from "../../protocol/records/batch-header.ts";
import { LONG_MAX, isCompacted, type FullLogConfig } from "./log-config.ts";
import { newRecordScanResult, scanRecords } from "./record-scan.ts";
import { readInt64 } from "./int64.ts";

/** Who is appending: clients get every check; the broker's own writers and replicas fewer (as in Kafka's AppendOrigin). */
export type AppendOrigin = "client" | "coordinator" | "replication";

/** The header facts of one validated batch. */
export interface BatchInfo {
  /** Position in the blob and size in bytes. */
  start: number;
  size: number;
  /** baseOffset as received (0 from clients; the real one for replication). */
  baseOffset: number;
  lastOffsetDelta: number;
  recordCount: number;
  attributes: number;
  /** The batch's newest timestamp; corrected from the records when the header disagreed. */
  maxTimestamp: number;
  /** The header's maxTimestamp must be rewritten with maxTimestamp (and the CRC fixed). */
  fixMaxTimestamp: boolean;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/** A blob that passed validation: its batches and how many bytes of it are valid. */
export interface ValidatedRecords {
  batches: BatchInfo[];
  /** Bytes to store; a trailing partial batch is dropped, as Kafka does. */
  validBytes: number;
  recordCount: number;
}

export interface ValidateOptions {
  origin: AppendOrigin;
  /** Refuse batches whose baseOffset is not 0 (Kafka does this for every client produce). */
  requireZeroBaseOffset: boolean;
  config: FullLogConfig;
  now: number;
  /** The caller has verified every batch's CRC already (a mirror append checks all before writing any). */
  crcChecked?: boolean;
}

/** One record's problem, for Produce v8+'s record_errors. */
export interface RecordError {
  batchIndex: number;
  message: string;
}

/** A KafkaError about specific records (INVALID_RECORD or INVALID_TIMESTAMP). */
export class RecordValidationError extends KafkaError {
  readonly recordErrors: readonly RecordError[];

  constructor(code: number, message: string, recordErrors: readonly RecordError[]) {
    super(code, message);
    this.name = "RecordValidationError";
    this.recordErrors = recordErrors;
  }
}

const scan = newRecordScanResult();

/** Validates a records blob for an append; throws a KafkaError with Kafka's code if it is refused. */
export function validateRecords(records: Buffer, opts: ValidateOptions): ValidatedRecords {
  const client = opts.origin === "client";
  const validBytes = splitBatches(records, client);
  const batches: BatchInfo[] = [];
  let recordCount = 0;
  for (let start = 0; start < validBytes;) {
    const info = checkBatch(records, start, opts);
    batches.push(info);
    recordCount += info.recordCount;
    start += info.size;
  }
  if (validBytes > opts.config.segmentBytes) {
    throw new KafkaError(
      ErrorCode.RECORD_LIST_TOO_LARGE,
      `the records are ${validBytes} bytes, more than segment.bytes (${opts.config.segmentBytes})`,
    );
  }
  return { batches, validBytes, recordCount };
}

/**
 * Finds the complete batches and returns the bytes they span. Mirrors Kafka's batch
 * iterator: a length below a legacy message or a magic above 2 is CORRUPT_MESSAGE; a trailing
 * partial batch is ignored; no complete batch, magic 0/1, or (from clients) more than one
 * batch is INVALID_RECORD, which is what Kafka 3.x/4.x answer to Produce v3+.
 */
function splitBatches(records: Buffer, client: boolean): number {
  let pos = 0;
  let batches = 0;
  const n = records.length;
  while (n - pos >= LOG_OVERHEAD) {
    const length = records.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (length < 14) corrupt(`record batch at byte ${pos} has length ${length}`);
    if (n - pos <= MAGIC_OFFSET) break;
    const magic = records.readInt8(pos + MAGIC_OFFSET);
    if (magic < 0 || magic > CURRENT_MAGIC) corrupt(`record batch at byte ${pos} has magic ${magic}`);
    if (length > n - pos - LOG_OVERHEAD) break;
    if (magic !== CURRENT_MAGIC) {
      throw new KafkaError(ErrorCode.INVALID_RECORD, `record batches must have magic 2, got ${magic}`);
    }
    if (length < MIN_BATCH_LENGTH) corrupt(`record batch at byte ${pos} has length ${length}`);
    batches++;
    pos += LOG_OVERHEAD + length;
  }
  if (batches === 0)
    throw new KafkaError(ErrorCode.INVALID_RECORD, "the records hold no complete record batch");
  if (client && batches > 1) {
    throw new KafkaError(
      ErrorCode.INVALID_RECORD,
      `a produce must hold exactly one record batch per partition, got ${batches}`,
    );
  }
  return pos;
}

function checkBatch(records: Buffer, start: number, opts: ValidateOptions): BatchInfo {
  const { config, origin } = opts;
  const size = LOG_OVERHEAD + records.readInt32BE(start + BATCH_LENGTH_OFFSET);
  const end = start + size;
  const baseOffset = readInt64(records, start + BASE_OFFSET_OFFSET);
  if (opts.requireZeroBaseOffset && baseOffset !== 0) {
    invalidRecord(`the baseOffset of a produced batch must be 0, got ${records.readBigInt64BE(start)}`);
  }
  if (Number.isNaN(baseOffset) || baseOffset < 0)
    invalidRecord(`baseOffset ${records.readBigInt64BE(start)} is out of range`);
  if (origin !== "replication" && size > config.maxMessageBytes) {
    throw new KafkaError(
      ErrorCode.MESSAGE_TOO_LARGE,
      `the record batch is ${size} bytes, more than max.message.bytes (${config.maxMessageBytes})`,
    );
  }
  if (
    opts.crcChecked !== true &&
    crc32c(records, start + CRC_START, end) !== records.readUInt32BE(start + CRC_OFFSET)
  ) {
    corrupt(`record batch fails its CRC check (stored ${records.readUInt32BE(start + CRC_OFFSET)})`);
  }
  const attributes = records.readInt16BE(start + ATTRIBUTES_OFFSET);
  const codec = compressionOf(attributes);
  if (!isCompressionCodec(codec)) corrupt(`record batch uses unknown compression codec ${codec}`);
  const lastOffsetDelta = records.readInt32BE(start + LAST_OFFSET_DELTA_OFFSET);
  const recordCount = records.readInt32BE(start + RECORD_COUNT_OFFSET);
  const producerId = readInt64(records, start + PRODUCER_ID_OFFSET);
  const baseSequence = records.readInt32BE(start + BASE_SEQUENCE_OFFSET);
  if (Number.isNaN(producerId))
    invalidRecord(`producer id ${records.readBigInt64BE(start + PRODUCER_ID_OFFSET)} is beyond 2^53`);
  if (lastOffsetDelta < 0)
    invalidRecord(`record batch has an invalid offset range (lastOffsetDelta ${lastOffsetDelta})`);
  if (recordCount < 0) invalidRecord(`record batch has record count ${recordCount}`);
  let maxTimestamp = readInt64(records, start + MAX_TIMESTAMP_OFFSET);
  if (Number.isNaN(maxTimestamp)) invalidRecord("record batch maxTimestamp is beyond 2^53 ms");
  const info: BatchInfo = {
    start,
    size,
    baseOffset,
    lastOffsetDelta,
    recordCount,
    attributes,
    maxTimestamp,
    fixMaxTimestamp: false,
    producerId,
    producerEpoch: records.readInt16BE(start + PRODUCER_EPOCH_OFFSET),
    baseSequence,
  };
  if (origin !== "client") return info;

  // LogValidator.validateBatch, for appends from clients.
  if (recordCount <= 0) invalidRecord(`invalid record count ${recordCount}`);
  if (recordCount !== lastOffsetDelta + 1) {
    invalidRecord(`record count ${recordCount} does not match the offset range [0, ${lastOffsetDelta}]`);
  }
  if ((attributes & CONTROL_FLAG_MASK) !== 0) invalidRecord("clients may not write control batches");
  if (producerId >= 0 && baseSequence < 0)
    invalidRecord(`invalid sequence number ${baseSequence} with producer id ${producerId}`);

  const topicLogAppendTime = config.messageTimestampType === "LogAppendTime";
  const compressed = codec !== 0;
  const compacted = isCompacted(config);
  const checkBefore = !topicLogAppendTime && config.messageTimestampBeforeMaxMs < LONG_MAX;
  const checkAfter = !topicLogAppendTime && config.messageTimestampAfterMaxMs < LONG_MAX;
  const deep = !compressed || compacted || checkBefore;
  if (deep) {
    let payload: Buffer = records;
    let from = start + RECORDS_OFFSET;
    let to = end;
    if (compressed) {
      try {
        payload = decompress(codec, records.subarray(from, to), DEFAULT_MAX_DECOMPRESSED_BYTES);
      } catch (err) {
        if (err instanceof ProtocolError) corrupt(`record batch does not decompress: ${err.message}`);
        throw err;
      }
      from = 0;
      to = payload.length;
    }
    const baseTimestamp = readInt64(records, start + BASE_TIMESTAMP_OFFSET);
    const problem = scanRecords(payload, from, to, recordCount, baseTimestamp, scan);
    if (problem !== null) {
      const index = Math.max(scan.errorIndex, 0);
      throw new RecordValidationError(ErrorCode.INVALID_RECORD, `invalid record: ${problem}`, [
        { batchIndex: index, message: problem },
      ]);
    }
    if (compacted && !scan.allKeyed) {
      throw new RecordValidationError(
        ErrorCode.INVALID_RECORD,
        "a compacted topic cannot accept records without a key",
        [{ batchIndex: 0, message: "record without a key" }],
      );
    }
  }
  const now = opts.now;
  if ((attributes & TIMESTAMP_TYPE_MASK) !== 0) {
    // Every record of a LogAppendTime batch has the batch's maxTimestamp.
    if (topicLogAppendTime) invalidTimestamp("producers must not set the LogAppendTime timestamp type");
    if (maxTimestamp === -1) invalidTimestamp("a LogAppendTime batch without a timestamp");
    checkRange(maxTimestamp, maxTimestamp, now, config, checkBefore, checkAfter);
  } else if (!topicLogAppendTime) {
    const oldest = deep ? scan.minTimestamp : Infinity;
    const newest = deep ? scan.maxTimestamp : maxTimestamp;
    checkRange(oldest, newest, now, config, checkBefore, checkAfter);
    if (deep && recordCount > 0 && scan.maxTimestamp !== maxTimestamp) {
      // Kafka stores the true newest timestamp in the header; the time index relies on it.
      maxTimestamp = scan.maxTimestamp;
      info.maxTimestamp = maxTimestamp;
      info.fixMaxTimestamp = true;
    }
  }
  return info;
}

function checkRange(
  oldest: number,
  newest: number,
  now: number,
  config: FullLogConfig,
  checkBefore: boolean,
  checkAfter: boolean,
): void {
  if (checkBefore && oldest !== Infinity && now - oldest > config.messageTimestampBeforeMaxMs) {
    invalidTimestamp(
      `timestamp ${oldest} is more than message.timestamp.before.max.ms (${config.messageTimestampBeforeMaxMs}) before ${now}`,
    );
  }
  if (checkAfter && newest !== -1 && newest - now > config.messageTimestampAfterMaxMs) {
    invalidTimestamp(
      `timestamp ${newest} is more than message.timestamp.after.max.ms (${config.messageTimestampAfterMaxMs}) after ${now}`,
    );
  }
}

function corrupt(message: string): never {
  throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, message);
}

function invalidRecord(message: string): never {
  throw new KafkaError(ErrorCode.INVALID_RECORD, message);
}

function invalidTimestamp(message: string): never {
  throw new RecordValidationError(ErrorCode.INVALID_TIMESTAMP, message, [{ batchIndex: 0, message }]);
}
