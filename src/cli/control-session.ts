// What `ferry up` and `ferry demo` share: a logger that scrolls above the progress bars, the
// control plane applying a topology, its API and dashboard, and a clean stop on SIGTERM/SIGINT.
import { startApi, type ApiServer } from "../control/api.ts";
import { ControlPlane, type ApplyOutcome } from "../control/control-plane.ts";
import type { Topology } from "../control/topology-schema.ts";
import { createLogger, type Logger, type LogLevel } from "../util/logger.ts";
import { ProgressDisplay } from "./progress-display.ts";

export interface ControlSession {
  readonly cp: ControlPlane;
  readonly api: ApiServer;
  readonly logger: Logger;
  readonly display: ProgressDisplay;
  /** Resolves with the signal's name on SIGTERM or SIGINT. */
  readonly signalled: Promise<string>;
  /** What the first apply did (clusters that failed to start are in it). */
  readonly outcome: ApplyOutcome;
  stop(): Promise<void>;
}

export interface ControlSessionOptions {
  topology: Topology;
  logLevel: LogLevel;
  host: string;
  port: number;
  /** Bearer token for the API (needed to listen beyond loopback); default $FERRY_API_TOKEN. */
  token?: string;
}

export const LOG_LEVELS: readonly string[] = ["debug", "info", "warn", "error"];

/** Starts clusters, links and the API; throws (after stopping what started) when the API cannot listen. */
export async function startControlSession(options: ControlSessionOptions): Promise<ControlSession> {
  // Handlers go in first: a supervisor may signal as soon as the process runs.
  const signalled = new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  const display = new ProgressDisplay({
    write: (text) => void process.stderr.write(text),
    tty: process.stderr.isTTY,
  });
  const logger = createLogger({ level: options.logLevel, write: (line) => display.log(line) });
  const cp = new ControlPlane({ logger, onBacklog: (link, p) => display.update(link, p) });
  let api: ApiServer;
  try {
    const token = options.token ?? (process.env.FERRY_API_TOKEN || undefined);
    api = await startApi(cp, {
      host: options.host,
      port: options.port,
      ...(token === undefined ? {} : { token }),
    });
  } catch (e) {
    await cp.stop();
    throw new Error(
      `control plane cannot listen on ${options.host}:${options.port}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const outcome = await cp.apply(options.topology);
  return {
    outcome,
    cp,
    api,
    logger,
    display,
    signalled,
    stop: async () => {
      display.close();
      await api.close();
      await cp.stop();
    },
  };
}

/** Lines naming what runs, for the ready message. */
export function describeRunning(cp: ControlPlane): string[] {
  const lines: string[] = [];
  for (const c of cp.clusters.values()) {
    const where = c.broker === undefined ? "external" : `embedded, data in ${c.broker.dataDir}`;
    lines.push(`  cluster ${c.name.padEnd(12)} ${c.bootstrap.padEnd(22)} (${where})`);
  }
  for (const l of cp.links.values()) {
    const naming = l.spec.prefix === "" ? "same names" : `prefix ${l.spec.prefix}`;
    const state =
      l.link === undefined ? `not started: ${l.error ?? "starting"}` : l.link.paused ? "paused" : "running";
    lines.push(`  link    ${l.name.padEnd(12)} ${l.spec.source} -> ${l.spec.target} (${naming}, ${state})`);
  }
  return lines;
}
