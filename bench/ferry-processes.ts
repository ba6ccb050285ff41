// Ferry processes for benchmarks: brokers and links started through bin/ferry, with their CPU
// time and peak memory read from /proc, so a benchmark measures them apart from itself.
import { spawn, type ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";

const FERRY = new URL("../bin/ferry", import.meta.url).pathname;

export interface FerryProcess {
  readonly child: ChildProcess;
  /** CPU time (user + system) used so far, in ms. */
  cpuMs(): Promise<number>;
  /** CPU time used so far by the process's threads, in ms, summed by thread name (libuv-worker: file I/O). */
  threadCpuMs(): Promise<Map<string, number>>;
  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRssBytes(): Promise<number>;
  stop(): Promise<void>;
}

function wrap(child: ChildProcess, what: string): FerryProcess {
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      // A process that goes away on its own would otherwise show up only as a stalled benchmark.
      if (!stopping) console.error(`  ${what} (pid ${child.pid}) exited unexpectedly: ${signal ?? code}`);
      resolve();
    }),
  );
  return {
    child,
    cpuMs: async () => statCpuMs(await readFile(`/proc/${child.pid}/stat`, "utf8").catch(() => "")),
    threadCpuMs: async () => {
      const out = new Map<string, number>();
      const tasks = await readdir(`/proc/${child.pid}/task`).catch(() => []);
      for (const task of tasks) {
        const stat = await readFile(`/proc/${child.pid}/task/${task}/stat`, "utf8").catch(() => "");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        out.set(name, (out.get(name) ?? 0) + statCpuMs(stat));
      }
      return out;
    },
    peakRssBytes: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
      const m = /VmHWM:\s+(\d+) kB/.exec(status);
      return m === null ? 0 : Number(m[1]) * 1024;
    },
    stop: async () => {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** utime and stime, fields 14 and 15 of a /proc stat line, in clock ticks (100 per second), as ms. */
function statCpuMs(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10;
}

/**
 * CPUs the brokers are pinned to (taskset's list, e.g. "1"), from FERRY_BENCH_BROKER_CPUS; unset:
 * not pinned. Run the benchmark itself on the other CPUs (`taskset -c 0 npm run bench -- …`) to
 * give a broker cores of its own, as a broker on its own machine has.
 */
const BROKER_CPUS = process.env.FERRY_BENCH_BROKER_CPUS;

/** Starts `ferry <args>` and resolves once stdout matches `ready` (the first group is returned). */
async function start(
  args: readonly string[],
  ready: RegExp,
  cpus?: string,
): Promise<{ process: FerryProcess; match: string }> {
  // taskset execs the command, so the child's pid (and its /proc figures) stay the broker's.
  const child =
    cpus === undefined
      ? spawn(FERRY, args, { stdio: ["ignore", "pipe", "inherit"] })
      : spawn("taskset", ["-c", cpus, FERRY, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const match = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve(m[1] ?? m[0]);
    });
    child.once("exit", (code) => reject(new Error(`ferry ${args[0]} exited with ${code}: ${out}`)));
    // A command that cannot start at all (taskset missing, say) reports here, not through exit.
    child.once("error", (e) => reject(new Error(`cannot start ferry ${args[0]}: ${e.message}`)));
  });
  return { process: wrap(child, `ferry ${args[0] ?? ""}`), match };
}

export interface BrokerProcess extends FerryProcess {
  bootstrap: string;
}

export async function startBrokerProcess(
  dataDir: string,
  settings: Record<string, string> = {},
): Promise<BrokerProcess> {
  const sets = Object.entries(settings).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
  const { process, match } = await start(
    ["broker", "--data-dir", dataDir, "--port", "0", "--log-level", "warn", ...sets],
    /listening on [^\s]+:(\d+)/,
    BROKER_CPUS,
  );
  return Object.assign(process, { bootstrap: `127.0.0.1:${match}` });
}

export interface LinkProcess extends FerryProcess {
  /** Base URL of its --http endpoint. */
  url: string;
}

export async function startLinkProcess(args: readonly string[]): Promise<LinkProcess> {
  const { process, match } = await start(
    ["link", "--http", "0", "--log-level", "warn", "--topics-interval-ms", "200", ...args],
    /running: .* \((http:\/\/[^)]+)\)/,
  );
  return Object.assign(process, { url: match });
}
