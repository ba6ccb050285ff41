// Reading from a cluster: fetchRaw returns each partition's record batches as the broker sent
// them (opaque bytes, for the link), routed to leaders; consume() decodes records for the CLI
// and tests.
import { ErrorCode } from "../protocol/error-codes.ts";
import { ApiKey } from "../protocol/generated/index.ts";
import { decodeBatch, decodeBatchRecordsAs } from "../protocol/records/batch-codec.ts";
import {
  BASE_OFFSET_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  isControl,
  isTransactional,
  iterateBatches,
  readBatchHeader,
} from "../protocol/records/batch-header.ts";
import { ControlRecordType } from "../protocol/records/control.ts";
import type { DecodedRecord } from "../protocol/records/record.ts";
import type { BrokerConnection } from "./broker-connection.ts";
import type { Cluster } from "./cluster.ts";
import { PartitionError, isStaleMetadata } from "./errors.ts";
import { listOffsets, OffsetSpec } from "./offsets.ts";
import { backoffMs, shouldRetry, sleep } from "./retry.ts";

/** Kafka's isolation levels. */
export const IsolationLevel = { READ_UNCOMMITTED: 0, READ_COMMITTED: 1 } as const;

export interface FetchTarget {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface FetchOptions {
  /** Kafka's fetch.max.wait.ms (default 500). */
  maxWaitMs?: number;
  /** Kafka's fetch.min.bytes (default 1). */
  minBytes?: number;
  /** Kafka's fetch.max.bytes (default 50 MiB). */
  maxBytes?: number;
  /** Kafka's max.partition.fetch.bytes (default 1 MiB). */
  partitionMaxBytes?: number;
  /** IsolationLevel; default READ_UNCOMMITTED. */
  isolationLevel?: number;
  /**
   * The connection to send a leader's fetch on, instead of the shared one: brokers answer a
   * connection's requests in order, so a long poll parked there holds up whatever follows it.
   */
  route?: (leader: BrokerConnection) => BrokerConnection;
}

export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

export interface FetchedPartition {
  topic: string;
  partition: number;
  /** The offset asked for. */
  fetchOffset: bigint;
  /** Record batches as sent by the broker (the last may be truncated); empty when none. */
  records: Buffer;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  abortedTransactions: AbortedTransaction[];
  /** Set when the broker answered an error that retrying cannot fix (OFFSET_OUT_OF_RANGE, ...). */
  error: PartitionError | undefined;
}

const EMPTY = Buffer.alloc(0);

/**
 * Fetches from each partition's leader in one request per broker. Leadership and network
 * errors are retried (after a metadata refresh); other partition errors come back in `error`.
 */
export async function fetchRaw(
  cluster: Cluster,
  targets: readonly FetchTarget[],
  options: FetchOptions = {},
): Promise<FetchedPartition[]> {
  const results = new Array<FetchedPartition>(targets.length);
  let pending = targets.map((target, index) => ({ target, index }));
  for (let attempt = 1; ; attempt++) {
    const failures: { target: FetchTarget; index: number; error: unknown }[] = [];
    const groups = new Map<BrokerConnection, { target: FetchTarget; index: number }[]>();
    for (const p of pending) {
      try {
        const shared = await cluster.leaderFor(p.target.topic, p.target.partition);
        const leader = options.route === undefined ? shared : options.route(shared);
        let group = groups.get(leader);
        if (group === undefined) groups.set(leader, (group = []));
        group.push(p);
      } catch (error) {
        failures.push({ ...p, error });
      }
    }
    await Promise.all(
      [...groups].map(async ([broker, group]) => {
        try {
          const answers = await fetchFrom(
            broker,
            group.map((g) => g.target),
            options,
          );
          group.forEach((g, i) => {
            const answer = answers[i];
            if (answer === undefined) return;
            const e = answer.error;
            if (e !== undefined && isStaleMetadata(e.code)) failures.push({ ...g, error: e });
            else results[g.index] = answer;
          });
        } catch (error) {
          for (const g of group) failures.push({ ...g, error });
        }
      }),
    );
    if (failures.length === 0) return results;
    const fatal = failures.find((f) => !shouldRetry(f.error, attempt, cluster.retry));
    if (fatal !== undefined || cluster.closed) {
      const error = fatal?.error ?? failures[0]?.error;
      // Partition-level errors are answers; request-level ones (network, versions) are thrown.
      if (!(error instanceof PartitionError)) throw error;
      for (const f of failures) {
        const e = f.error instanceof PartitionError ? f.error : error;
        results[f.index] = emptyResult(f.target, e);
      }
      return results;
    }
    cluster.invalidateMetadata();
    await sleep(backoffMs(cluster.retry, attempt));
    pending = failures.map(({ target, index }) => ({ target, index }));
  }
}

async function fetchFrom(
  broker: BrokerConnection,
  targets: readonly FetchTarget[],
  options: FetchOptions,
): Promise<FetchedPartition[]> {
  const maxWaitMs = options.maxWaitMs ?? 500;
  const maxBytes = options.maxBytes ?? 50 * 1024 * 1024;
  const partitionMaxBytes = options.partitionMaxBytes ?? 1024 * 1024;
  const isolationLevel = options.isolationLevel ?? IsolationLevel.READ_UNCOMMITTED;
  const topics = new Map<string, FetchTarget[]>();
  for (const t of targets) {
    let list = topics.get(t.topic);
    if (list === undefined) topics.set(t.topic, (list = []));
    list.push(t);
  }
  const { body } = await broker.send(
    ApiKey.Fetch,
    (v) => ({
      replicaId: -1,
      maxWaitMs,
      minBytes: options.minBytes ?? 1,
      ...(v >= 3 ? { maxBytes } : {}),
      ...(v >= 4 ? { isolationLevel } : {}),
      // Sessionless full fetches (KIP-227: id 0, epoch -1): the client keeps no session state.
      ...(v >= 7 ? { sessionId: 0, sessionEpoch: -1 } : {}),
      topics: [...topics].map(([topic, list]) => ({
        topic,
        partitions: list.map((t) => ({
          partition: t.partition,
          fetchOffset: t.offset,
          partitionMaxBytes,
          ...(v >= 9 ? { currentLeaderEpoch: -1 } : {}),
        })),
      })),
    }),
    // The broker may hold the request for maxWaitMs before answering.
    { timeoutMs: maxWaitMs + 30_000, minVersion: 4 },
  );
  if (body.errorCode !== 0) {
    return targets.map((t) =>
      emptyResult(t, new PartitionError(body.errorCode, t.topic, t.partition, broker.nodeId)),
    );
  }
  const answers = new Map<string, FetchedPartition>();
  for (const t of body.responses) {
    for (const p of t.partitions) {
      answers.set(`${t.topic}\u0000${p.partitionIndex}`, {
        topic: t.topic,
        partition: p.partitionIndex,
        fetchOffset: -1n,
        records: p.records ?? EMPTY,
        highWatermark: p.highWatermark,
        lastStableOffset: p.lastStableOffset,
        logStartOffset: p.logStartOffset,
        abortedTransactions: (p.abortedTransactions ?? []).map((a) => ({
          producerId: a.producerId,
          firstOffset: a.firstOffset,
        })),
        error:
          p.errorCode === 0
            ? undefined
            : new PartitionError(p.errorCode, t.topic, p.partitionIndex, broker.nodeId),
      });
    }
  }
  return targets.map((t) => {
    const a = answers.get(`${t.topic}\u0000${t.partition}`);
    if (a === undefined) {
      return emptyResult(
        t,
        new PartitionError(
          ErrorCode.UNKNOWN_SERVER_ERROR,
          t.topic,
          t.partition,
          broker.nodeId,
          "not in the answer",
        ),
      );
    }
    a.fetchOffset = t.offset;
    return a;
  });
}

function emptyResult(target: FetchTarget, error: PartitionError): FetchedPartition {
  return {
    topic: target.topic,
    partition: target.partition,
    fetchOffset: target.offset,
    records: EMPTY,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    abortedTransactions: [],
    error,
  };
}

/** A decoded record with where it came from. */
export interface ConsumedRecord extends DecodedRecord {
  topic: string;
  partition: number;
  offset: bigint;
}

/** The records one fetch returned for one partition, decoded, in offset order. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  /** Records at or after the position, control records left out; may be empty. */
  records: ConsumedRecord[];
  /** The offset the next fetch of this partition starts at. */
  nextOffset: bigint;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
}

