// GET /metrics: every link's metrics (from the link engine) plus the control plane's own view of
// clusters, links and embedded brokers, in Prometheus text exposition format 0.0.4.
import type { Link } from "../link/link.ts";
import { linkMetricsText } from "../link/link-status.ts";
import type { ControlPlane } from "./control-plane.ts";
import { statusView } from "./views.ts";

function labels(pairs: Record<string, string | number>): string {
  const body = Object.entries(pairs)
    .map(([k, v]) => `${k}="${String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
  return `{${body}}`;
}

interface Family {
  name: string;
  type: "gauge" | "counter";
  help: string;
  lines: string[];
}

/** The whole /metrics answer. */
export function controlPlaneMetricsText(cp: ControlPlane): string {
  const view = statusView(cp);
  const fam = (name: string, type: Family["type"], help: string): Family => ({ name, type, help, lines: [] });
  const up = fam("ferry_cluster_up", "gauge", "1 while the cluster is reachable (embedded: running).");
  const linkHealthy = fam("ferry_link_healthy", "gauge", "1 while the link is healthy (ok or paused).");
  const linkRunning = fam("ferry_link_running", "gauge", "1 once the link has started.");
  const ready = fam("ferry_control_ready", "gauge", "1 when every declared cluster and link runs.");
  const partitions = fam("ferry_broker_partitions", "gauge", "Partitions on an embedded broker.");
  const endOffset = fam(
    "ferry_broker_log_end_offset",
    "gauge",
    "Log end offset of a partition on an embedded broker.",
  );
  const size = fam(
    "ferry_broker_log_size_bytes",
    "gauge",
    "Bytes on disk of a partition's log on an embedded broker.",
  );
  for (const c of view.clusters) {
    up.lines.push(
      `ferry_cluster_up${labels({ cluster: c.name, type: c.type })} ${c.health === "ok" ? 1 : 0}`,
    );
  }
  for (const l of view.links) {
    linkHealthy.lines.push(
      `ferry_link_healthy${labels({ link: l.name })} ${l.health === "ok" || l.health === "paused" ? 1 : 0}`,
    );
    linkRunning.lines.push(
      `ferry_link_running${labels({ link: l.name })} ${l.state === "running" || l.state === "paused" ? 1 : 0}`,
    );
  }
  ready.lines.push(`ferry_control_ready ${view.ready ? 1 : 0}`);
  for (const c of cp.clusters.values()) {
    const broker = c.broker;
    if (broker === undefined) continue;
    let count = 0;
    for (const t of broker.context.topics.topics()) {
      for (const p of broker.context.topics.partitionsOf(t.name)) {
        count++;
        const l = labels({ cluster: c.name, topic: t.name, partition: p.index });
        endOffset.lines.push(`ferry_broker_log_end_offset${l} ${p.log.logEndOffset}`);
        size.lines.push(`ferry_broker_log_size_bytes${l} ${p.log.sizeInBytes}`);
      }
    }
    partitions.lines.push(`ferry_broker_partitions${labels({ cluster: c.name })} ${count}`);
  }
  const own = [up, ready, linkRunning, linkHealthy, partitions, endOffset, size]
    .map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.lines].join("\n"))
    .join("\n");
  const links: Link[] = [];
  for (const l of cp.links.values()) if (l.link !== undefined) links.push(l.link);
  return own + "\n" + linkMetricsText(links);
}
