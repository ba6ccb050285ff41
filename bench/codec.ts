// Record batch codec throughput: encode and decode per compression codec (MB/s of
// uncompressed batch bytes, records/s), CRC-32C pure TypeScript against native, and header
// rewrite rates with and without CRC verification, all from one run. MB = 10^6 bytes.
import { crc32cNative, crc32cPure } from "../src/protocol/crc32c.ts";
import { CompressionCodec, codecName } from "../src/protocol/compression/index.ts";
import { decodeBatch, encodeBatch } from "../src/protocol/records/batch-codec.ts";
import { rewriteBatchHeader } from "../src/protocol/records/batch-rewrite.ts";
import type { RecordInput } from "../src/protocol/records/record.ts";

const BUDGET_MS = 1200;

/** Calls fn repeatedly for about budgetMs after a warm-up; returns calls per second. */
function rate(fn: () => unknown, budgetMs = BUDGET_MS): number {
  const warmUntil = performance.now() + budgetMs / 4;
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  let batch = 1;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    elapsed = performance.now() - started;
    if (elapsed < budgetMs / 20) batch *= 2;
  }
  return (calls * 1000) / elapsed;
}

// Log-like JSON values: compressible the way real topics are.
function workload(count: number): RecordInput[] {
  const t0 = 1_700_000_000_000;
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`user-${(i * 7919) % 10_000}`.padEnd(16, "-")),
    value: Buffer.from(
      JSON.stringify({
        id: i,
        ts: t0 + i * 13,
        level: ["info", "warn", "error"][i % 3],
        path: `/api/v1/orders/${(i * 31) % 977}`,
        latencyMs: (i * 37) % 500,
        msg: "request completed",
      }),
    ),
    headers:
      i % 4 === 0
        ? [{ key: "traceparent", value: Buffer.from(`00-${i.toString(16).padStart(32, "0")}-01`) }]
        : [],
    timestamp: t0 + i * 13,
  }));
}

/** Runs the benchmark; metric names are "<what>.<variant>.<unit>". */
export function run(): Record<string, number> {
  const m: Record<string, number> = {};
  const records = workload(1000);
  const plainSize = encodeBatch({ records }).length;
  m["batch.records"] = records.length;
  m["batch.uncompressedBytes"] = plainSize;

  for (const codec of [0, 1, 2, 3, 4]) {
    const name = codecName(codec);
    const encoded = encodeBatch({ records, compression: codec });
    m[`batch.${name}.bytes`] = encoded.length;
    const encodes = rate(() => encodeBatch({ records, compression: codec }));
    m[`encode.${name}.MBps`] = (encodes * plainSize) / 1e6;
    m[`encode.${name}.recordsPerSec`] = encodes * records.length;
    const decodes = rate(() => decodeBatch(encoded));
    m[`decode.${name}.MBps`] = (decodes * plainSize) / 1e6;
    m[`decode.${name}.recordsPerSec`] = decodes * records.length;
  }

  for (const size of [1024, 16 * 1024, 1024 * 1024]) {
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 131) & 0xff;
    const label = size >= 1 << 20 ? `${size >> 20}MiB` : `${size >> 10}KiB`;
    m[`crc32c.pure.${label}.MBps`] = (rate(() => crc32cPure(data), BUDGET_MS / 2) * size) / 1e6;
    const native = crc32cNative;
    if (native !== null)
      m[`crc32c.native.${label}.MBps`] = (rate(() => native(data), BUDGET_MS / 2) * size) / 1e6;
  }

  // Rewrites on a ~1 MiB zstd batch and on a small one: without verification the cost does
  // not depend on the batch size; with it, a CRC pass over the batch is added.
  const big = encodeBatch({ records: workload(8000), compression: CompressionCodec.NONE });
  const small = encodeBatch({ records: workload(10), compression: CompressionCodec.ZSTD });
  m["rewrite.batchBytes.large"] = big.length;
  m["rewrite.batchBytes.small"] = small.length;
  for (const [label, batch] of [
    ["large", big],
    ["small", small],
  ] as const) {
    let id = 0n;
    m[`rewrite.${label}.noVerify.opsPerSec`] = rate(
      () =>
        rewriteBatchHeader(
          batch,
          0,
          { producerId: id++, producerEpoch: 1, baseSequence: 0 },
          { verifyCrc: false },
        ),
      BUDGET_MS / 2,
    );
    m[`rewrite.${label}.verify.opsPerSec`] = rate(
      () => rewriteBatchHeader(batch, 0, { producerId: id++, producerEpoch: 1, baseSequence: 0 }),
      BUDGET_MS / 2,
    );
  }
  return m;
}
