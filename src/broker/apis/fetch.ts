// Fetch (key 1). v4: isolation level, last stable offset, aborted transactions. v5: log
// start offset. v7: fetch sessions (KIP-227). v9: current leader epoch. v11: rack,
// preferred read replica. v12: flexible, diverging epoch. v13: topic ids. v15: replica
// state. v16-17: node endpoints, directory id.
// This broker creates no fetch sessions: every answer has session id 0, which tells the
// client to keep sending full fetches. Long polls wait up to MaxWaitMs until MinBytes are
// there, reading the partitions again only when the bytes appended to them since could make
// up the difference (or a deletion or a commit changed what a read would find). read_committed reads stop at the
// last stable offset and list the aborted transactions the returned batches overlap.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import type { FetchRequest } from "../../protocol/generated/fetch-request.ts";
import type { FetchableTopicResponse, PartitionData } from "../../protocol/generated/fetch-response.ts";
import type { Input } from "../../protocol/codec-runtime.ts";
import {
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
} from "../../protocol/records/batch-header.ts";
import { readInt64 } from "../log/int64.ts";
import { LEADER_EPOCH, type BrokerContext } from "../broker-context.ts";
import type { Partition } from "../topic-manager.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi } from "./api.ts";
import { errorOf } from "./error-of.ts";

const READ_COMMITTED = 1;

interface Wanted {
  topicIndex: number;
  partitionIndex: number;
  partition: Partition | undefined;
  /** The error when the partition does not exist: by id (v13+) or by name. */
  missingCode: number;
  fetchOffset: number;
  maxBytes: number;
  currentLeaderEpoch: number;
}

function empty(index: number, code: number): Input<PartitionData> {
  return {
    partitionIndex: index,
    errorCode: code,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    records: null,
  };
}

interface ReadRound {
  /** Partition answers per requested topic, in request order. */
  perTopic: Input<PartitionData>[][];
  total: number;
  anyError: boolean;
  /** Each partition read, as it was just before it was read. */
  marks: Mark[];
}

/** A partition as a read found it: what a waiting fetch compares with to see if reading again can help. */
interface Mark {
  partition: Partition;
  appendedBytes: number;
  changes: number;
  lastStableOffset: number;
  /** An open transaction held the last stable offset below the high watermark. */
  held: boolean;
  /** Bytes more this partition could have added to the answer (its partitionMaxBytes). */
  room: number;
}

/** Reads every requested partition once. */
async function readAll(
  wanted: Wanted[],
  topicCount: number,
  maxBytes: number,
  readCommitted: boolean,
  b: BrokerContext,
  responseBuffer: (size: number) => Buffer,
): Promise<ReadRound> {
  let remaining = maxBytes;
  let total = 0;
  const perTopic = Array.from({ length: topicCount }, (): Input<PartitionData>[] => []);
  const marks: Mark[] = [];
  for (const w of wanted) {
    const parts = perTopic[w.topicIndex] ?? [];
    const p = w.partition;
    if (p === undefined) {
      parts.push(empty(w.partitionIndex, w.missingCode));
      continue;
    }
    if (w.currentLeaderEpoch > LEADER_EPOCH) {
      parts.push(empty(w.partitionIndex, ErrorCode.UNKNOWN_LEADER_EPOCH));
      continue;
    }
    const log = p.log;
    const hw = log.highWatermark;
    const lso = log.lastStableOffset;
    // Taken before the read's first await, so an append while it reads counts as growth later.
    const mark: Mark = {
      partition: p,
      appendedBytes: log.appendedBytes,
      changes: p.changes,
      lastStableOffset: lso,
      held: lso < hw,
      room: w.maxBytes,
    };
    marks.push(mark);
    const base = {
      partitionIndex: w.partitionIndex,
      highWatermark: BigInt(hw),
      lastStableOffset: BigInt(lso),
      logStartOffset: BigInt(log.logStartOffset),
      abortedTransactions: readCommitted ? [] : null,
    };
    if (w.fetchOffset < log.logStartOffset || w.fetchOffset > log.logEndOffset) {
      parts.push({ ...base, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: null });
      continue;
    }
    try {
      const upTo = readCommitted ? lso : hw;
      const limit = Math.min(w.maxBytes, remaining);
      // KIP-74: the first partition with data returns at least one whole batch.
      const records =
        w.fetchOffset >= upTo || (limit <= 0 && total > 0)
          ? Buffer.alloc(0)
          : await log.read(w.fetchOffset, Math.max(limit, 0), {
              upTo,
              minOneBatch: total === 0,
              allocate: responseBuffer,
            });
      total += records.length;
      remaining -= records.length;
      mark.room = Math.max(0, w.maxBytes - records.length);
      const aborted = readCommitted && records.length > 0 ? abortedIn(p, w.fetchOffset, records) : null;
      parts.push(
        aborted === null
          ? { ...base, errorCode: 0, records }
          : { ...base, errorCode: 0, records, abortedTransactions: aborted },
      );
    } catch (e) {
      const { code } = errorOf(e, b.log, `fetch ${p.topic.name}-${w.partitionIndex}`);
      parts.push({ ...base, errorCode: code, records: null });
    }
  }
  const anyError = perTopic.some((parts) => parts.some((x) => (x.errorCode ?? 0) !== 0));
  return { perTopic, total, anyError, marks };
}

