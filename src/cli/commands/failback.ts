// `ferry failback LINK`: after a failover, once the old primary is back: keeps the records it
// has that never reached the current primary in a side topic, makes its topics mirrors of the
// current primary, and runs the reverse link (in the foreground, or in `ferry up` via --api).
import { parseCommandLine } from "../command-line.ts";
import { failback, type FailbackReport, type ReverseLinkSpec } from "../../control/failback.ts";
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
primary the target of the reverse link LINK.reverse (mirror topics again, or, where the old
primary is not a Ferry broker or the link translated, a translated copy appended after the
old primary's end, with the link's offset map inverted) and starts it; a prefixed link's
reverse strips the prefix again. Switch back later, planned, with \`ferry failover LINK.reverse\`.

Options:
  --old-primary SERVERS  the old primary; without it the running control plane is asked (--api)
  --current SERVERS      the current primary (the link's target)
  --no-run               prepare only; print the reverse link's command instead of running it
  --json                 print the report as JSON
  --api URL              the control plane (default $FERRY_API, else http://127.0.0.1:7070)

Exit codes: 0 done, 1 failed, 2 bad usage, 3 control plane unreachable, 4 no such link,
6 the link's state forbids it (it was not failed over, or the switch back is done).
`;

function formatFailback(r: FailbackReport): string {
  let out = r.resumed
    ? `failback of ${r.link} was prepared at ${new Date(r.preparedAt).toISOString()}; nothing changed now, its reverse link runs again\n`
    : "";
  out += `failback of ${r.link}: ${r.divergedRecords} diverged records ${r.divergedKept ? "kept" : "NOT all kept"}\n`;
  out += table(
    ["TOPIC", "PART", "MODE", "DIVERGED AT", "OLD END", "KEPT", "UNCOMMITTED", "SIDE TOPIC", "BACK FROM"],
    r.partitions.map((p) => [
      p.topic,
      String(p.partition),
      p.reverseMode,
      String(p.divergencePoint),
      String(p.oldEnd),
      String(p.keptRecords),
      // Reports stored before the field existed have none.
      String(p.uncommittedRecords ?? 0),
      p.sideTopic ?? "-",
      `${p.currentTopic}@${p.currentFrom}`,
    ]),
  );
  if (r.recreatedTopics.length > 0)
    out += `recreated as mirrors (copied back in full): ${r.recreatedTopics.join(", ")}\n`;
  if (r.remirroredTopics.length > 0)
    out += `mirrors again, resuming at the divergence point: ${r.remirroredTopics.join(", ")}\n`;
  if (r.translatedTopics.length > 0)
    out += `copied back by translation after the old primary's end (its diverged records stay there too): ${r.translatedTopics.join(", ")}\n`;
  return out;
}

/** The `ferry link` command line that runs a failback's reverse link. */
function reverseCommand(rl: ReverseLinkSpec): string {
  const naming = [
    ...(rl.prefix === "" ? [] : [`--prefix ${rl.prefix}`]),
    ...(rl.stripPrefix === "" ? [] : [`--strip-prefix ${rl.stripPrefix}`]),
  ].join(" ");
  return (
    `ferry link --name ${rl.name} --source ${rl.source} --target ${rl.target} --topics '${rl.topics}' ` +
    `--groups '.*' --mode ${rl.mode}${naming === "" ? "" : ` ${naming}`}`
  );
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
              600_000,
            )
          : await failback({ link, oldPrimary: old, current: v.current });
    } catch (e) {
      process.stderr.write(`ferry failback: ${(e as Error).message}\n`);
      if (e instanceof ApiError) return e.status === 409 ? EXIT.REFUSED : exitCodeOf(e);
      return e instanceof LinkStateError ? EXIT.REFUSED : EXIT.UNHEALTHY;
    }
    process.stdout.write(v.json === true ? JSON.stringify(report, null, 2) + "\n" : formatFailback(report));
    if (old === undefined) return EXIT.OK;
    const rl = report.reverseLink;
    if (v["no-run"] === true) {
      process.stdout.write(`run: ${reverseCommand(rl)}\n`);
      return EXIT.OK;
    }
    const logger = createLogger({ level: "info" });
    const reverse = await Link.start({
      name: rl.name,
      source: rl.source,
      target: rl.target,
      filters: { topics: rl.topics, groups: ".*" },
      prefix: rl.prefix,
      stripPrefix: rl.stripPrefix,
      mode: rl.mode,
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
