// `ferry migrate plan|status|cutover LINK --source S --target T`: a planned move between
// clusters over a running link: readiness, progress, and a zero-loss cutover.
import { parseCommandLine } from "../command-line.ts";
import { cutover, migrationPlan, type MigrationPlan } from "../../control/migrate.ts";
import { TopicFilter } from "../../link/topic-filter.ts";
import { EXIT, table } from "../api-client.ts";
import type { Command } from "../command.ts";
import { formatFailover } from "./failover.ts";

const USAGE = `Usage: ferry migrate plan|status|cutover LINK --source SERVERS --target SERVERS [options]

  plan     readiness: lag, groups synced, copied configs equal, consumers stopped on the source
           (exit 0 ready, 1 not ready)
  status   per-partition progress of the copy
  cutover  refuses while consumers still read the source (unless --force), waits for lag 0,
           stops nothing else: stop the \`ferry link\` process after it; promotes and translates
           group offsets exactly (see ferry failover)

Options:
  --groups REGEX     groups that move (default every group with offsets on the link's topics)
  --force            cutover even though consumers still read the source
  --timeout SECONDS  cutover: how long to wait for lag 0 (default 60)
  --json             print JSON
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
      v.source === undefined ||
      v.target === undefined
    ) {
      process.stderr.write(`ferry migrate: expected plan|status|cutover LINK --source --target\n\n${USAGE}`);
      return EXIT.USAGE;
    }
    let groups: TopicFilter | undefined;
    try {
      groups = v.groups === undefined ? undefined : new TopicFilter({ groups: v.groups });
    } catch (e) {
      process.stderr.write(`ferry migrate: ${(e as Error).message}\n`);
      return EXIT.USAGE;
    }
    const options = {
      link,
      source: v.source,
      target: v.target,
      ...(groups === undefined ? {} : { groups: (g: string) => groups.matchesGroup(g) }),
    };
    const out = (text: string): void => void process.stdout.write(text);
    try {
      if (action === "cutover") {
        const r = await cutover({
          ...options,
          force: v.force === true,
          waitTimeoutMs: Number(v.timeout ?? 60) * 1000,
        });
        out(v.json === true ? JSON.stringify(r, null, 2) + "\n" : formatFailover(r.failover));
        return EXIT.OK;
      }
      const plan = await migrationPlan(options);
      if (v.json === true) out(JSON.stringify(plan, null, 2) + "\n");
      else if (action === "plan") out(formatPlan(plan));
      else {
        const total = plan.partitions.reduce((n, p) => n + p.sourceEnd, 0);
        out(`${plan.link}: ${bar(total - plan.lag, total)}, lag ${plan.lag}\n`);
        out(
          table(
            ["TOPIC", "PART", "COPIED", "SOURCE END", "PROGRESS"],
            plan.partitions.map((p) => [
              p.topic,
              String(p.partition),
              String(p.replicated),
              String(p.sourceEnd),
              bar(p.replicated, p.sourceEnd),
            ]),
          ),
        );
      }
      return action === "plan" && !plan.ready ? EXIT.UNHEALTHY : EXIT.OK;
    } catch (e) {
      process.stderr.write(`ferry migrate: ${(e as Error).message}\n`);
      return EXIT.UNHEALTHY;
    }
  },
};
