// Parsing a command's arguments the same way everywhere: a bad option prints the message and
// the usage to stderr (exit 2), --help prints the usage to stdout (exit 0).
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Exit code for a command line that cannot be parsed. */
export const USAGE_EXIT = 2;

/** The parsed arguments, or the exit code when the command should stop (bad options, --help). */
export function parseCommandLine<T extends ParseArgsConfig>(
  command: string,
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (e) {
    process.stderr.write(`ferry ${command}: ${(e as Error).message}\n\n${usage}`);
    return USAGE_EXIT;
  }
  if ((parsed.values as { help?: unknown }).help === true) {
    process.stdout.write(usage);
    return 0;
  }
  return parsed;
}
