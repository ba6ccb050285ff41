// Helpers for link tests: brokers on both sides, clients, reading a partition's raw bytes and
// records, and waiting for a condition.
import { Admin } from "../../src/client/admin.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { fetchRaw, IsolationLevel } from "../../src/client/consumer.ts";
import { listOffsets, OffsetSpec } from "../../src/client/offsets.ts";
import { decodeBatches } from "../../src/protocol/records/batch-codec.ts";
import { isControl, iterateBatches } from "../../src/protocol/records/batch-header.ts";
import { Link, type LinkOptions } from "../../src/link/link.ts";
import { silentLogger } from "../../src/util/logger.ts";

export async function waitFor(
  what: string | (() => string),
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function clusterOf(bootstrap: string): Cluster {
  return new Cluster({ bootstrap, retries: 5, retryBackoffMs: 50, unknownTopicRetries: 3 });
}

/** Starts a link with fast intervals for tests. */
export function startTestLink(
  options: Omit<LinkOptions, "logger"> & { logger?: LinkOptions["logger"] },
): Promise<Link> {
  return Link.start({
    logger: silentLogger,
    ...options,
    tuning: {
      topicsIntervalMs: 200,
      groupsIntervalMs: 200,
      configsIntervalMs: 500,
      checkpointIntervalMs: 100,
      fetchMaxWaitMs: 100,
      errorBackoffMs: 100,
      ...options.tuning,
    },
  });
}

/** Every whole batch of a partition, as the broker returns it, from its log start to its end. */
export async function readAllBatches(cluster: Cluster, topic: string, partition: number): Promise<Buffer> {
  const [start, end] = await bounds(cluster, topic, partition);
  let offset = start?.offset ?? 0n;
  const stop = end?.offset ?? 0n;
  const parts: Buffer[] = [];
  while (offset < stop) {
    const [a] = await fetchRaw(cluster, [{ topic, partition, offset }], { maxWaitMs: 0 });
    if (a === undefined || a.error !== undefined) throw a?.error ?? new Error("no answer");
    let advanced = false;
    for (const span of iterateBatches(a.records)) {
      if (span.truncated) break;
      const base = a.records.readBigInt64BE(span.start);
      const last = base + BigInt(a.records.readInt32BE(span.start + 23));
      if (last < offset) continue;
      parts.push(a.records.subarray(span.start, span.end));
      offset = last + 1n;
      advanced = true;
    }
    if (!advanced) break;
  }
  return Buffer.concat(parts);
}

export interface SimpleRecord {
  offset: bigint;
  key: string | null;
  value: string | null;
  headers: string;
  timestamp: number;
}

/** The data records of a partition (control batches left out), with offsets. */
export async function readRecords(
  cluster: Cluster,
  topic: string,
  partition: number,
  isolationLevel: number = IsolationLevel.READ_UNCOMMITTED,
): Promise<SimpleRecord[]> {
  const out: SimpleRecord[] = [];
  const [start, end] = await bounds(cluster, topic, partition, isolationLevel);
  let offset = start?.offset ?? 0n;
  const stop = end?.offset ?? 0n;
  while (offset < stop) {
    const [a] = await fetchRaw(cluster, [{ topic, partition, offset }], { maxWaitMs: 0, isolationLevel });
    if (a === undefined || a.error !== undefined) throw a?.error ?? new Error("no answer");
    const aborted = new Set<bigint>();
    const abortStarts = [...a.abortedTransactions];
    let advanced = false;
    const whole = a.records.subarray(
      0,
      [...iterateBatches(a.records)].filter((s) => !s.truncated).at(-1)?.end ?? 0,
    );
    for (const b of decodeBatches(whole)) {
      const base = b.header.baseOffset;
      const last = base + BigInt(b.header.lastOffsetDelta);
      for (const t of abortStarts) if (t.firstOffset <= last) aborted.add(t.producerId);
      if (last < offset) continue;
      advanced = true;
      offset = last + 1n;
      if (isControl(b.header.attributes)) {
        aborted.delete(b.header.producerId);
        continue;
      }
      if (isolationLevel === IsolationLevel.READ_COMMITTED && aborted.has(b.header.producerId)) continue;
      for (const r of b.records) {
        const o = base + BigInt(r.offsetDelta);
        out.push({
          offset: o,
          key: r.key?.toString() ?? null,
          value: r.value?.toString() ?? null,
          headers: JSON.stringify(r.headers.map((h) => [h.key, h.value?.toString() ?? null])),
          timestamp: r.timestamp,
        });
      }
    }
    if (!advanced) break;
  }
  return out;
}

/** Log start and end (high watermark, or LSO for read_committed) of a partition. */
export async function bounds(
  cluster: Cluster,
  topic: string,
  partition: number,
  isolationLevel = 0,
): Promise<[{ offset: bigint } | undefined, { offset: bigint } | undefined]> {
  const [start] = await listOffsets(
    cluster,
    [{ topic, partition, timestamp: OffsetSpec.EARLIEST }],
    isolationLevel,
  );
  const [end] = await listOffsets(
    cluster,
    [{ topic, partition, timestamp: OffsetSpec.LATEST }],
    isolationLevel,
  );
  return [start, end];
}

export async function endOffset(cluster: Cluster, topic: string, partition: number): Promise<bigint> {
  const [a] = await listOffsets(cluster, [{ topic, partition, timestamp: OffsetSpec.LATEST }]);
  return a?.offset ?? -1n;
}

export { Admin };
