// `ferry lag LINK`: per-topic and per-partition lag and RPO of one link; exit 1 when the link
// is unhealthy (down, in error, or over its RPO limit).
import type { LinkDetail } from "../../control/views.ts";
import { apiRequest, EXIT, table } from "../api-client.ts";
import { formatDuration } from "../progress-display.ts";
import { READ_OPTIONS_HELP, readCommand } from "../read-command.ts";

const USAGE = `Usage: ferry lag LINK [--json] [--api URL]

Shows, for each partition the link copies, the source end offset, what is copied, the lag
(records) and the RPO (age of the oldest record not yet on the target).

${READ_OPTIONS_HELP}`;

export const lagCommand = readCommand({
  name: "lag",
  usage: USAGE,
  positionals: ["LINK"],
  async run(ctx) {
    const name = ctx.args[0] ?? "";
    const link = await apiRequest<LinkDetail>(ctx.api, `/api/links/${encodeURIComponent(name)}`);
    const healthy = link.health === "ok" || link.health === "paused";
    if (ctx.json) {
      ctx.out(JSON.stringify(link, null, 2) + "\n");
      return healthy ? EXIT.OK : EXIT.UNHEALTHY;
    }
    ctx.out(
      `${link.name}: ${link.source} -> ${link.target}, ${link.state}, ${link.health}` +
        `, lag ${link.lag}, RPO ${formatDuration(link.rpoMs)}\n`,
    );
    for (const r of link.reasons) if (link.health !== "paused") ctx.out(`  ${r}\n`);
    const rows: string[][] = [];
    for (const t of link.status?.topics ?? []) {
      for (const p of t.partitions) {
        rows.push([
          t.source,
          t.target,
          String(p.partition),
          String(p.sourceEnd),
          String(p.copiedOffset),
          String(p.lag),
          formatDuration(p.rpoMs),
          p.state,
        ]);
      }
    }
    if (rows.length > 0) {
      ctx.out("\n");
      ctx.out(table(["TOPIC", "TARGET TOPIC", "PART", "SOURCE END", "COPIED", "LAG", "RPO", "STATE"], rows));
    }
    return healthy ? EXIT.OK : EXIT.UNHEALTHY;
  },
});
