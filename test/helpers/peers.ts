// Test peers: real programs nobody here wrote (kcat, Debian's python Kafka clients, a C
// compiler with librdkafka). A test that needs one asks requirePeer first: under CI=true a
// missing peer fails the test; on a developer machine the test skips and says why, loudly.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";

/** Returns undefined when the peer is usable, otherwise why it is not. */
export type PeerCheck = () => string | undefined | Promise<string | undefined>;

/** Debian's interpreter: the one that sees the apt-installed python3-* packages. */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** A test peer is missing on a machine where CI requires every peer. */
export class MissingPeerError extends Error {
  readonly peer: string;

  constructor(peer: string, reason: string) {
    super(`required test peer "${peer}" is unavailable: ${reason} (CI=true makes every peer mandatory)`);
    this.name = "MissingPeerError";
    this.peer = peer;
  }
}

/** True when the environment demands every peer (CI=true). */
export function peersAreMandatory(): boolean {
  return process.env.CI === "true";
}

/**
 * Resolves to true when the peer is usable. Otherwise throws MissingPeerError under CI=true,
 * or skips the test with the reason (also printed to stderr) and resolves to false.
 */
export async function requirePeer(t: TestContext, name: string, check: PeerCheck): Promise<boolean> {
  const reason = await check();
  if (reason === undefined) return true;
  if (peersAreMandatory()) throw new MissingPeerError(name, reason);
  const message = `test peer "${name}" is unavailable: ${reason}`;
  process.stderr.write(`\n*** SKIPPING ${t.fullName}: ${message}\n`);
  t.skip(message);
  return false;
}

/** Checks that a command runs and exits 0 with the given arguments (e.g. ["-V"]). */
export function commandRuns(command: string, args: readonly string[] = ["--version"]): PeerCheck {
  return () => {
    const run = spawnSync(command, args, { stdio: "ignore", timeout: 10_000 });
    if (run.error) return `${command} cannot run (${run.error.message})`;
    if (run.status !== 0)
      return `${command} ${args.join(" ")} exited with ${String(run.status ?? run.signal)}`;
    return undefined;
  };
}

/** Checks that Debian's python3 can import a module (e.g. "confluent_kafka", "kafka"). */
export function pythonModule(module: string, python = SYSTEM_PYTHON): PeerCheck {
  return () => {
    if (!existsSync(python)) return `${python} is not installed`;
    const run = spawnSync(python, ["-c", `import ${module}`], { encoding: "utf8", timeout: 10_000 });
    if (run.error) return `${python} cannot run (${run.error.message})`;
    if (run.status !== 0) {
      const hint = module === "kafka" ? "python3-kafka" : `python3-${module.replaceAll("_", "-")}`;
      return `${python} cannot import ${module} (apt-get install ${hint}): ${run.stderr.trim().split("\n").pop() ?? ""}`;
    }
    return undefined;
  };
}

/** kcat, the librdkafka command-line client. */
export const kcat: PeerCheck = commandRuns("kcat", ["-V"]);
