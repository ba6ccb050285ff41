// Storage engine throughput: appends (1 KiB records, batches of 16 and of 1, default flush
// policy and flush.messages=1 with group commit), reads (sequential from the page cache and
// at the tail from memory), and crash recovery (segments scanned with CRC checks). MB/s of
// batch bytes and MB per CPU-second of this process. MB = 10^6 bytes.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeBatch } from "../src/protocol/records/batch-codec.ts";
import { logConfig, type LogConfig } from "../src/broker/log/log-config.ts";
import { PartitionLog } from "../src/broker/log/partition-log.ts";

const PHASE_MS = 2500;
const MB = 1e6;

function makeBatch(records: number, i: number): Buffer {
  return encodeBatch({
    timestamp: Date.now(),
    records: Array.from({ length: records }, (_, r) => ({
      key: Buffer.from(`key-${i}-${r}`),
      value: Buffer.alloc(1024, (i + r) % 251),
    })),
  });
}

interface Rate {
  mbps: number;
  mbPerCpuSecond: number;
  appendsPerSecond: number;
  bytes: number;
}

/** Appends for PHASE_MS with `lanes` appends in flight, each lane reusing its own buffer once acknowledged. */
async function appendPhase(log: PartitionLog, recordsPerBatch: number, lanes: number): Promise<Rate> {
  const buffers = Array.from({ length: lanes }, (_, i) => makeBatch(recordsPerBatch, i));
  let bytes = 0;
  let appends = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + PHASE_MS;
  await Promise.all(
    buffers.map(async (buf) => {
      while (performance.now() < deadline) {
        buf.writeBigInt64BE(0n, 0); // the log patched it: make it a fresh produce again
        await log.append(buf);
        bytes += buf.length;
        appends++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return {
    mbps: bytes / MB / seconds,
    mbPerCpuSecond: bytes / MB / cpuSeconds,
    appendsPerSecond: appends / seconds,
    bytes,
  };
}

async function withLog<T>(
  config: Partial<LogConfig>,
  fn: (log: PartitionLog, dir: string) => Promise<T>,
): Promise<T> {
  const root = await mkdtemp(join(tmpdir(), "ferry-bench-log-"));
  try {
    const log = await PartitionLog.open(
      join(root, "p-0"),
      logConfig({ segmentBytes: 64 * 1024 * 1024, ...config }),
    );
    try {
      return await fn(log, join(root, "p-0"));
    } finally {
      await log.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number>> {
  const metrics: Record<string, number> = {};

  await withLog({}, async (log, dir) => {
    const r = await appendPhase(log, 16, 16);
    metrics["append 16x1KiB batches MB/s"] = r.mbps;
    metrics["append 16x1KiB batches MB/cpu-s"] = r.mbPerCpuSecond;
    metrics["append 16x1KiB batches appends/s"] = r.appendsPerSecond;

    // Sequential consumer from offset 0, 1 MiB fetches: mostly the page cache, not the tail cache.
    await log.flush();
    let offset = log.logStartOffset;
    let bytes = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    while (offset < log.highWatermark) {
      const blob = await log.read(offset, 1024 * 1024);
      bytes += blob.length;
      let pos = 0;
      let last = offset;
      while (pos < blob.length) {
        last = Number(blob.readBigInt64BE(pos)) + blob.readInt32BE(pos + 23);
        pos += 12 + blob.readInt32BE(pos + 8);
      }
      offset = last + 1;
    }
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    metrics["read sequential 1MiB fetches MB/s"] = bytes / MB / seconds;
    metrics["read sequential MB/cpu-s"] = bytes / MB / ((used.user + used.system) / 1e6);

    // A consumer at the tail: the newest batches, served from memory.
    const tailOffset = Math.max(log.logStartOffset, log.highWatermark - 16 * 40);
    let tailBytes = 0;
    const tailStarted = performance.now();
    let reads = 0;
    while (performance.now() - tailStarted < 500) {
      tailBytes += (await log.read(tailOffset, 512 * 1024)).length;
      reads++;
    }
    metrics["read tail 512KiB fetches/s"] = reads / ((performance.now() - tailStarted) / 1000);
    metrics["read tail MB/s"] = tailBytes / MB / ((performance.now() - tailStarted) / 1000);

    // Crash recovery: a second instance opens the directory without the first closing it,
    // so the active segment is scanned with CRC checks and its indexes rebuilt.
    const scanned = log.segmentInfo().at(-1)?.size ?? 0;
    const recoverStarted = performance.now();
    const reopened = await PartitionLog.open(dir, log.config);
    const recoverSeconds = (performance.now() - recoverStarted) / 1000;
    await reopened.close();
    metrics["recovery scanned MB"] = scanned / MB;
    metrics["recovery (CRC scan of the active segment) MB/s"] = scanned / MB / recoverSeconds;
  });

  await withLog({}, async (log) => {
    const r = await appendPhase(log, 1, 64);
    metrics["append 1x1KiB batches MB/s"] = r.mbps;
    metrics["append 1x1KiB batches appends/s"] = r.appendsPerSecond;
    metrics["append 1x1KiB batches MB/cpu-s"] = r.mbPerCpuSecond;
  });

  await withLog({ flushMessages: 1 }, async (log) => {
    const r = await appendPhase(log, 16, 32);
    metrics["append flush.messages=1 16x1KiB MB/s"] = r.mbps;
    metrics["append flush.messages=1 appends/s"] = r.appendsPerSecond;
  });

  await withLog({ flushMessages: 1 }, async (log) => {
    const r = await appendPhase(log, 16, 1);
    metrics["append flush.messages=1 one in flight appends/s"] = r.appendsPerSecond;
  });

  return metrics;
}