export interface ConsumeOptions extends FetchOptions {
  /** Partitions to read; default all of the topic's. */
  partitions?: readonly number[];
  /** Where to start: "earliest" (default), "latest", or an offset for every partition. */
  from?: "earliest" | "latest" | bigint;
  /** Stop once every partition has reached the high watermark seen at the start. */
  untilEnd?: boolean;
  signal?: AbortSignal;
  /** Kafka's check.crcs: verify each batch's CRC-32C before decoding it (default true). */
  checkCrcs?: boolean;
}

/**
 * Yields a topic's records in offset order per partition, skipping control batches and records
 * below the start offset. Ends when aborted or, with untilEnd, at the initial end of the log.
 */
export async function* consume(
  cluster: Cluster,
  topic: string,
  options: ConsumeOptions = {},
): AsyncGenerator<ConsumedRecord, void, undefined> {
  for await (const batch of consumeBatches(cluster, topic, options)) yield* batch.records;
}

/**
 * Yields a topic's records a partition's fetch at a time (see consume). The next fetch is
 * sent before a batch is decoded and yielded, so the broker prepares it while the caller
 * works: one fetch is always in flight ahead of the caller.
 */
export async function* consumeBatches(
  cluster: Cluster,
  topic: string,
  options: ConsumeOptions = {},
): AsyncGenerator<ConsumedBatch, void, undefined> {
  const meta = await cluster.withRetries(() => cluster.topic(topic));
  const partitions = options.partitions ?? meta.partitions.map((p) => p.partition);
  const from = options.from ?? "earliest";
  // Under read_committed, "latest" and the end of the log are the last stable offset.
  const isolation = options.isolationLevel ?? IsolationLevel.READ_UNCOMMITTED;
  const readCommitted = isolation === IsolationLevel.READ_COMMITTED;
  const positions = new Map<number, bigint>();
  if (typeof from === "bigint") {
    for (const p of partitions) positions.set(p, from);
  } else {
    const timestamp = from === "earliest" ? OffsetSpec.EARLIEST : OffsetSpec.LATEST;
    const answers = await listOffsets(
      cluster,
      partitions.map((partition) => ({ topic, partition, timestamp })),
      isolation,
    );
    for (const a of answers) positions.set(a.partition, a.offset);
  }
  const ends = new Map<number, bigint>();
  if (options.untilEnd === true) {
    const answers = await listOffsets(
      cluster,
      partitions.map((partition) => ({ topic, partition, timestamp: OffsetSpec.LATEST })),
      isolation,
    );
    for (const a of answers) ends.set(a.partition, a.offset);
  }
  const aborted = (): boolean => options.signal?.aborted === true;
  const next = (): Promise<FetchedPartition[]> | undefined => {
    const open = partitions.filter((p) => !ends.has(p) || (positions.get(p) ?? 0n) < (ends.get(p) ?? 0n));
    if (aborted() || (options.untilEnd === true && open.length === 0)) return undefined;
    const fetch = fetchRaw(
      cluster,
      open.map((partition) => ({ topic, partition, offset: positions.get(partition) ?? 0n })),
      options,
    );
    // Ahead of the caller: a failure surfaces when its turn comes, not as an unhandled rejection.
    fetch.catch(() => undefined);
    return fetch;
  };
  let pending = next();
  while (pending !== undefined) {
    const fetched = await pending;
    // Positions advance from the batch headers alone, so the next fetch can leave now.
    for (const f of fetched) {
      if (f.error !== undefined) throw f.error;
      const end = nextOffsetOf(f.records);
      if (end > f.fetchOffset) positions.set(f.partition, end);
    }
    pending = next();
    for (const f of fetched) {
      // Let I/O run between partitions: the fetch in flight arrives while this one is decoded,
      // instead of waiting in the socket buffer until the whole response is done.
      if (pending !== undefined) await new Promise((resolve) => setImmediate(resolve));
      const records = decodeRecords(f, readCommitted, options.checkCrcs ?? true);
      if (records.length === 0 && f.records.length === 0) continue;
      yield {
        topic: f.topic,
        partition: f.partition,
        records,
        nextOffset: positions.get(f.partition) ?? f.fetchOffset,
        highWatermark: f.highWatermark,
        lastStableOffset: f.lastStableOffset,
        logStartOffset: f.logStartOffset,
      };
      if (aborted()) return;
    }
  }
}

