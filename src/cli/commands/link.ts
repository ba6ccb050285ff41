// `ferry link`: runs one replication link in the foreground until SIGTERM/SIGINT.
import { parseCommandLine } from "../command-line.ts";
import type { ClusterOptions } from "../../client/cluster.ts";
import { clusterOptionsFromConfigFile, SecurityConfigError } from "../../client/security-config.ts";
import { serveLinkHttp } from "../../link/link-http.ts";
import { isLoopback, MIN_TOKEN_LENGTH } from "../../util/bearer-token.ts";
import { Link, LinkConfigError } from "../../link/link.ts";
import type { ModeChoice } from "../../link/topic-sync.ts";
import { FilterError } from "../../link/topic-filter.ts";
import { createLogger, type LogLevel } from "../../util/logger.ts";
import type { Command } from "../command.ts";

const USAGE = `Usage: ferry link --name NAME --source HOST:PORT[,..] --target HOST:PORT[,..] [options]

Copies topics, consumer group offsets and topic configs from the source cluster to the
target cluster until stopped. Into a Ferry broker it writes byte-identical mirror topics
(same offsets); into any other Kafka it translates offsets exactly through an offset map
kept on the target.

Options:
  --name NAME            the link's name (its state on the target is kept under it)
  --source SERVERS       source bootstrap servers
  --target SERVERS       target bootstrap servers
  --topics REGEX         topics to copy (whole-name match; default .*)
  --exclude REGEX        topics never to copy
  --groups REGEX         consumer groups whose offsets are synced (default none)
  --prefix STR           prefix for target topic names (default: same names)
  --strip-prefix STR     removed from source topic names first; others are not copied
                         (a failback's reverse link maps PREFIX+topic back to topic)
  --mode MODE            auto (default), mirror (Ferry targets only) or translate
  --source-config FILE   client settings for the source, Kafka property names:
                         security.protocol, ssl.ca.location, ssl.certificate.location,
                         ssl.key.location, ssl.key.password, sasl.mechanism, sasl.username,
                         sasl.password (secrets may be \${env:NAME} or \${file:PATH})
  --target-config FILE   the same for the target
  --sync-acls            copy ACLs of the link's topics and groups to the target (off by default)
  --acl-principals REGEX only ACLs of these principals (whole match, e.g. 'User:app-.*')
  --http PORT            serve GET /status, GET /metrics, GET|PUT /filters, POST /pause|/resume
  --http-host HOST       interface for --http (default 127.0.0.1; any other needs a bearer
                         token in FERRY_API_TOKEN, which requests must then send)
  --topics-interval-ms N how often source topics are listed (default 2000)
  --groups-interval-ms N how often group offsets are also polled (default 5000)
  --log-level LEVEL      debug, info, warn or error (default info)
`;

