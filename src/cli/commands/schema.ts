// `ferry schema`: prints the topology file's JSON Schema (for editors' autocompletion) or
// validates files against it.
import { loadTopology, TopologyError } from "../../control/topology.ts";
import { topologyJsonSchema } from "../../control/topology-schema.ts";
import type { Command } from "../command.ts";

const USAGE = `Usage: ferry schema [--check FILE...]

Prints the JSON Schema of the topology file (ferry.yaml). Point your editor at it, e.g.
  ./bin/ferry schema > ferry.schema.json
and start ferry.yaml with
  # yaml-language-server: $schema=./ferry.schema.json

  --check FILE...   validate topology files instead; exit 0 when all are valid, 2 otherwise
`;

export const schemaCommand: Command = {
  async run(args) {
    if (args[0] === "--help" || args[0] === "-h") {
      process.stdout.write(USAGE);
      return 0;
    }
    if (args.length === 0) {
      process.stdout.write(JSON.stringify(topologyJsonSchema(), null, 2) + "\n");
      return 0;
    }
    if (args[0] !== "--check" || args.length < 2) {
      process.stderr.write(`ferry schema: unexpected arguments\n\n${USAGE}`);
      return 2;
    }
    let ok = true;
    for (const file of args.slice(1)) {
      try {
        const t = await loadTopology(file);
        process.stdout.write(
          `${file}: valid (${Object.keys(t.clusters).length} clusters, ${Object.keys(t.links).length} links)\n`,
        );
      } catch (e) {
        if (!(e instanceof TopologyError)) throw e;
        process.stderr.write(e.message + "\n");
        ok = false;
      }
    }
    return ok ? 0 : 2;
  },
};
