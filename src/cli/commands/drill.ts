// `ferry drill SCENARIO`: runs a DR drill on embedded clusters (brokers as child processes)
// and prints its measurements: RPO, RTO, duplicates, skipped records, diverged records kept.
import { parseCommandLine } from "../command-line.ts";
import { DRILL_SCENARIOS, runDrill, type DrillReport, type DrillScenario } from "../../control/drill.ts";
import { EXIT, table } from "../api-client.ts";
import type { Command } from "../command.ts";

const USAGE = `Usage: ferry drill dr|switchover|failback [--json] [--load-ms N]

Starts two Ferry brokers (child processes) with a mirror link, runs sequence-numbered
acks=all load and a consumer group on the primary, then:
  switchover  a planned switch: applications stop, the link drains, failover, they move to DR
  dr          kill -9 of the primary mid-load, forced failover, applications move to DR
  failback    dr, then the old primary restarts, failback, and a planned switch back
and accounts for every record by its sequence number.

Options:
  --json       print the report as JSON (stable fields: rpoRecords, rpoMs, rtoMs,
               duplicates, skipped, divergedKept)
  --load-ms N  how long the load runs before the switch (default 1500)
`;

function formatDrill(r: DrillReport): string {
  const rows: [string, string][] = [
    ["records acknowledged", String(r.acknowledged)],
    ["RPO (records lost)", String(r.rpoRecords)],
    ["RPO (ms)", String(r.rpoMs)],
    ["RTO (ms)", `${r.rtoMs} (produce ${r.rtoProduceMs}, consume ${r.rtoConsumeMs})`],
    ["failover took (ms)", String(r.failoverMs)],
    ["consumed twice", String(r.duplicates)],
    ["skipped", String(r.skipped)],
    ["stored twice", String(r.logDuplicates)],
  ];
  if (r.unreplicatedAtKill !== null) rows.push(["not copied at the kill", String(r.unreplicatedAtKill)]);
  if (r.groupSyncWindow !== null)
    rows.push(["group offsets not synced at the kill", String(r.groupSyncWindow)]);
  if (r.divergedRecords !== null) rows.push(["diverged records", String(r.divergedRecords)]);
  if (r.divergedKept !== null) rows.push(["diverged records kept", r.divergedKept ? "yes" : "NO"]);
  return `drill ${r.scenario}\n` + table(["MEASURE", "VALUE"], rows);
}

export const drillCommand: Command = {
  async run(args) {
    const parsed = parseCommandLine("drill", USAGE, {
      args,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        "load-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (typeof parsed === "number") return parsed;
    const [scenario] = parsed.positionals;
    if (scenario === undefined || !(DRILL_SCENARIOS as readonly string[]).includes(scenario)) {
      process.stderr.write(`ferry drill: expected one of ${DRILL_SCENARIOS.join(", ")}\n\n${USAGE}`);
      return EXIT.USAGE;
    }
    const loadMs = parsed.values["load-ms"] === undefined ? 1_500 : Number(parsed.values["load-ms"]);
    if (!(loadMs > 0)) {
      process.stderr.write("ferry drill: --load-ms: expected a positive number\n");
      return EXIT.USAGE;
    }
    const report = await runDrill({ scenario: scenario as DrillScenario, loadMs });
    if (parsed.values.json === true) {
      const { failover, failback, ...figures } = report;
      process.stdout.write(JSON.stringify({ ...figures, failover, failback }, null, 2) + "\n");
    } else {
      process.stdout.write(formatDrill(report));
    }
    return EXIT.OK;
  },
};
