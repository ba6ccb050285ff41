// `ferry links`: the links of a running control plane with state, lag and RPO; exit 1 when any
// link is unhealthy.
import type { LinkSummary } from "../../control/views.ts";
import { apiRequest, EXIT, table } from "../api-client.ts";
import { formatCount, formatDuration } from "../progress-display.ts";
import { READ_OPTIONS_HELP, readCommand } from "../read-command.ts";

const USAGE = `Usage: ferry links [--json] [--api URL]

Lists the links with their route, naming, state, health, lag, RPO and throughput.

${READ_OPTIONS_HELP}`;

export const linksCommand = readCommand({
  name: "links",
  usage: USAGE,
  positionals: [],
  async run(ctx) {
    const links = await apiRequest<LinkSummary[]>(ctx.api, "/api/links");
    if (ctx.json) ctx.out(JSON.stringify(links, null, 2) + "\n");
    else
      ctx.out(
        table(
          ["LINK", "SOURCE", "TARGET", "PREFIX", "MODE", "STATE", "HEALTH", "TOPICS", "LAG", "RPO", "RATE"],
          links.map((l) => [
            l.name,
            l.source,
            l.target,
            l.prefix === "" ? "-" : l.prefix,
            l.mode,
            l.state,
            l.health,
            String(l.topics),
            formatCount(l.lag),
            formatDuration(l.rpoMs),
            `${formatCount(l.recordsPerSec)}/s`,
          ]),
        ),
      );
    return links.every((l) => l.health === "ok" || l.health === "paused") ? EXIT.OK : EXIT.UNHEALTHY;
  },
});
