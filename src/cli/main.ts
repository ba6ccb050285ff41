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
  link: {
    summary: "replicate topics, offsets and configs from one cluster to another",
    load: async () => (await import("./commands/link.ts")).linkCommand,
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
