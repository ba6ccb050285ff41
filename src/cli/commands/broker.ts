// `ferry broker`: runs the embedded broker in the foreground until SIGTERM/SIGINT.
import { parseCommandLine } from "../command-line.ts";
import { startBroker } from "../../broker/broker.ts";
import { ConfigError, readBrokerConfigFile, type SettingValue } from "../../broker/config/broker-config.ts";
import { createLogger } from "../../util/logger.ts";
import type { Command } from "../command.ts";

const USAGE = `Usage: ferry broker --data-dir DIR [options]

Runs Ferry's embedded single-node Kafka broker in the foreground.

Options:
  --data-dir DIR         where logs, topics and group state are kept (required)
  --port N               port to listen on (default 9092; 0 picks a free port)
  --host H               interface to listen on (default 127.0.0.1)
  --advertised-host H    host name clients are told to connect to (default: --host)
  --node-id N            broker id (default 1)
  --cluster-id ID        cluster id for a new data directory (must match an existing one)
  --config FILE          YAML file of broker settings with Kafka's names, e.g.
                           log.segment.bytes: 104857600
                           auto.create.topics.enable: false
  --set NAME=VALUE       one broker setting (repeatable; wins over --config)
  --log-level LEVEL      debug, info, warn or error (default info)
`;

export const brokerCommand: Command = {
  async run(args) {
    const parsed = parseCommandLine("broker", USAGE, {
      args,
      options: {
        "data-dir": { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        "advertised-host": { type: "string" },
        "node-id": { type: "string" },
        "cluster-id": { type: "string" },
        config: { type: "string" },
        set: { type: "string", multiple: true },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (typeof parsed === "number") return parsed;
    const v = parsed.values;
    try {
      const file = v.config !== undefined ? await readBrokerConfigFile(v.config) : { kafka: {}, process: {} };
      const settings: Record<string, SettingValue> = {};
      for (const [name, s] of Object.entries(file.kafka)) settings[name] = s.value;
      for (const kv of v.set ?? []) {
        const eq = kv.indexOf("=");
        if (eq <= 0) throw new ConfigError("--set", `expected NAME=VALUE, got '${kv}'`);
        settings[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const pick = (flag: string | undefined, name: keyof typeof file.process): string | undefined =>
        flag ?? file.process[name]?.value;
      const dataDir = pick(v["data-dir"], "data.dir");
      if (dataDir === undefined) throw new ConfigError("--data-dir", "a data directory is required");
      const int = (text: string | undefined, where: string): number | undefined => {
        if (text === undefined) return undefined;
        if (!/^\d+$/.test(text))
          throw new ConfigError(where, `expected a non-negative integer, got '${text}'`);
        return Number(text);
      };
      const level = v["log-level"] ?? "info";
      if (!["debug", "info", "warn", "error"].includes(level))
        throw new ConfigError("--log-level", `unknown level '${level}'`);
      const logger = createLogger({ level: level as "info" });
      const nodeIdText = v["node-id"] ?? file.kafka["node.id"]?.value;
      const port = int(pick(v.port, "port"), "--port");
      const nodeId = int(nodeIdText, "--node-id");
      const host = pick(v.host, "host");
      const advertisedHost = pick(v["advertised-host"], "advertised.host");
      const clusterId = pick(v["cluster-id"], "cluster.id");
      const broker = await startBroker({
        dataDir,
        settings,
        logger,
        ...(port !== undefined ? { port } : {}),
        ...(nodeId !== undefined ? { nodeId } : {}),
        ...(host !== undefined ? { host } : {}),
        ...(advertisedHost !== undefined ? { advertisedHost } : {}),
        ...(clusterId !== undefined ? { clusterId } : {}),
      });
      // Handlers go in before the ready line: a supervisor may signal as soon as it reads it.
      const stopped = new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          logger.info("shutting down", { signal });
          resolve();
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      });
      process.stdout.write(`ferry broker listening on ${broker.host}:${broker.port} (${broker.clusterId})\n`);
      await stopped;
      await broker.close();
      logger.info("stopped");
      return 0;
    } catch (e) {
      process.stderr.write(`ferry broker: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  },
};
