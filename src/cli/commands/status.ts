// `ferry status`: health of every cluster and link of a running control plane; exit 1 when
// anything is unhealthy, so cron and scripts can use it.
import type { StatusView } from "../../control/views.ts";
import { apiRequest, EXIT, table } from "../api-client.ts";
import { formatCount, formatDuration } from "../progress-display.ts";
import { READ_OPTIONS_HELP, readCommand } from "../read-command.ts";

const USAGE = `Usage: ferry status [--json] [--api URL]

Shows every cluster and link of the running topology with its health.

${READ_OPTIONS_HELP}`;

export const statusCommand = readCommand({
  name: "status",
  usage: USAGE,
  positionals: [],
  async run(ctx) {
    const view = await apiRequest<StatusView>(ctx.api, "/api/status");
    if (ctx.json) ctx.out(JSON.stringify(view, null, 2) + "\n");
    else {
      ctx.out(`${view.healthy ? "healthy" : "UNHEALTHY"}${view.ready ? "" : " (not ready)"}\n\n`);
      ctx.out(
        table(
          ["CLUSTER", "TYPE", "BOOTSTRAP", "HEALTH", "SITE"],
          view.clusters.map((c) => [
            c.name,
            c.type,
            c.bootstrap,
            c.health + (c.health === "ok" ? "" : `: ${c.reasons.join("; ")}`),
            [c.region, c.site].filter((x) => x !== null).join("/"),
          ]),
        ),
      );
      if (view.links.length > 0) {
        ctx.out("\n");
        ctx.out(
          table(
            ["LINK", "ROUTE", "HEALTH", "LAG", "RPO", "RATE"],
            view.links.map((l) => [
              l.name,
              `${l.source} -> ${l.target}`,
              l.health + (l.reasons.length === 0 || l.health === "paused" ? "" : `: ${l.reasons.join("; ")}`),
              formatCount(l.lag),
              formatDuration(l.rpoMs),
              `${formatCount(l.recordsPerSec)}/s`,
            ]),
          ),
        );
      }
      if (view.lastError !== null)
        ctx.out(`\nlast error (${view.lastError.at}): ${view.lastError.message}\n`);
    }
    return view.healthy ? EXIT.OK : EXIT.UNHEALTHY;
  },
});
