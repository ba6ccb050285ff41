// The JSON the REST API returns (and the CLI and dashboard read): clusters, link summaries and
// details with health, the overall status, and a cluster's topics with their offsets.
import { Admin } from "../client/admin.ts";
import { OffsetSpec } from "../client/offsets.ts";
import type { LinkStatus } from "../link/link-status.ts";
import type { BacklogProgress } from "./backlog.ts";
import type { ClusterRuntime } from "./cluster-runtime.ts";
import type { ControlPlane } from "./control-plane.ts";
import { clusterHealth, isHealthy, linkHealth, type ClusterHealth, type LinkHealth } from "./health.ts";
import type { LinkRuntime } from "./link-runtime.ts";

export interface ClusterView {
  name: string;
  type: "embedded" | "external";
  bootstrap: string;
  clusterId: string | null;
  region: string | null;
  site: string | null;
  dataDir: string | null;
  health: ClusterHealth;
  reasons: string[];
}

export interface LinkSummary {
  name: string;
  source: string;
  target: string;
  prefix: string;
  mode: string;
  filters: { topics: string; exclude: string; groups: string };
  state: "starting" | "running" | "paused" | "down";
  health: LinkHealth;
  reasons: string[];
  pausedBy: "user" | "outage" | null;
  topics: number;
  partitions: number;
  lag: number;
  rpoMs: number;
  records: number;
  bytes: number;
  /** Records a second over the last samples. */
  recordsPerSec: number;
  latencyMs: { p50: number; p99: number };
  uptimeMs: number;
  backlog: BacklogProgress | null;
  error: string | null;
}

export interface LinkDetail extends LinkSummary {
  status: LinkStatus | null;
}

export interface StatusView {
  healthy: boolean;
  ready: boolean;
  uptimeMs: number;
  appliedAt: string | null;
  lastError: { at: string; message: string } | null;
  clusters: ClusterView[];
  links: LinkSummary[];
}

export function clusterView(c: ClusterRuntime): ClusterView {
  const h = clusterHealth(c);
  return {
    name: c.name,
    type: c.spec.type,
    bootstrap: c.bootstrap,
    clusterId: c.clusterId ?? null,
    region: c.spec.region ?? null,
    site: c.spec.site ?? null,
    dataDir: c.spec.type === "embedded" ? c.spec.dataDir : null,
    health: h.health,
    reasons: h.reasons,
  };
}

function recentRate(l: LinkRuntime): number {
  const samples = l.history.since(Date.now() - 6_000);
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined || last.t === first.t) return 0;
  return ((last.records - first.records) * 1000) / (last.t - first.t);
}

export function linkDetail(l: LinkRuntime): LinkDetail {
  const status = l.status() ?? null;
  const h = linkHealth(l, status ?? undefined);
  const state =
    status === null
      ? l.state === "down"
        ? "down"
        : "starting"
      : status.state === "paused"
        ? "paused"
        : "running";
  return {
    name: l.name,
    source: l.spec.source,
    target: l.spec.target,
    prefix: l.spec.prefix,
    mode: status?.mode ?? l.spec.mode,
    filters: { topics: l.spec.topics, exclude: l.spec.exclude, groups: l.spec.groups },
    state,
    health: h.health,
    reasons: h.reasons,
    pausedBy: state !== "paused" ? null : l.userPaused ? "user" : "outage",
    topics: status?.topics.length ?? 0,
    partitions: status?.totals.partitions ?? 0,
    lag: status?.totals.lag ?? 0,
    rpoMs: status?.totals.rpoMs ?? 0,
    records: status?.totals.records ?? 0,
    bytes: status?.totals.bytes ?? 0,
    recordsPerSec: Math.round(recentRate(l)),
    latencyMs: { p50: status?.latencyMs.p50 ?? 0, p99: status?.latencyMs.p99 ?? 0 },
    uptimeMs: status?.uptimeMs ?? 0,
    backlog: l.backlog.progress ?? null,
    error: l.error ?? null,
    status,
  };
}

export function linkSummary(l: LinkRuntime): LinkSummary {
  const { status, ...summary } = linkDetail(l);
  void status;
  return summary;
}

export function statusView(cp: ControlPlane): StatusView {
  const clusters = [...cp.clusters.values()].map(clusterView);
  // Declared clusters that failed to start are reported down too.
  for (const name of Object.keys(cp.topology?.clusters ?? {})) {
    const spec = cp.topology?.clusters[name];
    if (spec === undefined || cp.clusters.has(name)) continue;
    clusters.push({
      name,
      type: spec.type,
      bootstrap: spec.type === "external" ? spec.bootstrap.join(",") : `${spec.host}:${spec.port}`,
      clusterId: null,
      region: spec.region ?? null,
      site: spec.site ?? null,
      dataDir: spec.type === "embedded" ? spec.dataDir : null,
      health: "down",
      reasons: [cp.lastError?.message ?? "not running"],
    });
  }
  const links = [...cp.links.values()].map(linkSummary);
  return {
    healthy: clusters.every((c) => isHealthy(c.health)) && links.every((l) => isHealthy(l.health)),
    ready: cp.ready,
    uptimeMs: Date.now() - cp.startedAt,
    appliedAt: cp.appliedAt ?? null,
    lastError: cp.lastError ?? null,
    clusters,
    links,
  };
}

export interface TopicView {
  name: string;
  partitions: { partition: number; leader: number; logStart: number; logEnd: number }[];
  records: number;
}

/** The cluster's topics (internal ones left out unless asked) with log start and end offsets. */
export async function clusterTopics(c: ClusterRuntime, includeInternal = false): Promise<TopicView[]> {
  const admin = new Admin(c.client);
  const names = (await admin.listTopics({ includeInternal }))
    .filter((n) => includeInternal || !n.startsWith("__"))
    .sort();
  if (names.length === 0) return [];
  const described = await admin.describeTopics(names);
  const queries = described.flatMap((t) =>
    t.partitions.map((p) => [
      { topic: t.name, partition: p.partition, timestamp: OffsetSpec.EARLIEST },
      { topic: t.name, partition: p.partition, timestamp: OffsetSpec.LATEST },
    ]),
  );
  const answers = await admin.listOffsets(queries.flat());
  const offsets = new Map<string, number>();
  answers.forEach((a, i) => {
    const q = queries.flat()[i];
    if (q === undefined) return;
    const kind = q.timestamp === OffsetSpec.EARLIEST ? "start" : "end";
    offsets.set(`${q.topic}/${q.partition}/${kind}`, Number(a.offset));
  });
  return described.map((t) => {
    const partitions = t.partitions
      .map((p) => ({
        partition: p.partition,
        leader: p.leader,
        logStart: offsets.get(`${t.name}/${p.partition}/start`) ?? -1,
        logEnd: offsets.get(`${t.name}/${p.partition}/end`) ?? -1,
      }))
      .sort((a, b) => a.partition - b.partition);
    return {
      name: t.name,
      partitions,
      records: partitions.reduce((n, p) => n + Math.max(0, p.logEnd - p.logStart), 0),
    };
  });
}
