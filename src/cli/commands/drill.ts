// `ferry drill SCENARIO`: runs a DR drill on embedded clusters (brokers as child processes), or
// on the clusters of a topology file's link, and prints its measurements: RPO, RTO, duplicates,
// skipped records, diverged records kept.
import { parseCommandLine } from "../command-line.ts";
import { DRILL_SCENARIOS, runDrill, type DrillReport, type DrillScenario } from "../../control/drill.ts";
import { DrillRefusedError, topologyClusters } from "../../control/drill-clusters.ts";
import { loadTopology, TopologyError } from "../../control/topology.ts";
import { EXIT, table } from "../api-client.ts";
import type { Command } from "../command.ts";

const USAGE = `Usage: ferry drill dr|switchover|failback [--topology FILE --link NAME] [options]

Starts two Ferry brokers (child processes) with a mirror link, runs sequence-numbered
acks=all load and a consumer group on the primary, then:
  switchover  a planned switch: applications stop, the link drains, failover, they move to DR
  dr          kill -9 of the primary mid-load, forced failover, applications move to DR
  failback    dr, then the old primary restarts, failback, and a planned switch back
and accounts for every record by its sequence number.

With --topology and --link the drill runs on that link's clusters instead, with the link's
prefix, mode and intervals (under the name LINK.drill, on a topic ferry-drill.* of its own,
all removed afterwards). Embedded clusters are started by the drill as child processes on
their data directories and ports (refused while another process, e.g. \`ferry up\`, holds a
data directory), and stopped at the end. An external primary cannot be killed by the drill:
dr and failback need --kill-command, failback also --restart-command; switchover kills nothing.

Options:
  --json                 print the report as JSON (stable fields: rpoRecords, rpoMs, rtoMs,
                         duplicates, skipped, divergedKept)
  --load-ms N            how long the load runs before the switch (default 1500)
  --topology FILE        a topology file (ferry.yaml)
  --link NAME            the link of FILE to drill: its source is the primary, its target DR
  --kill-command CMD     kills the external primary (run with /bin/sh -c), e.g.
                         'ssh kafka1 sudo systemctl kill -s KILL kafka'
  --restart-command CMD  starts it again and returns (failback; with dr, used to clean up)

Exit codes: 0 done, 1 the drill failed, 2 bad usage or invalid file, 6 refused (nothing was
started or changed).
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
  let out = `drill ${r.scenario} on ${r.setup}\n` + table(["MEASURE", "VALUE"], rows);
  for (const left of r.leftOver) out += `left on the cluster (remove it by hand): ${left}\n`;
  return out;
}

export const drillCommand: Command = {
  async run(args) {
    const parsed = parseCommandLine("drill", USAGE, {
      args,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        "load-ms": { type: "string" },
        topology: { type: "string" },
        link: { type: "string" },
        "kill-command": { type: "string" },
        "restart-command": { type: "string" },
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
    const v = parsed.values;
    if ((v.topology === undefined) !== (v.link === undefined)) {
      process.stderr.write("ferry drill: --topology and --link go together\n");
      return EXIT.USAGE;
    }
    if (v.topology === undefined && (v["kill-command"] !== undefined || v["restart-command"] !== undefined)) {
      process.stderr.write("ferry drill: --kill-command and --restart-command need --topology and --link\n");
      return EXIT.USAGE;
    }
    let report: DrillReport;
    try {
      const file = v.topology;
      const link = v.link;
      const topology = file === undefined ? undefined : await loadTopology(file);
      report = await runDrill({
        scenario: scenario as DrillScenario,
        loadMs,
        ...(topology === undefined || file === undefined || link === undefined
          ? {}
          : {
              clusters: () =>
                topologyClusters({
                  topology,
                  file,
                  link,
                  scenario: scenario as DrillScenario,
                  ...(v["kill-command"] === undefined ? {} : { killCommand: v["kill-command"] }),
                  ...(v["restart-command"] === undefined ? {} : { restartCommand: v["restart-command"] }),
                }),
            }),
      });
    } catch (e) {
      process.stderr.write(`ferry drill: ${(e as Error).message}\n`);
      if (e instanceof TopologyError) return EXIT.USAGE;
      return e instanceof DrillRefusedError ? EXIT.REFUSED : EXIT.UNHEALTHY;
    }
    if (parsed.values.json === true) {
      const { failover, failback, ...figures } = report;
      process.stdout.write(JSON.stringify({ ...figures, failover, failback }, null, 2) + "\n");
    } else {
      process.stdout.write(formatDrill(report));
    }
    return EXIT.OK;
  },
};
