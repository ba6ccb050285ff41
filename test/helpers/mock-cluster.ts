// Launches librdkafka's mock Kafka cluster (a server nobody here wrote) for tests: compiles
// mock-cluster/mock-cluster.c into the repo's .cache/ when missing or stale, runs it, and
// drives it (leader moves, brokers down and up) through its stdin command protocol.
import { spawn, execFile } from "node:child_process";
import type { ChildProcessByStdio } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { promisify } from "node:util";
import type { PeerCheck } from "./peers.ts";

const execFileAsync = promisify(execFile);

const SOURCE = join(import.meta.dirname, "mock-cluster", "mock-cluster.c");
const CACHE_DIR = resolve(import.meta.dirname, "..", "..", ".cache", "mock-cluster");
const START_TIMEOUT_MS = 15_000;
const COMMAND_TIMEOUT_MS = 10_000;
const STDERR_KEEP = 8192;

/** One broker of the mock cluster; ids start at 1. */
export interface MockBroker {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

/** A topic created at start: "name:partitions" or an object. */
export type MockTopic = string | { name: string; partitions: number; replicas?: number };

export interface MockClusterOptions {
  /** Number of brokers (default 3). */
  brokers?: number;
  topics?: readonly MockTopic[];
}

/** The mock process failed to build, start, or carry out a command. */
export class MockClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MockClusterError";
  }
}

/** Compiles the mock cluster program unless an up-to-date binary is cached; returns its path. */
export async function buildMockCluster(): Promise<string> {
  const source = await readFile(SOURCE);
  const digest = createHash("sha256").update(source).digest("hex").slice(0, 16);
  const binary = join(CACHE_DIR, `mock-cluster-${digest}`);
  if (existsSync(binary)) return binary;
  await mkdir(CACHE_DIR, { recursive: true });
  // Concurrent test processes may build at once: each writes its own file, renames atomically.
  const partial = `${binary}.${process.pid}.tmp`;
  const cc = process.env.CC ?? "cc";
  try {
    await execFileAsync(cc, ["-O2", "-Wall", "-o", partial, SOURCE, "-lrdkafka"], { timeout: 120_000 });
    await rename(partial, binary);
  } catch (error) {
    await rm(partial, { force: true });
    const detail = error instanceof Error ? error.message : String(error);
    throw new MockClusterError(
      `cannot build the librdkafka mock cluster with ${cc} (needs a C compiler and librdkafka-dev): ${detail.trim()}`,
    );
  }
  return binary;
}

