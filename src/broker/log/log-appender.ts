// Turning a records blob into a queued write, synchronously so that appends are ordered by
// call: validation (log-validator.ts), the producer-state checks (duplicates answered with
// their original offsets), offset assignment and the header patches Kafka makes (baseOffset,
// partition leader epoch, LogAppendTime, a corrected maxTimestamp). Everything that can
// refuse the append runs before the first byte of the blob is changed.
import { crc32c } from "../../protocol/crc32c.ts";
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import {
  CRC_OFFSET,
  CRC_START,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
} from "../../protocol/records/batch-header.ts";
import { rewriteBatchHeader } from "../../protocol/records/batch-rewrite.ts";
import { writeInt64 } from "./int64.ts";
import type { LogState } from "./log-state.ts";
import { validateRecords, type AppendOrigin, type BatchInfo } from "./log-validator.ts";
import type { AppendResult, LogWriter, WriteItem } from "./log-writer.ts";
import { lastSequence, producerUpdateFromBatch, type ProducerUpdate } from "./producer-state.ts";

const NOOP = (): void => undefined;

/** Appends a client's (or the broker's own) batches at the next offsets; throws a KafkaError if refused. */
export function appendWithNewOffsets(
  state: LogState,
  writer: LogWriter,
  records: Buffer,
  opts: { origin: Exclude<AppendOrigin, "replication">; requireZeroBaseOffset: boolean },
): Promise<AppendResult> {
  const config = state.config;
  const now = state.now();
  const v = validateRecords(records, { ...opts, config, now });
  const producers = state.producers;
  if (opts.origin === "client") {
    const b = v.batches[0] as BatchInfo;
    if (b.producerId >= 0) {
      const lastSeq = lastSequence(b.baseSequence, b.lastOffsetDelta);
      const dup = producers.checkClientBatch(b.producerId, b.producerEpoch, b.baseSequence, lastSeq);
      if (dup !== null) {
        return writer.answerAfterWrites({
          baseOffset: dup.baseOffset,
          lastOffset: dup.lastOffset,
          logAppendTime: dup.logAppendTime,
          logStartOffset: state.logStartOffset,
          recordCount: dup.lastOffset - dup.baseOffset + 1,
        });
      }
    }
  } else {
    const epochs = new Map<number, number>();
    for (const b of v.batches) {
      if (b.producerId < 0) continue;
      producers.checkEpoch(b.producerId, b.producerEpoch, epochs.get(b.producerId));
      epochs.set(b.producerId, b.producerEpoch);
    }
  }

  // Accepted: from here on nothing throws. Assign offsets and patch the headers.
  const logAppendTime = config.messageTimestampType === "LogAppendTime" ? now : -1;
  const firstOffset = state.nextOffset;
  let offset = firstOffset;
  let maxTimestamp = -1;
  let offsetOfMax = firstOffset;
  let updates: ProducerUpdate[] | null = null;
  for (const b of v.batches) {
    const last = offset + b.lastOffsetDelta;
    writeInt64(records, b.start, offset);
    records.writeInt32BE(state.leaderEpoch, b.start + PARTITION_LEADER_EPOCH_OFFSET);
    if (logAppendTime >= 0) {
      rewriteBatchHeader(records, b.start, { logAppendTime }, { verifyCrc: false });
    } else if (b.fixMaxTimestamp) {
      writeInt64(records, b.start + MAX_TIMESTAMP_OFFSET, b.maxTimestamp);
      records.writeUInt32BE(crc32c(records, b.start + CRC_START, b.start + b.size), b.start + CRC_OFFSET);
    }
    const ts = logAppendTime >= 0 ? logAppendTime : b.maxTimestamp;
    // Kafka's shallowOffsetOfMaxTimestamp: the last offset of the (first) batch holding the
    // newest timestamp; with LogAppendTime, the last offset of the append.
    if (ts > maxTimestamp || logAppendTime >= 0) {
      maxTimestamp = ts;
      offsetOfMax = last;
    }
    const u = b.producerId >= 0 ? producerUpdateFromBatch(records, b.start) : null;
    if (u !== null) (updates ??= []).push(u);
    offset = last + 1;
  }
  return queue(state, writer, {
    data: records.subarray(0, v.validBytes),
    rollTo: -1,
    firstOffset,
    lastOffset: offset - 1,
    maxTimestamp,
    offsetOfMaxTimestamp: offsetOfMax,
    recordCount: v.recordCount,
    updates,
    result: {
      baseOffset: firstOffset,
      lastOffset: offset - 1,
      logAppendTime,
      logStartOffset: state.logStartOffset,
      recordCount: v.recordCount,
    },
    resolve: NOOP,
    reject: NOOP,
  });
}

/** Appends batches at the offsets they carry (at or above the log end, increasing, gaps kept); throws if refused. */
export function appendAtOwnOffsets(
  state: LogState,
  writer: LogWriter,
  records: Buffer,
  crcChecked = false,
): Promise<AppendResult> {
  const v = validateRecords(records, {
    origin: "replication",
    requireZeroBaseOffset: false,
    config: state.config,
    now: state.now(),
    crcChecked,
  });
  let next = state.nextOffset;
  let maxTimestamp = -1;
  let offsetOfMax = next;
  for (const b of v.batches) {
    if (b.baseOffset < next) {
      throw new KafkaError(
        ErrorCode.INVALID_RECORD,
        `batch at offset ${b.baseOffset} is below the log end offset ${next}`,
      );
    }
    const last = b.baseOffset + b.lastOffsetDelta;
    if (b.maxTimestamp > maxTimestamp) {
      maxTimestamp = b.maxTimestamp;
      offsetOfMax = last;
    }
    next = last + 1;
  }
  let updates: ProducerUpdate[] | null = null;
  for (const b of v.batches) {
    const u = producerUpdateFromBatch(records, b.start);
    if (u !== null) (updates ??= []).push(u);
  }
  const first = (v.batches[0] as BatchInfo).baseOffset;
  return queue(state, writer, {
    data: records.subarray(0, v.validBytes),
    rollTo: -1,
    firstOffset: first,
    lastOffset: next - 1,
    maxTimestamp,
    offsetOfMaxTimestamp: offsetOfMax,
    recordCount: v.recordCount,
    updates,
    result: {
      baseOffset: first,
      lastOffset: next - 1,
      logAppendTime: -1,
      logStartOffset: state.logStartOffset,
      recordCount: v.recordCount,
    },
    resolve: NOOP,
    reject: NOOP,
  });
}

/** Plans the item's segment, stages its producer updates, advances the log end and queues it. */
function queue(state: LogState, writer: LogWriter, item: WriteItem): Promise<AppendResult> {
  const data = item.data as Buffer;
  item.rollTo = writer.planAppend(data.length, item.firstOffset, item.lastOffset, item.maxTimestamp);
  if (item.updates !== null) for (const u of item.updates) state.producers.stage(u);
  state.nextOffset = item.lastOffset + 1;
  return writer.enqueue(item);
}