/** The offset after the last complete batch of a records blob (its fetch offset when none). */
function nextOffsetOf(records: Buffer): bigint {
  let next = -1n;
  for (const span of iterateBatches(records)) {
    if (span.truncated) break;
    const baseOffset = records.readBigInt64BE(span.start + BASE_OFFSET_OFFSET);
    next = baseOffset + BigInt(records.readInt32BE(span.start + LAST_OFFSET_DELTA_OFFSET)) + 1n;
  }
  return next;
}

/**
 * Decodes a fetched partition's records at or after its fetch offset, control batches left
 * out. Under read_committed, records of aborted transactions are left out too, as Kafka's
 * consumers do: a producer's transactional batches are dropped from the first offset the
 * broker lists for it up to its ABORT marker.
 */
function decodeRecords(f: FetchedPartition, readCommitted: boolean, verifyCrc: boolean): ConsumedRecord[] {
  const out: ConsumedRecord[] = [];
  const { topic, partition, fetchOffset } = f;
  const pendingAborts = readCommitted
    ? [...f.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1))
    : [];
  const aborting = new Set<bigint>();
  const options = { verifyCrc };
  const records = f.records;
  for (const span of iterateBatches(records)) {
    if (span.truncated) break;
    const header = readBatchHeader(records, span.start);
    const base = header.baseOffset;
    const lastOffset = base + BigInt(header.lastOffsetDelta);
    while (pendingAborts.length > 0 && (pendingAborts[0] as AbortedTransaction).firstOffset <= lastOffset) {
      aborting.add((pendingAborts.shift() as AbortedTransaction).producerId);
    }
    if (isControl(header.attributes)) {
      const key = decodeBatch(records, span.start, options).records[0]?.key ?? null;
      if (key !== null && key.length >= 4 && key.readInt16BE(2) === ControlRecordType.ABORT) {
        aborting.delete(header.producerId);
      }
      continue;
    }
    // Aborted data and batches wholly before the position are never decompressed.
    if (isTransactional(header.attributes) && aborting.has(header.producerId)) continue;
    if (lastOffset < fetchOffset) continue;
    const first = out.length;
    // Records are built once, in their final shape; the offset is filled in below.
    decodeBatchRecordsAs(
      records,
      span.start,
      header,
      options,
      (attributes, timestamp, offsetDelta, key, value, headers): ConsumedRecord => ({
        topic,
        partition,
        offset: 0n,
        attributes,
        timestamp,
        offsetDelta,
        key,
        value,
        headers,
      }),
      out,
    );
    let keep = first;
    for (let i = first; i < out.length; i++) {
      const r = out[i] as ConsumedRecord;
      r.offset = base + BigInt(r.offsetDelta);
      if (r.offset >= fetchOffset) out[keep++] = r;
    }
    out.length = keep;
  }
  return out;
}
