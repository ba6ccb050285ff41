// The drills' clusters: Ferry brokers run as child processes (`ferry broker`), so that a drill's
// disaster is a real `kill -9` of a real process, and a restart reopens the same data directory
// on the same port. A data directory another process holds (its broker lock) is refused.
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../cli/main.ts", import.meta.url));

export interface DrillBroker {
  readonly name: string;
  readonly dataDir: string;
  readonly port: number;
  readonly bootstrap: string;
  readonly clusterId: string;
  /** The running process, or undefined once it exited. */
  readonly running: boolean;
  /** SIGKILL: no flush, no clean shutdown. Resolves once the process is gone. */
  kill9(): Promise<void>;
  /** Starts the broker again on the same data directory and port. */
  restart(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

interface Started {
  child: ChildProcess;
  port: number;
  clusterId: string;
  exited: Promise<void>;
}

function startProcess(
  dataDir: string,
  listen: DrillListen,
  settings: Record<string, string>,
): Promise<Started> {
  const args = ["--disable-warning=ExperimentalWarning", MAIN, "broker", "--data-dir", dataDir];
  args.push("--port", String(listen.port), "--host", listen.host, "--log-level", "warn");
  for (const [k, v] of Object.entries(settings)) args.push("--set", `${k}=${v}`);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stdout = "";
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-4_000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail("timed out"), 20_000);
    function fail(why: string): void {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`ferry broker did not start (${why}): ${stderr}`));
    }
    child.stdout?.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
      const m = /ferry broker listening on \S+:(\d+) \(([^)]+)\)/.exec(stdout);
      if (m?.[1] !== undefined && m[2] !== undefined) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), clusterId: m[2], exited });
      }
    });
    child.once("exit", (code, signal) => fail(`exited with ${String(code ?? signal)}`));
    child.once("error", (e) => fail(e.message));
  });
}

/** Where a drill broker listens: an interface and a port (0 picks a free one). */
export interface DrillListen {
  host: string;
  port: number;
}

/** The data directory is held by a running process (its broker lock), e.g. a `ferry up`. */
export class DataDirInUseError extends Error {
  readonly pid: number;
  constructor(dataDir: string, pid: number) {
    super(`${dataDir} is in use by process ${pid}`);
    this.name = "DataDirInUseError";
    this.pid = pid;
  }
}

/** Throws DataDirInUseError when a live process holds the broker lock of `dataDir`. */
export async function assertDataDirFree(dataDir: string): Promise<void> {
  const pid = Number((await readFile(join(dataDir, ".lock"), "utf8").catch(() => "")).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return;
  }
  throw new DataDirInUseError(dataDir, pid);
}

/**
 * Starts `ferry broker` (default on 127.0.0.1 and a free port) and resolves once it listens.
 * Refuses a data directory another live process holds (DataDirInUseError).
 */
export async function spawnDrillBroker(
  name: string,
  dataDir: string,
  settings: Record<string, string> = {},
  listen: DrillListen = { host: "127.0.0.1", port: 0 },
): Promise<DrillBroker> {
  const all = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "1000",
    ...settings,
  };
  await assertDataDirFree(dataDir);
  let current: Started | undefined = await startProcess(dataDir, listen, all);
  const port = current.port;
  // A broker on every interface is reached on loopback.
  const host = ["0.0.0.0", "::", ""].includes(listen.host) ? "127.0.0.1" : listen.host;
  const clusterId = current.clusterId;
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const c = current;
    current = undefined;
    if (c === undefined) return;
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill(signal);
    await c.exited;
  };
  return {
    name,
    dataDir,
    port,
    bootstrap: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
    clusterId,
    get running() {
      return current !== undefined;
    },
    kill9: () => end("SIGKILL"),
    stop: () => end("SIGTERM"),
    async restart() {
      await end("SIGTERM");
      current = await startProcess(dataDir, { host: listen.host, port }, all);
    },
  };
}