/** The aborted transactions that the batches read from `from` overlap (Kafka's fetch rule), or null. */
function abortedIn(
  p: Partition,
  from: number,
  records: Buffer,
): { producerId: bigint; firstOffset: bigint }[] | null {
  // The end of the returned data: the last batch's last offset + 1.
  let end = from;
  for (let pos = 0; pos + RECORD_BATCH_OVERHEAD <= records.length;) {
    end =
      readInt64(records, pos + BASE_OFFSET_OFFSET) + records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) + 1;
    pos += LOG_OVERHEAD + records.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  }
  const found = p.log.abortedTransactions(from, end);
  if (found === null) return null;
  return found.map((t) => ({ producerId: BigInt(t.producerId), firstOffset: BigInt(t.firstOffset) }));
}

function resolveWanted(
  req: FetchRequest,
  version: number,
  b: BrokerContext,
  mayRead: (topic: string) => boolean,
) {
  const wanted: Wanted[] = [];
  const topics: { topic: string; topicId: string }[] = [];
  req.topics.forEach((t, topicIndex) => {
    const record = version >= 13 ? b.topics.topicById(t.topicId) : b.topics.topic(t.topic);
    topics.push({ topic: record?.name ?? t.topic, topicId: t.topicId });
    // Unauthorized topics read as absent, with Kafka's error code (asked by name, so no id leaks).
    const denied = !mayRead(record?.name ?? t.topic);
    for (const p of t.partitions) {
      wanted.push({
        topicIndex,
        partitionIndex: p.partition,
        partition: record === undefined || denied ? undefined : b.topics.partition(record.name, p.partition),
        missingCode: denied
          ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
          : record === undefined && version >= 13
            ? ErrorCode.UNKNOWN_TOPIC_ID
            : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        fetchOffset: Number(p.fetchOffset),
        maxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch,
      });
    }
  });
  return { wanted, topics };
}

export const fetch = defineApi({
  key: ApiKey.Fetch,
  minVersion: 4,
  maxVersion: 17,
  async handle(req, ctx) {
    const b = ctx.broker;
    if (req.sessionId !== 0) {
      return { errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
    }
    const { wanted, topics } = resolveWanted(req, ctx.apiVersion, b, (topic) =>
      ctx.authorize(AclOperation.READ, AclResourceType.TOPIC, topic),
    );
    const readCommitted = req.isolationLevel === READ_COMMITTED;
    const deadline = b.now() + Math.max(0, req.maxWaitMs);
    const minBytes = Math.max(1, req.minBytes);
    let round: ReadRound;
    for (;;) {
      const taken: Buffer[] = [];
      round = await readAll(wanted, topics.length, req.maxBytes, readCommitted, b, (size) => {
        const buf = ctx.responseBuffer(size);
        taken.push(buf);
        return buf;
      });
      const done = round.total >= minBytes || round.anyError || b.closing.aborted;
      if (done || deadline - b.now() <= 0) break;
      // The partitions will be read again: nothing of this round goes into the answer.
      for (const buf of taken) ctx.releaseResponseBuffer(buf);
      const needed = minBytes - round.total;
      await waitForMore(wanted, round.marks, needed, req.maxBytes - round.total, readCommitted, deadline, b);
    }
    const responses: Input<FetchableTopicResponse>[] = topics.map((t, i) => ({
      ...t,
      partitions: round.perTopic[i] ?? [],
    }));
    return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses };
  },
});

/**
 * Waits until reading again may reach MinBytes, the deadline passes, or the broker closes. Reading
 * again may help once the bytes appended since each partition was read (up to what it may still
 * add to the answer) make up the `needed` bytes, so a long poll is not read again for every small
 * append; or once something else changed: a partition deleted, promoted or closed, or, for
 * read_committed, a last stable offset an open transaction held back moved (its commit shows
 * bytes appended before).
 */
async function waitForMore(
  wanted: Wanted[],
  marks: readonly Mark[],
  needed: number,
  room: number,
  readCommitted: boolean,
  deadline: number,
  b: BrokerContext,
): Promise<void> {
  const ready = (): boolean => {
    let grown = 0;
    for (const m of marks) {
      if (m.partition.changes !== m.changes) return true;
      if (readCommitted && m.held && m.partition.log.lastStableOffset !== m.lastStableOffset) return true;
      grown += Math.min(m.partition.log.appendedBytes - m.appendedBytes, m.room);
    }
    return Math.min(grown, room) >= needed;
  };
  // Appends made while the round was being read count too: their wake-ups came before this wait.
  while (!ready()) {
    const wait = deadline - b.now();
    if (wait <= 0 || b.closing.aborted) return;
    await waitForAppend(wanted, wait, b.closing);
  }
}

/** Waits until any of the partitions gets an append, the time is up, or the broker closes. */
function waitForAppend(wanted: Wanted[], ms: number, closing: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const cancels: (() => void)[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      closing.removeEventListener("abort", finish);
      for (const c of cancels) c();
      resolve();
    };
    const timer = setTimeout(finish, ms);
    for (const w of wanted) if (w.partition !== undefined) cancels.push(w.partition.onAppend(finish));
    closing.addEventListener("abort", finish);
  });
}
