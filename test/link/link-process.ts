// `bin/ferry link` as a child process for tests: started with --http on a free port, ready
// once it prints its "running" line, killable with SIGKILL or stopped with SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const FERRY = fileURLToPath(new URL("../../bin/ferry", import.meta.url));

export interface LinkProcess {
  readonly child: ChildProcess;
  /** Base URL of its HTTP endpoint. */
  readonly url: string;
  output(): string;
  kill9(): Promise<void>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function spawnLink(args: readonly string[], timeoutMs = 20_000): Promise<LinkProcess> {
  const child = spawn(FERRY, ["link", "--http", "0", "--log-level", "warn", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`link did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const check = (): void => {
      const m = /ferry link \S+ running: .* \((http:\/\/127\.0\.0\.1:\d+)\)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    child.stdout.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`link exited with ${code} before it was ready:\n${out}`));
    });
  });
  return {
    child,
    url,
    output: () => out,
    kill9: async () => {
      child.kill("SIGKILL");
      await exited;
    },
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

export async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}
