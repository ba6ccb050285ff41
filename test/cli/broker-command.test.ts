// `ferry broker` as a user runs it: starts, prints its address, serves kcat, stops on SIGTERM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";

const FERRY = new URL("../../bin/ferry", import.meta.url).pathname;

test("ferry broker prints its address once listening and exits 0 on SIGTERM", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ferry-cli-"));
  const child = spawn(FERRY, ["broker", "--data-dir", dir, "--port", "0", "--set", "num.partitions=2"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    let out = "";
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /ferry broker listening on (\S+):(\d+) \((\S+)\)\n/.exec(out);
        if (m) resolve(m[0]);
      });
      child.once("exit", (code) => reject(new Error(`exited early with ${code}`)));
    });
    assert.match(line, /^ferry broker listening on 127\.0\.0\.1:\d+ \([A-Za-z0-9_-]{22}\)\n$/);
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0);
  } finally {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});

test("ferry broker without a data dir explains what is missing and exits non-zero", async () => {
  const child = spawn(FERRY, ["broker"], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  assert.notEqual(code, 0);
  assert.match(err, /--data-dir: a data directory is required/);
});
