// Ferry's CLI entry: parses the command line and dispatches to a command module.
import { readFileSync } from "node:fs";
import type { Command } from "./command.ts";

interface CommandEntry {
  summary: string;
  /** Loaded on use, so one command does not pay for every other command's modules. */
  load: () => Promise<Command>;
}

const commands: Record<string, CommandEntry> = {
  broker: {
    summary: "run the embedded Kafka-compatible broker",
    load: async () => (await import("./commands/broker.ts")).brokerCommand,
  },
  users: {
    summary: "add, delete and list SCRAM users of a broker (admin APIs)",
    load: async () => (await import("./commands/users.ts")).usersCommand,
  },
  link: {
    summary: "replicate topics, offsets and configs from one cluster to another",
    load: async () => (await import("./commands/link.ts")).linkCommand,
  },
  up: {
    summary: "run the clusters and links of a topology file, with the API and dashboard",
    load: async () => (await import("./commands/up.ts")).upCommand,
  },
  demo: {
    summary: "run a demo: two edge sites into a core, mirrored to DR, with a live dashboard",
    load: async () => (await import("./commands/demo.ts")).demoCommand,
  },
  status: {
    summary: "health of every cluster and link of a running `ferry up` (exit 1 when unhealthy)",
    load: async () => (await import("./commands/status.ts")).statusCommand,
  },
  links: {
    summary: "list the links with their state, lag and RPO",
    load: async () => (await import("./commands/links.ts")).linksCommand,
  },
  lag: {
    summary: "per-topic and per-partition lag and RPO of one link",
    load: async () => (await import("./commands/lag.ts")).lagCommand,
  },
  topics: {
    summary: "topics of one cluster with their partitions and offsets",
    load: async () => (await import("./commands/topics.ts")).topicsCommand,
  },
  produce: {
    summary: "write lines from stdin as records to a topic of any cluster",
    load: async () => (await import("./commands/produce.ts")).produceCommand,
  },
  consume: {
    summary: "print records of a topic of any cluster",
    load: async () => (await import("./commands/consume.ts")).consumeCommand,
  },
  failover: {
    summary: "make a link's target the primary: promote, translate group offsets, report the RPO",
    load: async () => (await import("./commands/failover.ts")).failoverCommand,
  },
  failback: {
    summary: "after a failover: keep diverged records, reverse the link so the old primary catches up",
    load: async () => (await import("./commands/failback.ts")).failbackCommand,
  },
  migrate: {
    summary: "planned move between clusters: readiness plan, progress, zero-loss cutover",
    load: async () => (await import("./commands/migrate.ts")).migrateCommand,
  },
  drill: {
    summary: "run a DR drill (dr, switchover, failback) on embedded clusters and measure RPO/RTO",
    load: async () => (await import("./commands/drill.ts")).drillCommand,
  },
  schema: {
    summary: "print the topology file's JSON Schema, or check files against it",
    load: async () => (await import("./commands/schema.ts")).schemaCommand,
  },
};

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function usage(): string {
  const lines = [
    "Usage: ferry <command> [options]",
    "",
    "Ferry links Kafka clusters: offset-exact replication, failover, DR drills, and an embedded broker.",
    "",
    "Commands:",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`),
    "",
    "Options:",
    "  --help, -h     show this help",
    "  --version, -v  print Ferry's version",
  ];
  return lines.join("\n");
}

/** Runs the CLI with the given arguments and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(usage() + "\n");
    return first === undefined ? 2 : 0;
  }
  if (first === "--version" || first === "-v") {
    process.stdout.write(`ferry ${packageVersion()}\n`);
    return 0;
  }
  const command = commands[first];
  if (command === undefined) {
    process.stderr.write(`ferry: unknown command '${first}'\n\n${usage()}\n`);
    return 2;
  }
  return (await command.load()).run(rest);
}

process.exitCode = await main(process.argv.slice(2));
