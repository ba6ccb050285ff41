// Health of links and clusters, as the API, the CLI's exit codes and the dashboard's colours
// see it. "ok" and "paused" are healthy; everything else is not.
import type { LinkStatus } from "../link/link-status.ts";
import type { ClusterRuntime } from "./cluster-runtime.ts";
import type { LinkRuntime } from "./link-runtime.ts";

export type LinkHealth = "ok" | "paused" | "lagging" | "error" | "starting" | "down";
export type ClusterHealth = "ok" | "starting" | "down";

export interface HealthVerdict<H> {
  health: H;
  /** Why it is not ok (empty when ok). */
  reasons: string[];
}

export function isHealthy(health: LinkHealth | ClusterHealth): boolean {
  return health === "ok" || health === "paused";
}

export function clusterHealth(c: ClusterRuntime): HealthVerdict<ClusterHealth> {
  if (c.state === "up") return { health: "ok", reasons: [] };
  if (c.state === "starting") return { health: "starting", reasons: ["starting"] };
  return { health: "down", reasons: [c.error ?? "unreachable"] };
}

export function linkHealth(l: LinkRuntime, status: LinkStatus | undefined): HealthVerdict<LinkHealth> {
  if (status === undefined) {
    if (l.state === "down") return { health: "down", reasons: [l.error ?? "cannot start"] };
    return { health: "starting", reasons: ["starting"] };
  }
  const reasons: string[] = [];
  for (const t of status.topics) {
    for (const p of t.partitions) {
      if (p.state === "error") reasons.push(`${t.source}/${p.partition}: ${p.error ?? "error"}`);
    }
  }
  for (const f of status.failedTopics) reasons.push(`${f.topic}: ${f.error}`);
  if (reasons.length > 0) return { health: "error", reasons };
  if (status.state === "paused") return { health: "paused", reasons: [l.outage ? "outage" : "paused"] };
  if (status.totals.rpoMs > l.spec.maxRpoMs)
    reasons.push(`RPO ${status.totals.rpoMs} ms exceeds maxRpoMs ${l.spec.maxRpoMs}`);
  for (const policy of l.spec.policies) {
    if (policy.maxRpoMs === undefined) continue;
    const re = new RegExp(`^(?:${policy.topics})$`);
    for (const t of status.topics) {
      if (!re.test(t.source)) continue;
      const rpo = Math.max(0, ...t.partitions.map((p) => p.rpoMs));
      if (rpo > policy.maxRpoMs)
        reasons.push(`${t.source}: RPO ${rpo} ms exceeds policy maxRpoMs ${policy.maxRpoMs}`);
    }
  }
  if (reasons.length > 0) return { health: "lagging", reasons };
  return { health: "ok", reasons: [] };
}
