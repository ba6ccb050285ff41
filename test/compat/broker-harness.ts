// Ferry brokers for the real-client suites: one in this process on a fresh temp directory
// (restartable on the same directory and port), or one run through bin/ferry as a child
// process that a test can kill -9; plus async runners for the client programs.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker, type RunningBroker } from "../../src/broker/broker.ts";
import type { SettingValue } from "../../src/broker/config/broker-config.ts";
import { batchSize, readBatchHeader, type BatchHeader } from "../../src/protocol/records/batch-header.ts";
import { createLogger } from "../../src/util/logger.ts";
import { SYSTEM_PYTHON } from "../helpers/peers.ts";

/** Settings every test broker gets: groups form at once instead of after Kafka's 3 s wait. */
export const TEST_BROKER_SETTINGS: Readonly<Record<string, SettingValue>> = {
  "group.initial.rebalance.delay.ms": 50,
};

const FERRY = fileURLToPath(new URL("../../bin/ferry", import.meta.url));
const PYTHON_DIR = fileURLToPath(new URL("./python/", import.meta.url));

/** An in-process broker on its own temp data directory. */
export interface TestBroker {
  readonly dataDir: string;
  readonly port: number;
  readonly bootstrap: string;
  /** The running broker (replaced by restart). */
  readonly current: RunningBroker;
  /** The broker's log lines so far. */
  logLines(): string[];
  /** The warn and error lines the broker logged (a real client's request should cause none). */
  loggedProblems(): string[];
  /** close() then start again on the same data directory and port. */
  restart(): Promise<void>;
  /** Stops the broker and deletes its data directory. */
  close(): Promise<void>;
}

/** Starts a broker in this process on 127.0.0.1, a free port and a new temp directory. */
export async function startTestBroker(settings: Record<string, SettingValue> = {}): Promise<TestBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), "ferry-compat-"));
  const lines: string[] = [];
  const logger = createLogger({ level: "info", write: (line) => void lines.push(line) });
  const all = { ...TEST_BROKER_SETTINGS, ...settings };
  const start = (port: number): Promise<RunningBroker> =>
    startBroker({ dataDir, port, host: "127.0.0.1", settings: all, logger });
  let current: RunningBroker;
  try {
    current = await start(0);
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const port = current.port;
  let closed = false;
  return {
    dataDir,
    port,
    bootstrap: `127.0.0.1:${port}`,
    get current() {
      return current;
    },
    logLines: () => lines,
    loggedProblems: () => lines.filter((l) => / level=(warn|error) /.test(l)),
    async restart() {
      await current.close();
      current = await start(port);
    },
    async close() {
      if (closed) return;
      closed = true;
      await current.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A broker run by `bin/ferry broker` in a child process. */
export interface ChildBroker {
  readonly port: number;
  readonly bootstrap: string;
  readonly process: ChildProcess;
  /** Everything the broker wrote to stderr so far. */
  stderr(): string;
  /** Sends a signal and resolves once the process has exited. */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/** Starts `bin/ferry broker` and resolves once it prints its "listening" line. */
export async function spawnFerryBroker(opts: {
  dataDir: string;
  port?: number;
  settings?: Record<string, SettingValue>;
  timeoutMs?: number;
}): Promise<ChildBroker> {
  const args = [
    "broker",
    "--data-dir",
    opts.dataDir,
    "--port",
    String(opts.port ?? 0),
    "--host",
    "127.0.0.1",
  ];
  for (const [name, value] of Object.entries({ ...TEST_BROKER_SETTINGS, ...opts.settings }))
    args.push("--set", `${name}=${String(value)}`);
  const child = spawn(FERRY, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let stdout = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error("timed out")), opts.timeoutMs ?? 15_000);
    function fail(e: Error): void {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`ferry broker did not start: ${e.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
      const m = /ferry broker listening on 127\.0\.0\.1:(\d+) /.exec(stdout);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code, signal) => fail(new Error(`exited with ${String(code ?? signal)}`)));
    child.once("error", fail);
  });
  return { port, bootstrap: `127.0.0.1:${port}`, process: child, stderr: () => stderr, stop };
}

/** What a finished client program did. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program without blocking the event loop (an in-process broker must keep serving),
 * feeding `input` to its stdin; kills it with SIGKILL after `timeoutMs`.
 */
export function runProgram(
  command: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env: opts.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** A client program left running, fed through stdin and read line by line. */
export interface RunningProgram {
  /** Complete stdout lines so far. */
  readonly lines: string[];
  stderr(): string;
  /** Resolves once a stdout line satisfies `match` (checking lines already read first). */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  write(text: string): void;
  /** Resolves with the exit code once the program has ended. */
  readonly exited: Promise<number | null>;
  kill(): void;
}

/** Starts a program that keeps running while the test drives the broker around it. */
export function startProgram(command: string, args: readonly string[]): RunningProgram {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    const parts = (partial + s).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of [...waiters]) w();
  });
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  child.stdin.on("error", () => undefined);
  const exited = new Promise<number | null>((resolve) => {
    child.once("close", (code) => {
      for (const w of [...waiters]) w();
      resolve(code);
    });
  });
  return {
    lines,
    stderr: () => stderr,
    waitForLine(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        let checked = 0;
        const check = (): void => {
          for (; checked < lines.length; checked++) {
            const line = lines[checked];
            if (line !== undefined && match(line)) {
              done();
              resolve(line);
              return;
            }
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`${command} ended before the expected line\nstderr: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for a line from ${command}\nstderr: ${stderr}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    write: (text) => void child.stdin.write(text),
    exited,
    kill: () => void child.kill("SIGKILL"),
  };
}

/** Runs a program and asserts that it exited 0. */
export async function runOk(
  command: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const r = await runProgram(command, args, opts);
  assert.equal(
    r.code,
    0,
    `${command} ${args.join(" ")} exited with ${String(r.code ?? r.signal)}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
  );
  return r;
}

/** Runs test/compat/python/<script> with Debian's python3 and parses its JSON output (last line). */
export async function runPython<T>(script: string, args: readonly string[], timeoutMs = 30_000): Promise<T> {
  const r = await runOk(SYSTEM_PYTHON, [join(PYTHON_DIR, script), ...args], { timeoutMs });
  const last = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`${script} printed no JSON result\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** Path of a script under test/compat/python/. */
export function pythonScript(script: string): string {
  return join(PYTHON_DIR, script);
}

/** A unique name for a topic or group within one broker. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The headers of every batch stored in one partition, read straight from the broker's log. */
export async function storedBatchHeaders(
  broker: RunningBroker,
  topic: string,
  partition: number,
): Promise<BatchHeader[]> {
  const p = broker.context.topics.partition(topic, partition);
  assert.ok(p !== undefined, `no partition ${topic}-${partition}`);
  const headers: BatchHeader[] = [];
  let offset = p.log.logStartOffset;
  while (offset < p.log.highWatermark) {
    const bytes = await p.log.read(offset, 1 << 20);
    if (bytes.length === 0) break;
    for (let pos = 0; pos < bytes.length; pos += batchSize(bytes, pos)) {
      const h = readBatchHeader(bytes, pos);
      headers.push(h);
      offset = Number(h.baseOffset) + h.lastOffsetDelta + 1;
    }
  }
  return headers;
}
