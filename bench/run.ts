// Benchmark runner behind `npm run bench -- NAME`: imports bench/NAME.ts, calls its run(),
// prints the metrics (stderr) and a one-line summary (stdout), and records the result with
// the machine it ran on in bench/results/NAME-<timestamp>.json. No NAME lists the benchmarks.
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** What a benchmark's run() returns: named metrics. */
export type BenchMetrics = Record<string, number>;

const benchDir = import.meta.dirname;

async function available(): Promise<string[]> {
  const files = await readdir(benchDir);
  return files
    .filter((f) => f.endsWith(".ts") && f !== "run.ts")
    .map((f) => f.slice(0, -3))
    .sort();
}

async function main(name: string | undefined): Promise<number> {
  const names = await available();
  if (name === undefined) {
    console.log(`benchmarks: ${names.join(", ")}\nrun one with: npm run bench -- NAME`);
    return 0;
  }
  if (!names.includes(name)) {
    console.error(`no benchmark "${name}"; available: ${names.join(", ")}`);
    return 2;
  }
  const mod = (await import(pathToFileURL(join(benchDir, `${name}.ts`)).href)) as { run?: unknown };
  if (typeof mod.run !== "function") {
    console.error(`bench/${name}.ts exports no run()`);
    return 2;
  }
  const started = performance.now();
  const metrics = (await (mod.run as () => BenchMetrics | Promise<BenchMetrics>)()) ?? {};
  const seconds = (performance.now() - started) / 1000;
  const date = new Date();
  const result = {
    name,
    date: date.toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? "unknown",
    cpuCount: cpus().length,
    platform: `${process.platform}-${process.arch}`,
    seconds: round(seconds),
    metrics,
  };
  const resultsDir = join(benchDir, "results");
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}-${date.toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  const width = Math.max(...Object.keys(metrics).map((k) => k.length));
  for (const [k, v] of Object.entries(metrics)) console.error(`  ${k.padEnd(width)}  ${round(v)}`);
  console.log(
    `${name}: ${Object.keys(metrics).length} metrics in ${round(seconds)} s on ${result.cpu}, ${process.version} -> ${file}`,
  );
  return 0;
}

function round(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100;
}

process.exitCode = await main(process.argv[2]);
