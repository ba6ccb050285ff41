// Broker throughput: produce (acks=all) and fetch of 1 KiB records with 1, 8 and 64
// partitions, load from a separate client process; reports MB/s and MB per CPU-second of
// the broker process (utime+stime from /proc).
import { spawn, execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ApiKey } from "../src/protocol/generated/index.ts";
import { openConnection } from "../src/net/connection.ts";

const FERRY = new URL("../bin/ferry", import.meta.url).pathname;
const LOAD = new URL("./load/broker-load.ts", import.meta.url).pathname;
const run$ = promisify(execFile);
const TICKS = 100; // USER_HZ on Linux

async function cpuSeconds(pid: number): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
  return (Number(stat[11]) + Number(stat[12])) / TICKS;
}

async function load(port: number, topic: string, partitions: number, mode: string, seconds: number) {
  const { stdout } = await run$(
    process.execPath,
    [
      LOAD,
      "--port",
      String(port),
      "--topic",
      topic,
      "--partitions",
      String(partitions),
      "--mode",
      mode,
      "--seconds",
      String(seconds),
    ],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout) as { bytes: number; records: number; seconds: number };
}

export async function run(): Promise<Record<string, number>> {
  const seconds = Number(process.env.FERRY_BENCH_SECONDS ?? 5);
  const dir = await mkdtemp(join(tmpdir(), "ferry-bench-"));
  const broker = spawn(FERRY, ["broker", "--data-dir", dir, "--port", "0", "--log-level", "warn"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const out: Record<string, number> = {};
  try {
    const port = await new Promise<number>((resolve, reject) => {
      broker.stdout.on("data", (d: Buffer) => {
        const m = /listening on [^:]+:(\d+) /.exec(d.toString());
        if (m) resolve(Number(m[1]));
      });
      broker.once("exit", () => reject(new Error("broker exited")));
    });
    const pid = broker.pid ?? 0;
    const admin = await openConnection({ host: "127.0.0.1", port });
    for (const partitions of [1, 8, 64]) {
      const topic = `bench-${partitions}`;
      await admin.send(ApiKey.CreateTopics, 7, {
        topics: [{ name: topic, numPartitions: partitions, replicationFactor: 1 }],
        timeoutMs: 5000,
      });
      for (const mode of ["produce", "fetch"]) {
        const cpu0 = await cpuSeconds(pid);
        const r = await load(port, topic, partitions, mode, seconds);
        const cpu = (await cpuSeconds(pid)) - cpu0;
        const mb = r.bytes / 1e6;
        out[`${mode}.p${partitions}.MBps`] = Number((mb / r.seconds).toFixed(1));
        out[`${mode}.p${partitions}.MBperBrokerCpuSecond`] = Number((mb / Math.max(cpu, 0.01)).toFixed(1));
        out[`${mode}.p${partitions}.recordsPerSec`] = Math.round(r.records / r.seconds);
      }
    }
    await admin.close();
  } finally {
    broker.kill("SIGTERM");
    await new Promise((r) => broker.once("exit", r));
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}
