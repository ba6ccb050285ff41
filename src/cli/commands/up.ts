// `ferry up FILE`: runs the clusters and links a topology file declares, serves the control
// plane, reconciles when the file changes, and stops everything on SIGTERM/SIGINT.
import { parseCommandLine } from "../command-line.ts";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseTopology, TopologyError } from "../../control/topology.ts";
import { watchTopology } from "../../control/topology-watch.ts";
import type { LogLevel } from "../../util/logger.ts";
import type { Command } from "../command.ts";
import { describeRunning, LOG_LEVELS, startControlSession } from "../control-session.ts";

const USAGE = `Usage: ferry up FILE [options]

Starts every cluster and link declared in the topology file (ferry.yaml), serves the REST
API, /metrics and the dashboard, and applies changes to the file as they are saved: new or
removed links and clusters, changed filters (without restarting the link). SIGTERM or
Ctrl-C stops everything cleanly.

Options:
  --port N            control plane port (default: control.port in the file, else 7070)
  --host H            control plane interface (default: control.host, else 127.0.0.1);
                      anything but loopback needs a token
  --api-token-file F  bearer token for the API and dashboard (default $FERRY_API_TOKEN);
                      open the dashboard as http://HOST:PORT/#token=TOKEN
  --no-watch          do not reconcile on file changes
  --log-level LEVEL   debug, info, warn or error (default info)

Exit codes: 0 stopped cleanly, 1 could not start, 2 bad usage or invalid topology file.
`;

export const upCommand: Command = {
  async run(args) {
    const parsed = parseCommandLine("up", USAGE, {
      args,
      allowPositionals: true,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "api-token-file": { type: "string" },
        "no-watch": { type: "boolean" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (typeof parsed === "number") return parsed;
    const v = parsed.values;
    const file = parsed.positionals[0];
    if (file === undefined || parsed.positionals.length > 1) {
      process.stderr.write(`ferry up: expected one topology file\n\n${USAGE}`);
      return 2;
    }
    const level = v["log-level"] ?? "info";
    if (!LOG_LEVELS.includes(level)) {
      process.stderr.write(`ferry up: --log-level: unknown level '${level}'\n`);
      return 2;
    }
    if (v.port !== undefined && !/^\d+$/.test(v.port)) {
      process.stderr.write(`ferry up: --port: expected a port number, got '${v.port}'\n`);
      return 2;
    }
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      process.stderr.write(`ferry up: ${file}: ${(e as Error).message}\n`);
      return 2;
    }
    let topology;
    try {
      topology = parseTopology(text, file, dirname(resolve(file)));
    } catch (e) {
      if (!(e instanceof TopologyError)) throw e;
      process.stderr.write(`ferry up: invalid topology file:\n${e.message}\n`);
      return 2;
    }
    let token: string | undefined;
    if (v["api-token-file"] !== undefined) {
      try {
        token = (await readFile(v["api-token-file"], "utf8")).trim();
      } catch (e) {
        process.stderr.write(
          `ferry up: --api-token-file: ${(e as NodeJS.ErrnoException).code ?? "unreadable"}\n`,
        );
        return 2;
      }
    }
    let session;
    try {
      session = await startControlSession({
        ...(token === undefined ? {} : { token }),
        topology,
        logLevel: level as LogLevel,
        host: v.host ?? topology.control.host,
        port: v.port === undefined ? topology.control.port : Number(v.port),
      });
    } catch (e) {
      process.stderr.write(`ferry up: ${(e as Error).message}\n`);
      return 1;
    }
    const { cp, api, logger } = session;
    const watcher =
      v["no-watch"] === true
        ? undefined
        : watchTopology(file, text, {
            onChange: (next) => {
              logger.info("topology file changed; reconciling", { file });
              cp.lastError = undefined;
              cp.apply(next).then(
                (outcome) =>
                  logger.info("topology applied", {
                    started: outcome.plan.startLinks.join(",") || undefined,
                    stopped: outcome.plan.stopLinks.join(",") || undefined,
                    refiltered: outcome.plan.refilterLinks.join(",") || undefined,
                  }),
                (e: unknown) => logger.error("reconcile failed", { error: (e as Error).message }),
              );
            },
            onInvalid: (error) => {
              cp.lastError = { at: new Date().toISOString(), message: error.message };
              logger.error("topology file invalid; keeping the running topology", { error: error.message });
            },
          });
    process.stdout.write(
      [`ferry up: control plane at ${api.url} (dashboard ${api.url}/)`, ...describeRunning(cp), ""].join(
        "\n",
      ),
    );
    const signal = await session.signalled;
    logger.info("shutting down", { signal });
    watcher?.close();
    await session.stop();
    logger.info("stopped");
    return 0;
  },
};
