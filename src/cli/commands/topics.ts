// `ferry topics CLUSTER`: a cluster's topics with partitions and offsets, through the control
// plane; exit 1 when the cluster does not answer.
import type { ClusterView, TopicView } from "../../control/views.ts";
import { apiRequest, EXIT, table } from "../api-client.ts";
import { READ_OPTIONS_HELP, readCommand } from "../read-command.ts";

const USAGE = `Usage: ferry topics CLUSTER [--json] [--api URL]

Lists the topics of a cluster of the running topology, with each partition's leader and its
log start and end offsets.

${READ_OPTIONS_HELP}`;

export const topicsCommand = readCommand({
  name: "topics",
  usage: USAGE,
  positionals: ["CLUSTER"],
  async run(ctx) {
    const name = ctx.args[0] ?? "";
    const answer = await apiRequest<{ cluster: ClusterView; topics: TopicView[] }>(
      ctx.api,
      `/api/clusters/${encodeURIComponent(name)}/topics`,
    );
    if (ctx.json) ctx.out(JSON.stringify(answer, null, 2) + "\n");
    else {
      const rows = answer.topics.flatMap((t) =>
        t.partitions.map((p) => [
          t.name,
          String(p.partition),
          String(p.leader),
          String(p.logStart),
          String(p.logEnd),
        ]),
      );
      ctx.out(`${answer.cluster.name} (${answer.cluster.bootstrap}): ${answer.topics.length} topics\n\n`);
      ctx.out(table(["TOPIC", "PARTITION", "LEADER", "LOG START", "LOG END"], rows));
    }
    return answer.cluster.health === "ok" ? EXIT.OK : EXIT.UNHEALTHY;
  },
});