export const linkCommand: Command = {
  async run(args) {
    const parsed = parseCommandLine("link", USAGE, {
      args,
      options: {
        name: { type: "string" },
        source: { type: "string" },
        target: { type: "string" },
        topics: { type: "string" },
        exclude: { type: "string" },
        groups: { type: "string" },
        prefix: { type: "string" },
        "strip-prefix": { type: "string" },
        mode: { type: "string" },
        "source-config": { type: "string" },
        "target-config": { type: "string" },
        "sync-acls": { type: "boolean" },
        "acl-principals": { type: "string" },
        http: { type: "string" },
        "http-host": { type: "string" },
        "topics-interval-ms": { type: "string" },
        "groups-interval-ms": { type: "string" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (typeof parsed === "number") return parsed;
    const v = parsed.values;
    const fail = (field: string, message: string): number => {
      process.stderr.write(`ferry link: ${field}: ${message}\n`);
      return 2;
    };
    for (const required of ["name", "source", "target"] as const) {
      if (v[required] === undefined) return fail(`--${required}`, "is required");
    }
    const level = v["log-level"] ?? "info";
    if (!["debug", "info", "warn", "error"].includes(level))
      return fail("--log-level", `unknown level '${level}'`);
    const mode = v.mode ?? "auto";
    if (!["auto", "mirror", "translate"].includes(mode))
      return fail("--mode", `expected auto, mirror or translate, got '${mode}'`);
    const int = (flag: string, text: string | undefined): number | undefined | string => {
      if (text === undefined) return undefined;
      return /^\d+$/.test(text) ? Number(text) : `expected a non-negative integer, got '${text}'`;
    };
    const http = int("--http", v.http);
    if (typeof http === "string") return fail("--http", http);
    const topicsMs = int("--topics-interval-ms", v["topics-interval-ms"]);
    if (typeof topicsMs === "string") return fail("--topics-interval-ms", topicsMs);
    const groupsMs = int("--groups-interval-ms", v["groups-interval-ms"]);
    if (typeof groupsMs === "string") return fail("--groups-interval-ms", groupsMs);
    const clients: { sourceClient?: Partial<ClusterOptions>; targetClient?: Partial<ClusterOptions> } = {};
    for (const side of ["source", "target"] as const) {
      const file = v[`${side}-config`];
      if (file === undefined) continue;
      try {
        clients[`${side}Client`] = clusterOptionsFromConfigFile(file);
      } catch (e) {
        if (e instanceof SecurityConfigError) return fail(`--${side}-config ${file}`, e.message);
        throw e;
      }
    }
    const httpHost = v["http-host"] ?? "127.0.0.1";
    const token = process.env.FERRY_API_TOKEN === "" ? undefined : process.env.FERRY_API_TOKEN;
    if (http !== undefined && token === undefined && !isLoopback(httpHost)) {
      return fail(
        "--http-host",
        `serving beyond loopback (${httpHost}) needs a bearer token in FERRY_API_TOKEN`,
      );
    }
    if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
      return fail("FERRY_API_TOKEN", `a token must be at least ${MIN_TOKEN_LENGTH} characters`);
    }
    const logger = createLogger({ level: level as LogLevel });
    let link: Link;
    try {
      link = await Link.start({
        name: v.name as string,
        source: v.source as string,
        target: v.target as string,
        filters: {
          ...(v.topics === undefined ? {} : { topics: v.topics }),
          ...(v.exclude === undefined ? {} : { exclude: v.exclude }),
          ...(v.groups === undefined ? {} : { groups: v.groups }),
        },
        ...(v.prefix === undefined ? {} : { prefix: v.prefix }),
        ...(v["strip-prefix"] === undefined ? {} : { stripPrefix: v["strip-prefix"] }),
        mode: mode as ModeChoice,
        ...clients,
        ...(v["sync-acls"] === true
          ? {
              acls: {
                sync: true,
                ...(v["acl-principals"] === undefined ? {} : { principals: v["acl-principals"] }),
              },
            }
          : {}),
        tuning: {
          ...(topicsMs === undefined ? {} : { topicsIntervalMs: topicsMs }),
          ...(groupsMs === undefined ? {} : { groupsIntervalMs: groupsMs }),
        },
        logger,
      });
    } catch (e) {
      if (e instanceof FilterError) return fail(`--${e.field}`, e.message.slice(e.field.length + 2));
      if (e instanceof LinkConfigError) return fail(`--${e.field}`, e.message.slice(e.field.length + 2));
      process.stderr.write(`ferry link: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
    let server;
    try {
      server = http === undefined ? undefined : await serveLinkHttp(link, http, httpHost, token);
    } catch (e) {
      await link.stop();
      process.stderr.write(`ferry link: --http: cannot listen: ${(e as Error).message}\n`);
      return 1;
    }
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        logger.info("shutting down", { signal });
        resolve();
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
    const where = server === undefined ? "" : ` (http://${httpHost}:${server.port})`;
    process.stdout.write(
      `ferry link ${link.name} running: ${link.ctx.sourceClusterId} -> ${link.ctx.targetClusterId}${where}\n`,
    );
    await stopped;
    await server?.close();
    await link.stop();
    return 0;
  },
};
