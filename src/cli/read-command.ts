// The shape every read command shares: --api, --json, --help, positional arguments, and
// turning API failures into the documented exit codes.
import { parseCommandLine } from "./command-line.ts";
import type { Command } from "./command.ts";
import { ApiError, apiBase, EXIT, exitCodeOf } from "./api-client.ts";

export interface ReadContext {
  api: string;
  json: boolean;
  args: string[];
  out: (text: string) => void;
}

export interface ReadCommandSpec {
  name: string;
  usage: string;
  /** Names of required positional arguments. */
  positionals: readonly string[];
  /** Prints the answer; returns the exit code. */
  run(ctx: ReadContext): Promise<number>;
}

export function readCommand(spec: ReadCommandSpec): Command {
  return {
    async run(args) {
      const parsed = parseCommandLine(spec.name, spec.usage, {
        args,
        allowPositionals: true,
        options: {
          api: { type: "string" },
          json: { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
        strict: true,
      });
      if (typeof parsed === "number") return parsed;
      if (parsed.positionals.length !== spec.positionals.length) {
        const expected = spec.positionals.length === 0 ? "no arguments" : spec.positionals.join(" ");
        process.stderr.write(`ferry ${spec.name}: expected ${expected}\n\n${spec.usage}`);
        return EXIT.USAGE;
      }
      try {
        return await spec.run({
          api: apiBase(parsed.values.api),
          json: parsed.values.json === true,
          args: parsed.positionals,
          out: (text) => void process.stdout.write(text),
        });
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        process.stderr.write(`ferry ${spec.name}: ${e.message}\n`);
        return exitCodeOf(e);
      }
    },
  };
}

export const READ_OPTIONS_HELP = `Options:
  --json       print the API's JSON answer
  --api URL    the control plane (default $FERRY_API, else http://127.0.0.1:7070)

Exit codes: 0 healthy, 1 unhealthy, 2 bad usage, 3 control plane unreachable, 4 not found.
`;
