// `ferry failback LINK`: after a failover, once the old primary is back: keeps the records it
// has that never reached the current primary in a side topic, makes its topics mirrors of the
// current primary, and runs the reverse link (in the foreground, or in `ferry up` via --api).
import { parseCommandLine } from "../command-line.ts";
import { failback, type FailbackReport } from "../../control/failback.ts";
import { LinkStateError } from "../../control/failover-state.ts";
import { Link } from "../../link/link.ts";
import { createLogger } from "../../util/logger.ts";
import { ApiError, apiBase, apiRequest, EXIT, exitCodeOf, table } from "../api-client.ts";
import type { Command } from "../command.ts";

const USAGE = `Usage: ferry failback LINK [--old-primary SERVERS --current SERVERS] [options]

For a link that was failed over: finds per partition where the old primary (the link's
source) and the current primary (its target) diverged, writes the records only the old
primary has to the side topic ferry-diverged.LINK.TOPIC on the current primary (headers
ferry.diverged.cluster and ferry.diverged.offset name where each came from), makes the old
primary's topics mirrors of the current primary, and starts the reverse link LINK.reverse.
Switch back later, planned, with \`ferry failover LINK.reverse\`.

Options:
  --old-primary SERVERS  the old primary; without it the running control plane is asked (--api)
  --current SERVERS      the current primary (the link's target)
  --no-run               prepare only; print the reverse link's command instead of running it
  --json                 print the report as JSON
  --api URL              the control plane (default $FERRY_API, else http://127.0.0.1:7070)
`;

function formatFailback(r: FailbackReport): string {
  let out = `failback of ${r.link}: ${r.divergedRecords} diverged records ${r.divergedKept ? "kept" : "NOT all kept"}\n`;
  out += table(
    ["TOPIC", "PART", "DIVERGED AT", "OLD END", "KEPT", "SIDE TOPIC"],
    r.partitions.map((p) => [
      p.topic,
      String(p.partition),
      String(p.divergencePoint),
      String(p.oldEnd),
      String(p.keptRecords),
      p.sideTopic ?? "-",
    ]),
  );
  if (r.recreatedTopics.length > 0)
    out += `recreated as mirrors (copied back in full): ${r.recreatedTopics.join(", ")}\n`;
  if (r.remirroredTopics.length > 0)
    out += `mirrors again, resuming at the divergence point: ${r.remirroredTopics.join(", ")}\n`;
  return out;
}

export const failbackCommand: Command = {
  async run(args) {
    const parsed = parseCommandLine("failback", USAGE, {
      args,
      allowPositionals: true,
      options: {
        "old-primary": { type: "string" },
        current: { type: "string" },
        "no-run": { type: "boolean" },
        json: { type: "boolean" },
        api: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (typeof parsed === "number") return parsed;
    const v = parsed.values;
    const [link] = parsed.positionals;
    if (link === undefined || parsed.positionals.length !== 1) {
      process.stderr.write(`ferry failback: expected LINK\n\n${USAGE}`);
      return EXIT.USAGE;
    }
    const old = v["old-primary"];
    if ((old === undefined) !== (v.current === undefined)) {
      process.stderr.write("ferry failback: --old-primary and --current go together\n");
      return EXIT.USAGE;
    }
    let report: FailbackReport;
    try {
      report =
        old === undefined || v.current === undefined
          ? await apiRequest<FailbackReport>(
              apiBase(v.api),
              `/api/links/${encodeURIComponent(link)}/failback`,
              "POST",
            )
          : await failback({ link, oldPrimary: old, current: v.current });
    } catch (e) {
      process.stderr.write(`ferry failback: ${(e as Error).message}\n`);
      if (e instanceof ApiError) return e.status === 409 ? 6 : exitCodeOf(e);
      return e instanceof LinkStateError ? 6 : EXIT.UNHEALTHY;
    }
    process.stdout.write(v.json === true ? JSON.stringify(report, null, 2) + "\n" : formatFailback(report));
    if (old === undefined) return EXIT.OK;
    const rl = report.reverseLink;
    if (v["no-run"] === true) {
      process.stdout.write(
        `run: ferry link --name ${rl.name} --source ${rl.source} --target ${rl.target} --topics '${rl.topics}' --groups '.*'\n`,
      );
      return EXIT.OK;
    }
    const logger = createLogger({ level: "info" });
    const reverse = await Link.start({
      name: rl.name,
      source: rl.source,
      target: rl.target,
      filters: { topics: rl.topics, groups: ".*" },
      logger,
    });
    process.stdout.write(
      `reverse link ${rl.name} running (${rl.source} -> ${rl.target}); SIGTERM stops it\n`,
    );
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", () => resolve());
      process.once("SIGINT", () => resolve());
    });
    await reverse.stop();
    return EXIT.OK;
  },
};
