// Helpers for tests that drive a real `ferry up` process and the CLI: run a ferry command,
// start `ferry up` on a topology text in a temp directory (waiting for /readyz), and read a
// topic's record count or records through the API and the CLI.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TopicView } from "../../src/control/views.ts";
import { waitFor } from "../link/link-helpers.ts";

export const FERRY = new URL("../../bin/ferry", import.meta.url).pathname;

export interface FerryRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ferry ARGS` to its end, `stdin` piped in. */
export async function ferry(args: string[], stdin?: string): Promise<FerryRun> {
  const child = spawn(FERRY, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin ?? "");
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

export interface RunningUp {
  /** The control plane's base URL. */
  api: string;
  /** The topology's folder (data directories live under it). */
  dir: string;
  /** The topology file. */
  file: string;
  /** SIGTERM, wait for the exit, remove the folder unless it was given; the exit code. */
  stop(): Promise<number | null>;
  /** What `ferry up` wrote to stderr lately. */
  stderr(): string;
}

/**
 * Starts `ferry up` on `topology` (with `control.port: 0`) written to ferry.yaml in `dir`
 * (default a new temp folder, removed by stop); resolves once ready.
 */
export async function startUp(topology: string, dir?: string): Promise<RunningUp> {
  const own = dir === undefined;
  const folder = dir ?? (await mkdtemp(join(tmpdir(), "ferry-up-test-")));
  const file = join(folder, "ferry.yaml");
  await writeFile(file, topology);
  const up = spawn(FERRY, ["up", file, "--log-level", "warn"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  up.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8_000)));
  const exited = once(up, "exit");
  const stop = async (): Promise<number | null> => {
    if (up.exitCode === null && up.signalCode === null) up.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    if (own) await rm(folder, { recursive: true, force: true });
    return code;
  };
  try {
    const api = await new Promise<string>((resolve, reject) => {
      let out = "";
      up.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /control plane at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      up.once("exit", (code) => reject(new Error(`ferry up exited with ${code}: ${stderr}`)));
    });
    await waitFor("readyz", async () => (await fetch(`${api}/readyz`)).status === 200, 30_000);
    return { api, dir: folder, file, stop, stderr: () => stderr };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Records in a topic of a running cluster, from the API (-1: no such topic yet). */
export async function recordsIn(api: string, cluster: string, topic: string): Promise<number> {
  const res = await fetch(`${api}/api/clusters/${cluster}/topics`);
  if (res.status !== 200) return -1;
  const body = (await res.json()) as { topics: TopicView[] };
  return body.topics.find((t) => t.name === topic)?.records ?? -1;
}

/** A topic's record values read with `ferry consume --json` (all partitions, to the end). */
export async function valuesIn(api: string, cluster: string, topic: string): Promise<string[]> {
  const run = await ferry(["consume", cluster, topic, "--json", "--api", api]);
  if (run.code !== 0) throw new Error(`ferry consume exited with ${run.code}: ${run.stderr}`);
  return run.stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => (JSON.parse(l) as { value: string | null }).value ?? "");
}

/** POSTs to the API; the status and the parsed JSON answer. */
export async function post(api: string, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(api + path, { method: "POST" });
  return { status: res.status, body: await res.json() };
}
