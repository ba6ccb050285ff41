// `ferry migrate plan|status|cutover LINK --source S --target T`: a planned move between
// clusters over a running link: readiness, progress, and a zero-loss cutover.
import { parseCommandLine } from "../command-line.ts";
import { FailoverTimeoutError, type FailoverReport } from "../../control/failover.ts";
import { LinkStateError } from "../../control/failover-state.ts";
import {
  cutover,
  MigrationBlockedError,
  migrationPlan,
  type MigrationOptions,
  type MigrationPlan,
} from "../../control/migrate.ts";
import { TopicFilter } from "../../link/topic-filter.ts";
import { ApiError, apiBase, apiRequest, EXIT, exitCodeOf, table } from "../api-client.ts";
import type { Command } from "../command.ts";
import { formatFailover } from "./failover.ts";

interface CutoverResult {
  plan: MigrationPlan;
  failover: FailoverReport;
}

const USAGE = `Usage: ferry migrate plan|status|cutover LINK [--source SERVERS --target SERVERS] [options]

  plan     readiness: lag, groups synced, copied configs equal, consumers stopped on the source
           (exit 0 ready, 1 not ready)
  status   per-partition progress of the copy
  cutover  refuses while consumers still read the source (unless --force), waits for lag 0,
           promotes and translates group offsets exactly (see ferry failover); through the
           control plane it stops the link, else stop the \`ferry link\` process after it

Without --source and --target the running control plane is asked (GET
/api/links/LINK/migration, POST /api/links/LINK/cutover); its groups default to the link's
groups filter, or every group when the link has none.

Options:
  --groups REGEX     groups that move (default every group with offsets on the link's topics)
  --force            cutover even though consumers still read the source
  --timeout SECONDS  cutover: how long to wait for lag 0 (default 60)
  --json             print JSON
  --api URL          the control plane (default $FERRY_API, else http://127.0.0.1:7070)

Exit codes: 0 done (plan: ready), 1 not ready or failed, 2 bad usage, 3 control plane
unreachable, 4 no such link, 5 cutover: lag did not reach 0 in time, 6 cutover refused
(consumers still read the source, or the link's state forbids it); 5 and 6 change nothing.
`;

function bar(done: number, total: number): string {
  const f = total === 0 ? 1 : Math.min(1, done / total);
  const n = Math.round(f * 20);
  return `[${"#".repeat(n)}${".".repeat(20 - n)}] ${(f * 100).toFixed(1)}%`;
}

function formatPlan(p: MigrationPlan): string {
  let out = `migration over ${p.link}: ${p.ready ? "READY for cutover" : "not ready"}\n`;
  for (const b of p.blockers) out += `  - ${b}\n`;
  out += table(
    ["GROUP", "SOURCE STATE", "PARTITIONS", "IN SYNC"],
    p.groups.map((g) => [g.group, g.sourceState, String(g.partitions), String(g.inSync)]),
  );
  return out;
}

function formatStatus(plan: MigrationPlan): string {
  const total = plan.partitions.reduce((n, p) => n + p.sourceEnd, 0);
  return (
    `${plan.link}: ${bar(total - plan.lag, total)}, lag ${plan.lag}\n` +
    table(
      ["TOPIC", "PART", "COPIED", "SOURCE END", "PROGRESS"],
      plan.partitions.map((p) => [
        p.topic,
        String(p.partition),
        String(p.replicated),
        String(p.sourceEnd),
        bar(p.replicated, p.sourceEnd),
      ]),
    )
  );
}

function exitCodeOfError(e: unknown): number {
  if (e instanceof ApiError) {
    if (e.status === 504) return EXIT.TIMED_OUT;
    if (e.status === 409) return EXIT.REFUSED;
    return exitCodeOf(e);
  }
  if (e instanceof FailoverTimeoutError) return EXIT.TIMED_OUT;
  if (e instanceof MigrationBlockedError || e instanceof LinkStateError) return EXIT.REFUSED;
  return EXIT.UNHEALTHY;
}

export const migrateCommand: Command = {
  async run(args) {
    const parsed = parseCommandLine("migrate", USAGE, {
      args,
      allowPositionals: true,
      options: {
        source: { type: "string" },
        target: { type: "string" },
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
    const [action, link] = parsed.positionals;
    if (
      !["plan", "status", "cutover"].includes(action ?? "") ||
      link === undefined ||
      parsed.positionals.length !== 2 ||
      (v.source === undefined) !== (v.target === undefined)
    ) {
      process.stderr.write(
        `ferry migrate: expected plan|status|cutover LINK, and --source with --target (or neither)\n\n${USAGE}`,
      );
      return EXIT.USAGE;
    }
    const timeout = v.timeout === undefined ? 60 : Number(v.timeout);
    if (!(timeout >= 0)) {
      process.stderr.write(`ferry migrate: --timeout: expected seconds, got '${v.timeout ?? ""}'\n`);
      return EXIT.USAGE;
    }
    let groups: TopicFilter | undefined;
    try {
      groups = v.groups === undefined ? undefined : new TopicFilter({ groups: v.groups });
    } catch (e) {
      process.stderr.write(`ferry migrate: ${(e as Error).message}\n`);
      return EXIT.USAGE;
    }
    const out = (text: string): void => void process.stdout.write(text);
    try {
      if (action === "cutover") {
        let r: CutoverResult;
        if (v.source === undefined || v.target === undefined) {
          const q = new URLSearchParams({ timeoutMs: String(timeout * 1000) });
          if (v.force === true) q.set("force", "true");
          if (v.groups !== undefined) q.set("groups", v.groups);
          r = await apiRequest<CutoverResult>(
            apiBase(v.api),
            `/api/links/${encodeURIComponent(link)}/cutover?${q.toString()}`,
            "POST",
            timeout * 1000 + 60_000,
          );
        } else {
          r = await cutover({
            link,
            source: v.source,
            target: v.target,
            ...(groups === undefined ? {} : { groups: (g: string) => groups.matchesGroup(g) }),
            force: v.force === true,
            waitTimeoutMs: timeout * 1000,
          });
        }
        out(v.json === true ? JSON.stringify(r, null, 2) + "\n" : formatFailover(r.failover));
        return EXIT.OK;
      }
      let plan: MigrationPlan;
      if (v.source === undefined || v.target === undefined) {
        const q = v.groups === undefined ? "" : `?${new URLSearchParams({ groups: v.groups }).toString()}`;
        plan = await apiRequest<MigrationPlan>(
          apiBase(v.api),
          `/api/links/${encodeURIComponent(link)}/migration${q}`,
          "GET",
          60_000,
        );
      } else {
        const options: MigrationOptions = {
          link,
          source: v.source,
          target: v.target,
          ...(groups === undefined ? {} : { groups: (g: string) => groups.matchesGroup(g) }),
        };
        plan = await migrationPlan(options);
      }
      if (v.json === true) out(JSON.stringify(plan, null, 2) + "\n");
      else out(action === "plan" ? formatPlan(plan) : formatStatus(plan));
      return action === "plan" && !plan.ready ? EXIT.UNHEALTHY : EXIT.OK;
    } catch (e) {
      process.stderr.write(`ferry migrate: ${(e as Error).message}\n`);
      return exitCodeOfError(e);
    }
  },
};
