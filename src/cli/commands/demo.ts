// `ferry demo` (what `npm start` runs): two edge sites aggregating into a core, mirrored to DR,
// with a synthetic workload, an intermittent edge uplink, the API and the dashboard.
import { parseCommandLine } from "../command-line.ts";
import { DEMO_EDGES, demoTopology } from "../../control/demo-topology.ts";
import { startWorkload } from "../../control/demo-workload.ts";
import type { LogLevel } from "../../util/logger.ts";
import type { Command } from "../command.ts";
import { LOG_LEVELS, startControlSession } from "../control-session.ts";

const USAGE = `Usage: ferry demo [--port N] [--data-dir DIR]

Runs a small multi-cluster estate on this machine: two ships (edge brokers) whose payments
and telemetry aggregate into a core cluster, and the core mirrored to a DR cluster, with a
live dashboard. Ctrl-C stops it; the data stays in the data directory for the next run.

Options:
  --port N            dashboard and API port (default 7070; brokers use N+1..N+4; 0 picks free ports)
  --data-dir DIR      where the four brokers keep their data (default .ferry/demo)
  --no-outages        keep edge2's uplink up (by default it drops 15 s of every 45 s)
  --log-level LEVEL   debug, info, warn or error (default warn)
`;

/** Edge2's uplink: down for OUTAGE_MS of every OUTAGE_EVERY_MS, first after OUTAGE_FIRST_MS. */
const OUTAGE_FIRST_MS = 20_000;
const OUTAGE_EVERY_MS = 45_000;
const OUTAGE_MS = 15_000;

export const demoCommand: Command = {
  async run(args) {
    const parsed = parseCommandLine("demo", USAGE, {
      args,
      options: {
        port: { type: "string" },
        "data-dir": { type: "string" },
        "no-outages": { type: "boolean" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (typeof parsed === "number") return parsed;
    const v = parsed.values;
    const portText = v.port ?? "7070";
    if (!/^\d+$/.test(portText) || Number(portText) > 65531) {
      process.stderr.write(`ferry demo: --port: expected a port number up to 65531, got '${portText}'\n`);
      return 2;
    }
    const level = v["log-level"] ?? "warn";
    if (!LOG_LEVELS.includes(level)) {
      process.stderr.write(`ferry demo: --log-level: unknown level '${level}'\n`);
      return 2;
    }
    const dataDir = v["data-dir"] ?? ".ferry/demo";
    const port = Number(portText);
    const topology = demoTopology(dataDir, port);
    let session;
    try {
      session = await startControlSession({ topology, logLevel: level as LogLevel, host: "127.0.0.1", port });
    } catch (e) {
      process.stderr.write(`ferry demo: ${(e as Error).message}\n`);
      return 1;
    }
    const { cp, api, logger } = session;
    if (session.outcome.failed.length > 0) {
      for (const f of session.outcome.failed)
        process.stderr.write(`ferry demo: cluster ${f.cluster}: ${f.error}\n`);
      await session.stop();
      return 1;
    }
    const bootstrapOf = (name: string): string => cp.clusters.get(name)?.bootstrap ?? "";
    let workload;
    try {
      workload = await startWorkload(
        DEMO_EDGES.map((name, i) => ({
          name,
          bootstrap: bootstrapOf(name),
          telemetryPerSec: i === 0 ? 500 : 300,
          paymentsPerSec: i === 0 ? 4 : 2,
        })),
        logger,
      );
    } catch (e) {
      process.stderr.write(`ferry demo: the workload cannot start: ${(e as Error).message}\n`);
      await session.stop();
      return 1;
    }
    const timers: NodeJS.Timeout[] = [];
    if (v["no-outages"] !== true) {
      const outage = (down: boolean): void => {
        cp.links.get("edge2-to-core")?.setOutage(down);
        logger.warn(down ? "edge2 uplink down (simulated outage)" : "edge2 uplink back; catching up");
      };
      timers.push(
        setTimeout(() => {
          const cycle = (): void => {
            outage(true);
            timers.push(setTimeout(() => outage(false), OUTAGE_MS));
          };
          cycle();
          timers.push(setInterval(cycle, OUTAGE_EVERY_MS));
        }, OUTAGE_FIRST_MS),
      );
    }
    const url = `${api.url}/`;
    process.stdout.write(
      [
        "",
        `Ferry demo running. Dashboard: ${url}`,
        "",
        wrap(
          `Two ships, edge1 (${bootstrapOf("edge1")}) and edge2 (${bootstrapOf("edge2")}), each run a ` +
            "single-node Ferry broker where a synthetic workload writes payments (a few a second, critical) " +
            "and telemetry (hundreds a second, bulk). The links edge1-to-core and edge2-to-core copy both " +
            `topics into the core cluster (${bootstrapOf("core")}) as edge1.* and edge2.*, with the same ` +
            "offsets as on the ship; core-to-dr mirrors everything in the core to the DR cluster " +
            `(${bootstrapOf("dr")}). ` +
            (v["no-outages"] === true
              ? ""
              : "Edge2's uplink drops for 15 s of every 45 s: watch its lag and RPO grow and the backlog drain. ") +
            `Data is kept in ${cp.clusters.get("edge1")?.broker?.dataDir.replace(/\/edge1$/, "") ?? dataDir}; ` +
            "try ./bin/ferry status, ./bin/ferry lag edge2-to-core, or ./bin/ferry consume core edge1.payments" +
            (port === 7070 ? "" : ` --api ${api.url}`) +
            ". Press Ctrl-C to stop.",
        ),
        "",
      ].join("\n"),
    );
    const signal = await session.signalled;
    process.stdout.write(`\nStopping the demo (${signal})...\n`);
    for (const t of timers) clearTimeout(t);
    await workload.stop();
    await session.stop();
    process.stdout.write("Stopped.\n");
    return 0;
  },
};

function wrap(text: string, width = 92): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line.length > 0 && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line.length === 0 ? word : `${line} ${word}`;
  }
  if (line.length > 0) lines.push(line);
  return lines.join("\n");
}
