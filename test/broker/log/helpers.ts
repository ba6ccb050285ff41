// Shared pieces of the storage engine tests: temp directories, a settable clock, batch
// builders and readers of what a log returns.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { encodeBatch, type EncodeBatchOptions } from "../../../src/protocol/records/batch-codec.ts";
import {
  iterateBatches,
  readBatchHeader,
  type BatchHeader,
} from "../../../src/protocol/records/batch-header.ts";
import { logConfig, type FullLogConfig, type LogConfig } from "../../../src/broker/log/log-config.ts";
import { PartitionLog, type OpenOptions } from "../../../src/broker/log/partition-log.ts";

/** A fixed "now" for tests: 2024-01-01T00:00:00Z. */
export const T0 = 1_704_067_200_000;

/** A clock tests move by hand. */
export class Clock {
  t: number;
  constructor(t = T0) {
    this.t = t;
  }
  readonly now = (): number => this.t;
}

/** A fresh temp directory removed after the test. */
export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-log-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens a log in a fresh temp dir (partition subdirectory) with a test clock; closed and removed after the test. */
export async function openTestLog(
  t: TestContext,
  overrides: Partial<LogConfig> = {},
  opts: OpenOptions & { clock?: Clock } = {},
): Promise<TestLog> {
  const root = await mkdtemp(join(tmpdir(), "ferry-log-"));
  const dir = join(root, "topic-0");
  const clock = opts.clock ?? new Clock();
  const config = logConfig(overrides);
  const log = await PartitionLog.open(dir, config, { now: clock.now, ...opts });
  const opened = [log];
  t.after(async () => {
    for (const l of opened.reverse()) await l.close().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });
  const reopen = async (): Promise<PartitionLog> => {
    const l = await PartitionLog.open(dir, config, { now: clock.now });
    opened.push(l);
    return l;
  };
  return { log, dir, clock, config, reopen };
}

export interface TestLog {
  log: PartitionLog;
  dir: string;
  clock: Clock;
  config: FullLogConfig;
  /** Opens the directory again (without closing what is open: a restart after a crash); closed after the test. */
  reopen: () => Promise<PartitionLog>;
}

export interface BatchSpec extends Partial<EncodeBatchOptions> {
  /** Number of records (default 1) when records is not given. */
  count?: number;
  /** Bytes per value (default 10). */
  valueSize?: number;
}

/** A v2 batch as a client would send it: baseOffset 0, timestamps at T0 unless given. */
export function makeBatch(spec: BatchSpec = {}): Buffer {
  const count = spec.count ?? 1;
  const valueSize = spec.valueSize ?? 10;
  const records =
    spec.records ??
    Array.from({ length: count }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.alloc(valueSize, 97 + (i % 26)),
    }));
  return encodeBatch({ timestamp: T0, ...spec, records });
}

/** Headers of every batch in a records blob. */
export function headersOf(blob: Buffer): BatchHeader[] {
  const out: BatchHeader[] = [];
  for (const span of iterateBatches(blob)) {
    if (!span.truncated) out.push(readBatchHeader(blob, span.start));
  }
  return out;
}

/** [baseOffset, lastOffset] of every batch in a records blob. */
export function rangesOf(blob: Buffer): [number, number][] {
  return headersOf(blob).map((h) => [Number(h.baseOffset), Number(h.baseOffset) + h.lastOffsetDelta]);
}

/** Reads the whole readable log batch by batch. */
export async function readAll(log: PartitionLog, from = log.logStartOffset): Promise<Buffer[]> {
  const batches: Buffer[] = [];
  let offset = from;
  while (offset < log.highWatermark) {
    const blob = await log.read(offset, 1024 * 1024);
    if (blob.length === 0) break;
    for (const span of iterateBatches(blob)) {
      if (span.truncated) continue;
      const b = Buffer.from(blob.subarray(span.start, span.end));
      batches.push(b);
      const h = readBatchHeader(b);
      offset = Number(h.baseOffset) + h.lastOffsetDelta + 1;
    }
  }
  return batches;
}

/** Flips bits of the byte at pos (damaging a batch or file on purpose). */
export function flipByte(buf: Buffer, pos: number, mask = 0xff): void {
  buf.writeUInt8(buf.readUInt8(pos) ^ mask, pos);
}