/** Peer check for requirePeer: the mock cluster program builds (cc and librdkafka-dev present). */
export const mockClusterBuilds: PeerCheck = async () => {
  try {
    await buildMockCluster();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
};

type MockProcess = ChildProcessByStdio<Writable, Readable, Readable>;

interface PendingCommand {
  line: string;
  resolve: (detail: string) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** A running mock cluster; close() it when done. */
export class MockCluster {
  /** Comma-separated HOST:PORT list of every broker, for bootstrap.servers. */
  readonly bootstrap: string;
  readonly brokers: readonly MockBroker[];
  readonly #child: MockProcess;
  readonly #pending: PendingCommand[] = [];
  readonly #exited: Promise<void>;
  readonly #stderr: { tail: string };
  #closed = false;

  private constructor(
    child: MockProcess,
    bootstrap: string,
    exited: Promise<void>,
    stderr: { tail: string },
  ) {
    this.#child = child;
    this.bootstrap = bootstrap;
    this.brokers = parseBootstrap(bootstrap);
    this.#exited = exited;
    this.#stderr = stderr;
  }

  /** Builds if needed, starts the cluster and waits for its bootstrap line. */
  static async start(options: MockClusterOptions = {}): Promise<MockCluster> {
    const binary = await buildMockCluster();
    const args = ["--exit-on-eof", "--brokers", String(options.brokers ?? 3)];
    for (const topic of options.topics ?? []) {
      args.push("--topic", typeof topic === "string" ? topic : topicSpec(topic));
    }
    const child = spawn(binary, args, { stdio: ["pipe", "pipe", "pipe"] });
    const stderr = { tail: "" };
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr.tail = (stderr.tail + chunk).slice(-STDERR_KEEP);
    });
    const exited = new Promise<void>((done) => child.once("close", () => done()));
    const lines = createInterface({ input: child.stdout });

    const bootstrap = await new Promise<string>((resolveStart, rejectStart) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        child.kill("SIGKILL");
        rejectStart(new MockClusterError(`mock cluster did not start: ${why}\n${stderr.tail}`.trim()));
      };
      const timer = setTimeout(
        () => fail(`no bootstrap line within ${START_TIMEOUT_MS} ms`),
        START_TIMEOUT_MS,
      );
      child.once("error", (error) => fail(error.message));
      child.once("exit", (code, signal) => fail(`exited with ${String(code ?? signal)}`));
      lines.once("line", (line) => {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        child.removeAllListeners("error");
        if (line.startsWith("bootstrap ")) resolveStart(line.slice("bootstrap ".length).trim());
        else fail(`unexpected first line ${JSON.stringify(line)}`);
      });
    });

    const cluster = new MockCluster(child, bootstrap, exited, stderr);
    lines.on("line", (line) => cluster.#answer(line));
    child.once("exit", (code, signal) =>
      cluster.#failPending(`mock cluster exited with ${String(code ?? signal)}`),
    );
    return cluster;
  }

  /** Sends one raw command line; resolves to the text after "ok". */
  command(line: string): Promise<string> {
    if (this.#closed) return Promise.reject(new MockClusterError(`mock cluster is closed: ${line}`));
    if (line.includes("\n")) return Promise.reject(new MockClusterError("a command is one line"));
    return new Promise<string>((resolveCommand, rejectCommand) => {
      const timer = setTimeout(() => {
        rejectCommand(new MockClusterError(`no answer to "${line}" within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.#pending.push({ line, resolve: resolveCommand, reject: rejectCommand, timer });
      this.#child.stdin.write(`${line}\n`);
    });
  }

  /** librdkafka version of the running mock (e.g. "2.0.2"). */
  version(): Promise<string> {
    return this.command("version");
  }

  /** Moves a partition's leader to a broker (-1: no leader). Does not move data. */
  async leader(topic: string, partition: number, brokerId: number): Promise<void> {
    await this.command(`leader ${word(topic)} ${int(partition)} ${int(brokerId)}`);
  }

  /** Disconnects a broker and refuses new connections to it (leaders stay where they are). */
  async down(brokerId: number): Promise<void> {
    await this.command(`down ${int(brokerId)}`);
  }

  /** Lets a broker accept connections again. */
  async up(brokerId: number): Promise<void> {
    await this.command(`up ${int(brokerId)}`);
  }

  /** Creates a topic (the mock also auto-creates topics on first use). */
  async createTopic(name: string, partitions: number, replicas?: number): Promise<void> {
    const rf = replicas === undefined ? "" : ` ${int(replicas)}`;
    await this.command(`topic ${word(name)} ${int(partitions)}${rf}`);
  }

  /** Adds a round-trip delay to every response of a broker. */
  async rtt(brokerId: number, ms: number): Promise<void> {
    await this.command(`rtt ${int(brokerId)} ${int(ms)}`);
  }

  /** Makes the next requests with this api key fail with the given error codes, in order. */
  async pushRequestErrors(apiKey: number, errorCodes: readonly number[]): Promise<void> {
    await this.command(`errors ${int(apiKey)} ${errorCodes.map(int).join(" ")}`);
  }

  /** Stops the cluster and waits for the process to exit. */
  async close(): Promise<void> {
    if (this.#closed) return this.#exited;
    this.#closed = true;
    this.#child.stdin.end();
    this.#child.kill("SIGTERM");
    const killer = setTimeout(() => this.#child.kill("SIGKILL"), 5_000);
    await this.#exited;
    clearTimeout(killer);
  }

  #answer(line: string): void {
    const pending = this.#pending.shift();
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    if (line === "ok" || line.startsWith("ok ")) pending.resolve(line.slice(3));
    else pending.reject(new MockClusterError(`mock cluster refused "${pending.line}": ${line}`));
  }

  #failPending(why: string): void {
    for (const pending of this.#pending.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(
        new MockClusterError(`${why} before answering "${pending.line}"\n${this.#stderr.tail}`.trim()),
      );
    }
  }
}

/** Starts a mock cluster; shorthand for MockCluster.start. */
export function startMockCluster(options: MockClusterOptions = {}): Promise<MockCluster> {
  return MockCluster.start(options);
}

function parseBootstrap(bootstrap: string): MockBroker[] {
  return bootstrap.split(",").map((address, index) => {
    const colon = address.lastIndexOf(":");
    const port = Number(address.slice(colon + 1));
    if (colon < 1 || !Number.isInteger(port)) throw new MockClusterError(`bad bootstrap address ${address}`);
    return { id: index + 1, host: address.slice(0, colon), port };
  });
}

function topicSpec(topic: { name: string; partitions: number; replicas?: number }): string {
  const replicas = topic.replicas === undefined ? "" : `:${int(topic.replicas)}`;
  return `${word(topic.name)}:${int(topic.partitions)}${replicas}`;
}

function word(text: string): string {
  if (!/^[^\s:]+$/.test(text))
    throw new MockClusterError(`not usable as a mock cluster argument: ${JSON.stringify(text)}`);
  return text;
}

function int(n: number): string {
  if (!Number.isInteger(n)) throw new MockClusterError(`not an integer: ${n}`);
  return String(n);
}
