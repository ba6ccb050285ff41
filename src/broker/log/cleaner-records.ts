// Reading the records of a stored batch the way the log cleaner needs them: per record its
// offset delta, key (a view, no copy) and whether it has a value; nothing else is decoded and
// no object is made per record. Compressed batches are decompressed once per walk. The
// batch's bytes were checked by recovery when written, so a malformed record here means the
// disk changed under us: that is a storage error, not something to skip.
import { decompress } from "../../protocol/compression/index.ts";
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  LOG_OVERHEAD,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
} from "../../protocol/records/batch-header.ts";

/** Called per record: offsetDelta, the key (null for none) and whether the value is non-null. */
export type RecordVisitor = (offsetDelta: number, key: Buffer | null, hasValue: boolean) => void;

const MAX_DECOMPRESSED = 256 * 1024 * 1024;
let cursor = 0;

/** Walks the records of the batch at buf[at]; returns how many there were. */
export function walkRecords(buf: Buffer, at: number, visit: RecordVisitor): number {
  const count = buf.readInt32BE(at + RECORD_COUNT_OFFSET);
  if (count <= 0) return 0;
  const end = at + LOG_OVERHEAD + buf.readInt32BE(at + BATCH_LENGTH_OFFSET);
  const codec = buf.readInt16BE(at + ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK;
  let data = buf;
  let pos = at + RECORDS_OFFSET;
  let limit = end;
  if (codec !== 0) {
    data = decompress(codec, buf.subarray(pos, end), MAX_DECOMPRESSED);
    pos = 0;
    limit = data.length;
  }
  cursor = pos;
  for (let i = 0; i < count; i++) {
    const length = varint(data, limit);
    const recordEnd = cursor + length;
    if (!(length > 0) || recordEnd > limit) throw corrupt(`record ${i} has a bad length`);
    cursor += 1; // attributes
    skipVarint(data, recordEnd); // timestamp delta
    const offsetDelta = varint(data, recordEnd);
    const keyLength = varint(data, recordEnd);
    let key: Buffer | null = null;
    if (keyLength >= 0) {
      if (cursor + keyLength > recordEnd) throw corrupt(`record ${i}: key runs past the record`);
      key = data.subarray(cursor, cursor + keyLength);
      cursor += keyLength;
    }
    const valueLength = varint(data, recordEnd);
    if (Number.isNaN(offsetDelta) || Number.isNaN(keyLength) || Number.isNaN(valueLength))
      throw corrupt(`record ${i} is malformed`);
    visit(offsetDelta, key, valueLength >= 0);
    cursor = recordEnd;
  }
  return count;
}

/** The control record type (ABORT 0, COMMIT 1, ...) of the control batch at buf[at], or -1 when it has no record. */
export function controlTypeOf(buf: Buffer, at: number): number {
  let type = -1;
  walkRecords(buf, at, (_delta, key) => {
    if (type < 0 && key !== null && key.length >= 4) type = key.readInt16BE(2);
  });
  return type;
}

function varint(buf: Buffer, end: number): number {
  let v = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (cursor >= end) return NaN;
    const b = buf[cursor++] as number;
    v |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return (v >>> 1) ^ -(v & 1);
    shift += 7;
  }
  return NaN;
}

function skipVarint(buf: Buffer, end: number): void {
  for (let i = 0; i < 10; i++) {
    if (cursor >= end) return;
    if (((buf[cursor++] as number) & 0x80) === 0) return;
  }
}

function corrupt(why: string): KafkaError {
  return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log cleaner: ${why}`);
}
