// Shared pieces of the log cleaner tests: a cleaner over one test log, keyed appends, and
// reading back what a consumer reading from the start would see.
import { decodeBatches } from "../../../src/protocol/records/batch-codec.ts";
import {
  iterateBatches,
  readBatchHeader,
  type BatchHeader,
} from "../../../src/protocol/records/batch-header.ts";
import { LogCleaner, type CleanerSettings } from "../../../src/broker/log/cleaner.ts";
import type { PartitionLog } from "../../../src/broker/log/partition-log.ts";
import type { Clock } from "./helpers.ts";
import { readAll } from "./helpers.ts";

/** Settings for a cleaner in tests: a small key map, no throttle. */
export const TEST_CLEANER_SETTINGS: CleanerSettings = {
  dedupeBufferBytes: 1024 * 1024,
  loadFactor: 0.9,
  backoffMs: 10,
  ioMaxBytesPerSecond: Infinity,
  sliceBytes: 16 * 1024,
};

/** A cleaner that sees only this log, on the test clock. */
export function cleanerFor(
  log: PartitionLog,
  clock: Clock,
  settings: Partial<CleanerSettings> = {},
): LogCleaner {
  return new LogCleaner({
    logs: () => [{ name: "topic-0", log }],
    settings: { ...TEST_CLEANER_SETTINGS, ...settings },
    now: clock.now,
  });
}

/** One record as a consumer sees it. */
export interface SeenRecord {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
  headers: string[];
}

/** Every record of the log from its start, with the headers of the batches holding them. */
export async function readRecords(
  log: PartitionLog,
): Promise<{ records: SeenRecord[]; batches: BatchHeader[] }> {
  const records: SeenRecord[] = [];
  const batches: BatchHeader[] = [];
  for (const blob of await readAll(log)) {
    for (const span of iterateBatches(blob)) batches.push(readBatchHeader(blob, span.start));
    for (const b of decodeBatches(blob)) {
      for (const r of b.records) {
        records.push({
          offset: Number(b.header.baseOffset) + r.offsetDelta,
          key: r.key === null ? null : r.key.toString(),
          value: r.value === null ? null : r.value.toString(),
          timestamp: r.timestamp,
          headers: r.headers.map((h) => `${h.key}=${h.value?.toString() ?? "null"}`),
        });
      }
    }
  }
  return { records, batches };
}

/** The latest value per key in records (null for a tombstone), in key order. */
export function latestByKey(
  records: readonly { key: string | null; value: string | null }[],
): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const r of records) if (r.key !== null) m.set(r.key, r.value);
  return new Map([...m.entries()].sort((a, b) => a[0].localeCompare(b[0])));
}
