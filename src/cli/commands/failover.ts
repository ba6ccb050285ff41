// `ferry failover LINK`: makes a link's target the primary, directly against the clusters
// (--target, and --source when it is reachable) or through a running `ferry up` (--api).
import { parseCommandLine } from "../command-line.ts";
import { failover, FailoverTimeoutError, type FailoverReport } from "../../control/failover.ts";
import { LinkStateError } from "../../control/failover-state.ts";
import { TopicFilter } from "../../link/topic-filter.ts";
import { ApiError, apiBase, apiRequest, EXIT, exitCodeOf, table } from "../api-client.ts";
import { formatDuration } from "../progress-display.ts";
import type { Command } from "../command.ts";

const USAGE = `Usage: ferry failover LINK [--target SERVERS [--source SERVERS]] [options]

Stops the link, makes its target writable (promotes mirror topics), sets every synced
group's committed offsets on the target to the exact translation of the source's, and
reports per partition what was replicated and, when the source answers, what was not (the
RPO). Without --force it first waits for lag 0 (stop the source's producers first: a
planned switchover then loses nothing).

Options:
  --target SERVERS   the link's target; without it the running control plane is asked (--api)
  --source SERVERS   the link's source (omit, or unreachable: disaster failover)
  --topics REGEX     only these source topics
  --groups REGEX     groups to translate (default: those the target has offsets for;
                     through the control plane: the link's groups filter)
  --force            do not wait for lag 0
  --timeout SECONDS  how long to wait for lag 0 (default 60)
  --json             print the report as JSON
  --api URL          the control plane (default $FERRY_API, else http://127.0.0.1:7070)

A standalone \`ferry link\` process must be stopped by its owner (SIGTERM) before failover;
mirror topics refuse its writes once promoted.
Exit codes: 0 done, 1 failed, 2 bad usage, 3 control plane unreachable, 4 no such link,
5 lag did not reach 0 in time (nothing changed), 6 the link's state forbids it (nothing changed).
`;

/** Prints a failover report as tables. */
export function formatFailover(r: FailoverReport): string {
  const lines = [
    `failover of ${r.link}: ${r.targetClusterId} is now the primary (was ${r.sourceClusterId})`,
    `source ${r.sourceReachable ? "reachable" : "unreachable"}${r.forced ? ", forced" : ""}, waited ${formatDuration(r.waitedMs)}, took ${formatDuration(r.durationMs)}`,
    `RPO: ${r.rpoRecords === null ? "unknown (source unreachable)" : `${r.rpoRecords} records, ${formatDuration(r.rpoMs ?? 0)}`}`,
    `promoted: ${r.promotedTopics.length === 0 ? "none" : r.promotedTopics.join(", ")}`,
    "",
  ];
  const rows = r.partitions.map((p) => [
    p.sourceTopic,
    String(p.partition),
    p.mode,
    String(p.lastReplicatedOffset),
    p.sourceEnd === null ? "?" : String(p.sourceEnd),
    p.notReplicated === null ? "?" : String(p.notReplicated),
    p.notReplicatedAgeMs === null ? "?" : formatDuration(p.notReplicatedAgeMs),
  ]);
  let out = lines.join("\n") + "\n";
  out += table(["TOPIC", "PART", "MODE", "LAST REPLICATED", "SOURCE END", "NOT REPLICATED", "AGE"], rows);
  for (const g of r.groups) {
    out += `\ngroup ${g.group} (${g.from === "source" ? "translated from the source" : "last sync stands"})${g.skipped === undefined ? "" : `: ${g.skipped}`}\n`;
    if (g.partitions.length > 0) {
      out += table(
        ["TOPIC", "PART", "SOURCE OFFSET", "BEFORE", "AFTER"],
        g.partitions.map((p) => [
          p.topic,
          String(p.partition),
          p.sourceOffset === null ? "-" : String(p.sourceOffset),
          String(p.before),
          String(p.after),
        ]),
      );
    }
  }
  return out;
}

export const failoverCommand: Command = {
  async run(args) {
    const parsed = parseCommandLine("failover", USAGE, {
      args,
      allowPositionals: true,
      options: {
        target: { type: "string" },
        source: { type: "string" },
        topics: { type: "string" },
        groups: { type: "string" },
        force: { type: "boolean" },
        timeout: { type: "string" },
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
      process.stderr.write(`ferry failover: expected LINK\n\n${USAGE}`);
      return EXIT.USAGE;
    }
    const timeout = v.timeout === undefined ? 60 : Number(v.timeout);
    if (!(timeout >= 0)) {
      process.stderr.write(`ferry failover: --timeout: expected seconds, got '${v.timeout ?? ""}'\n`);
      return EXIT.USAGE;
    }
    let topics: RegExp | undefined;
    let groups: TopicFilter | undefined;
    try {
      topics = v.topics === undefined ? undefined : new RegExp(`^(?:${v.topics})$`);
      groups = v.groups === undefined ? undefined : new TopicFilter({ groups: v.groups });
    } catch (e) {
      process.stderr.write(`ferry failover: ${(e as Error).message}\n`);
      return EXIT.USAGE;
    }
    let report: FailoverReport;
    try {
      if (v.target === undefined) {
        const q = new URLSearchParams();
        if (v.force === true) q.set("force", "true");
        if (v.topics !== undefined) q.set("topics", v.topics);
        if (v.groups !== undefined) q.set("groups", v.groups);
        q.set("timeoutMs", String(timeout * 1000));
        report = await apiRequest<FailoverReport>(
          apiBase(v.api),
          `/api/links/${encodeURIComponent(link)}/failover?${q.toString()}`,
          "POST",
          timeout * 1000 + 60_000,
        );
      } else {
        report = await failover({
          link,
          target: v.target,
          ...(v.source === undefined ? {} : { source: v.source }),
          ...(topics === undefined ? {} : { topics }),
          ...(groups === undefined ? {} : { groups: (g: string) => groups.matchesGroup(g) }),
          force: v.force === true,
          waitTimeoutMs: timeout * 1000,
        });
      }
    } catch (e) {
      process.stderr.write(`ferry failover: ${(e as Error).message}\n`);
      if (e instanceof ApiError)
        return e.status === 504 ? EXIT.TIMED_OUT : e.status === 409 ? EXIT.REFUSED : exitCodeOf(e);
      if (e instanceof FailoverTimeoutError) return EXIT.TIMED_OUT;
      if (e instanceof LinkStateError) return EXIT.REFUSED;
      return EXIT.UNHEALTHY;
    }
    process.stdout.write(v.json === true ? JSON.stringify(report, null, 2) + "\n" : formatFailover(report));
    return EXIT.OK;
  },
};
