// What the failover, failback and migration routes need to know about a link of the running
// control plane: its spec (from the file, the running links, or, for a failed-over reverse
// link, the file's forward link turned round), its two clusters as they run, and which of its
// source topics it copies.
import type { ClusterRuntime } from "./cluster-runtime.ts";
import { isReverseLinkName, reverseLinkName } from "./failback.ts";
import type { ControlPlane } from "./control-plane.ts";
import type { TopicSelector } from "./failover-state.ts";
import type { LinkSpec } from "./topology-schema.ts";
import { TopicFilter } from "../link/topic-filter.ts";

/** A link's spec; undefined when the control plane knows no link of that name. */
export function linkSpecOf(cp: ControlPlane, name: string): LinkSpec | undefined {
  const known = cp.topology?.links[name] ?? cp.links.get(name)?.spec;
  if (known !== undefined || !isReverseLinkName(name)) return known;
  // A reverse link stops running when it is failed over; its forward link is still in the file.
  const forward = cp.topology?.links[reverseLinkName(name)];
  return forward === undefined ? undefined : { ...forward, source: forward.target, target: forward.source };
}

/** The running cluster, or a message saying it does not run. */
export function runningCluster(cp: ControlPlane, name: string): ClusterRuntime | string {
  return cp.clusters.get(name) ?? `cluster '${name}' is not running`;
}

/** The source topics the spec's filters select (a failover or cutover touches no other link's topics). */
export function topicsOf(spec: LinkSpec): TopicSelector {
  const filter = new TopicFilter({ topics: spec.topics, exclude: spec.exclude });
  return { test: (topic) => filter.matchesTopic(topic) };
}

/** The `topics` query parameter as a whole-name regex; throws SyntaxError when it is not one. */
export function topicsParam(text: string | undefined): TopicSelector | undefined {
  return text === undefined ? undefined : new RegExp(`^(?:${text})$`);
}

/** The groups a route acts on: `?groups=` if given, else the link's groups filter (`all` when it has none). */
export function groupsOf(
  spec: LinkSpec,
  param: string | undefined,
  whenNone: "none" | "all",
): ((group: string) => boolean) | undefined {
  const pattern = param ?? spec.groups;
  if (pattern === "" && whenNone === "all") return undefined;
  const filter = new TopicFilter({ groups: pattern });
  return (g) => filter.matchesGroup(g);
}
