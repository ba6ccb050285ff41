// Broker crash drill at scale: FERRY_CRASH_KILLS (default 25) SIGKILLs of `ferry broker` at
// random moments under an acks=all idempotent producer and committing group; reports
// acknowledged, missing, duplicated and out-of-order records and lost commits (all must be 0).
import { runCrashDrill } from "../test/broker/crash-harness.ts";

export async function run(): Promise<Record<string, number>> {
  const kills = Number(process.env.FERRY_CRASH_KILLS ?? 25);
  const r = await runCrashDrill({
    kills,
    minMs: 100,
    maxMs: 900,
    seed: Number(process.env.FERRY_CRASH_SEED ?? 1),
  });
  if (r.missing + r.duplicates + r.outOfOrder + r.commitMismatches > 0) process.exitCode = 1;
  return { ...r };
}
