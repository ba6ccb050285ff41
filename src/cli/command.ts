// The shape of a CLI command module.

export interface Command {
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}
