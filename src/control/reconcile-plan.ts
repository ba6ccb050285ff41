// What changes between two topologies: which clusters and links to start, stop or restart,
// and which links only need new filters (applied live, without a restart).
import type { ClusterSpec, LinkSpec, Topology } from "./topology-schema.ts";

export interface ReconcilePlan {
  stopLinks: string[];
  stopClusters: string[];
  startClusters: string[];
  startLinks: string[];
  /** Links whose only change is topics/exclude/groups. */
  refilterLinks: string[];
  /** Links whose only change is `paused`. */
  repauseLinks: string[];
  unchangedLinks: string[];
}

const FILTER_FIELDS = ["topics", "exclude", "groups"] as const;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function withoutLive(
  spec: LinkSpec,
): Omit<LinkSpec, "topics" | "exclude" | "groups" | "paused" | "maxRpoMs" | "policies"> {
  const { topics, exclude, groups, paused, maxRpoMs, policies, ...rest } = spec;
  void [topics, exclude, groups, paused, maxRpoMs, policies];
  return rest;
}

/** The steps that take a running `from` topology (undefined: nothing runs) to `to`. */
export function planReconcile(from: Topology | undefined, to: Topology): ReconcilePlan {
  const plan: ReconcilePlan = {
    stopLinks: [],
    stopClusters: [],
    startClusters: [],
    startLinks: [],
    refilterLinks: [],
    repauseLinks: [],
    unchangedLinks: [],
  };
  const oldClusters: Record<string, ClusterSpec> = from?.clusters ?? {};
  const oldLinks: Record<string, LinkSpec> = from?.links ?? {};
  const restartedClusters = new Set<string>();
  for (const [name, spec] of Object.entries(oldClusters)) {
    const next = to.clusters[name];
    if (next === undefined) plan.stopClusters.push(name);
    else if (!same(spec, next)) {
      plan.stopClusters.push(name);
      plan.startClusters.push(name);
      restartedClusters.add(name);
    }
  }
  for (const name of Object.keys(to.clusters))
    if (oldClusters[name] === undefined) plan.startClusters.push(name);
  for (const [name, spec] of Object.entries(oldLinks)) {
    const next = to.links[name];
    if (next === undefined) {
      plan.stopLinks.push(name);
      continue;
    }
    const clusterMoved = restartedClusters.has(next.source) || restartedClusters.has(next.target);
    if (clusterMoved || !same(withoutLive(spec), withoutLive(next))) {
      plan.stopLinks.push(name);
      plan.startLinks.push(name);
      continue;
    }
    const filtersChanged = FILTER_FIELDS.some((f) => spec[f] !== next[f]);
    if (filtersChanged) plan.refilterLinks.push(name);
    if (spec.paused !== next.paused) plan.repauseLinks.push(name);
    if (!filtersChanged && spec.paused === next.paused) plan.unchangedLinks.push(name);
  }
  for (const name of Object.keys(to.links)) if (oldLinks[name] === undefined) plan.startLinks.push(name);
  return plan;
}
