// The topology `ferry demo` runs, modeled on the edge-aggregation and DR seed architectures:
// two ships (edge brokers) aggregate into a core cluster under prefixes, and the core is
// mirrored to a DR cluster.
import { join, resolve } from "node:path";
import type { LinkSpec, Topology } from "./topology-schema.ts";

export const DEMO_EDGES = ["edge1", "edge2"] as const;

/** The demo topology; brokers listen on port+1..port+4 (all on free ports when port is 0). */
export function demoTopology(dataDir: string, port: number): Topology {
  const dir = resolve(dataDir);
  const brokerPort = (i: number): number => (port === 0 ? 0 : port + i);
  const link = (source: string, target: string, extra: Partial<LinkSpec>): LinkSpec => ({
    source,
    target,
    topics: ".*",
    exclude: "",
    groups: "",
    prefix: "",
    mode: "auto",
    intervals: { topicsMs: 1_000, groupsMs: 5_000, configsMs: 30_000, checkpointMs: 1_000 },
    maxRpoMs: 120_000,
    paused: false,
    policies: [],
    ...extra,
  });
  const embedded = (name: string, i: number, region: string, site: string): Topology["clusters"][string] => ({
    type: "embedded",
    dataDir: join(dir, name),
    host: "127.0.0.1",
    port: brokerPort(i),
    settings: {},
    region,
    site,
  });
  const edgePolicies: LinkSpec["policies"] = [
    // The edges' uplinks drop out now and then; payments must still be ashore within minutes.
    { topics: "payments", priority: "critical", maxRpoMs: 60_000, sync: "async" },
    { topics: "telemetry", priority: "bulk", sync: "async" },
  ];
  return {
    version: 1,
    control: { host: "127.0.0.1", port },
    clusters: {
      edge1: embedded("edge1", 1, "north-atlantic", "ship Aurora"),
      edge2: embedded("edge2", 2, "baltic", "ship Borealis"),
      core: embedded("core", 3, "eu-west", "core data center"),
      dr: embedded("dr", 4, "eu-central", "DR data center"),
    },
    links: {
      "edge1-to-core": link("edge1", "core", {
        topics: "payments|telemetry",
        prefix: "edge1.",
        policies: edgePolicies,
      }),
      "edge2-to-core": link("edge2", "core", {
        topics: "payments|telemetry",
        prefix: "edge2.",
        policies: edgePolicies,
      }),
      "core-to-dr": link("core", "dr", {
        maxRpoMs: 30_000,
        policies: [{ topics: ".*payments", priority: "critical", maxRpoMs: 10_000, sync: "async" }],
      }),
    },
  };
}
