// What a running link reports: a JSON status (for /status, the CLI and the control plane) and
// Prometheus text exposition (for /metrics). Metric names follow Prometheus conventions:
// ferry_link_ prefix, _total for counters, base units (seconds, bytes).
import type { Link } from "./link.ts";
import { LATENCY_BUCKETS } from "./link-metrics.ts";
import type { PartitionReplica } from "./partition-replica.ts";

export interface PartitionStatus {
  partition: number;
  fetchOffset: number;
  /** Everything below is on the target (or deliberately dropped). */
  copiedOffset: number;
  sourceEnd: number;
  lag: number;
  rpoMs: number;
  recordsCopied: number;
  bytesCopied: number;
  recordsSkipped: number;
  lostRecords: number;
  lost: { from: number; to: number; at: string }[];
  state: "copying" | "starting" | "resyncing" | "paused" | "error";
  error?: string;
  errorCode?: number;
  /** Translation mode: number of offset-map runs. */
  mapRuns?: number;
}

export interface TopicStatus {
  source: string;
  target: string;
  mode: string;
  partitions: PartitionStatus[];
  configError?: string;
}

export interface LinkStatus {
  name: string;
  state: "running" | "paused";
  source: { clusterId: string };
  target: { clusterId: string; ferry: boolean };
  mode: string;
  prefix: string;
  filters: { topics: string; exclude: string; groups: string };
  uptimeMs: number;
  totals: {
    records: number;
    bytes: number;
    lag: number;
    rpoMs: number;
    lostRecords: number;
    errors: number;
    partitions: number;
  };
  latencyMs: { p50: number; p99: number; count: number };
  topics: TopicStatus[];
  skippedTopics: { topic: string; reason: string }[];
  failedTopics: { topic: string; error: string }[];
  groups: Link["groups"];
}

function partitionStatus(r: PartitionReplica, now: number): PartitionStatus {
  const state = r.paused
    ? "paused"
    : r.needsResync
      ? "resyncing"
      : !r.ready
        ? "starting"
        : r.lastError !== undefined && r.retryAt > now - 5_000
          ? "error"
          : "copying";
  return {
    partition: r.partition,
    fetchOffset: r.fetchOffset,
    copiedOffset: r.writtenOffset,
    sourceEnd: r.sourceEnd,
    lag: r.lag,
    rpoMs: r.rpoMs(now),
    recordsCopied: r.recordsCopied,
    bytesCopied: r.bytesCopied,
    recordsSkipped: r.recordsSkipped,
    lostRecords: r.lostRecords,
    lost: r.lost.map((l) => ({ from: l.from, to: l.to, at: new Date(l.at).toISOString() })),
    state,
    ...(r.lastError === undefined ? {} : { error: r.lastError.message }),
    ...(r.lastError?.code === undefined ? {} : { errorCode: r.lastError.code }),
    ...(r.mode === "translate" ? { mapRuns: r.offsetMap.runs.length } : {}),
  };
}

export function linkStatus(link: Link): LinkStatus {
  const ctx = link.ctx;
  const now = Date.now();
  const topics: TopicStatus[] = [];
  let records = 0;
  let bytes = 0;
  let lag = 0;
  let rpoMs = 0;
  let lostRecords = 0;
  let partitions = 0;
  for (const t of link.topics.attached.values()) {
    const ps: PartitionStatus[] = [];
    for (let p = 0; p < t.partitions; p++) {
      const r = ctx.replicas.get(`${t.source}/${p}`);
      if (r === undefined) continue;
      const s = partitionStatus(r, now);
      ps.push(s);
      records += s.recordsCopied;
      bytes += s.bytesCopied;
      lag += s.lag;
      rpoMs = Math.max(rpoMs, s.rpoMs);
      lostRecords += s.lostRecords;
      partitions++;
    }
    topics.push({
      source: t.source,
      target: t.target,
      mode: t.mode,
      partitions: ps,
      ...(t.configError === undefined ? {} : { configError: t.configError }),
    });
  }
  const h = ctx.metrics.latency;
  return {
    name: ctx.name,
    state: ctx.paused ? "paused" : "running",
    source: { clusterId: ctx.sourceClusterId },
    target: { clusterId: ctx.targetClusterId, ferry: link.targetIsFerry },
    mode: link.mode,
    prefix: ctx.prefix,
    filters: { ...ctx.filter.filters },
    uptimeMs: now - ctx.metrics.startedAt,
    totals: { records, bytes, lag, rpoMs, lostRecords, errors: ctx.metrics.errors, partitions },
    latencyMs: { p50: h.quantileMs(0.5), p99: h.quantileMs(0.99), count: h.count },
    topics,
    skippedTopics: [...link.topics.skipped].map(([topic, reason]) => ({ topic, reason })),
    failedTopics: [...link.topics.failed].map(([topic, error]) => ({ topic, error })),
    groups: link.groups,
  };
}

function labels(pairs: Record<string, string | number>): string {
  return (
    "{" +
    Object.entries(pairs)
      .map(
        ([k, v]) => `${k}="${String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
      )
      .join(",") +
    "}"
  );
}

/** Prometheus text exposition (version 0.0.4) of one or more links. */
export function linkMetricsText(links: readonly Link[]): string {
  const now = Date.now();
  const families: { name: string; type: string; help: string; lines: string[] }[] = [
    {
      name: "ferry_link_records_copied_total",
      type: "counter",
      help: "Records copied to the target.",
      lines: [],
    },
    {
      name: "ferry_link_bytes_copied_total",
      type: "counter",
      help: "Record batch bytes copied to the target.",
      lines: [],
    },
    {
      name: "ferry_link_records_skipped_total",
      type: "counter",
      help: "Source records deliberately not copied (markers, aborted, loops).",
      lines: [],
    },
    {
      name: "ferry_link_lag_records",
      type: "gauge",
      help: "Source offsets not yet on the target.",
      lines: [],
    },
    {
      name: "ferry_link_rpo_seconds",
      type: "gauge",
      help: "Age of the oldest source record not yet on the target.",
      lines: [],
    },
    {
      name: "ferry_link_lost_records_total",
      type: "counter",
      help: "Source records deleted by the source before the link copied them.",
      lines: [],
    },
    {
      name: "ferry_link_partition_errors",
      type: "gauge",
      help: "1 while the partition is in error.",
      lines: [],
    },
    { name: "ferry_link_paused", type: "gauge", help: "1 while the link is paused.", lines: [] },
    {
      name: "ferry_link_errors_total",
      type: "counter",
      help: "Errors met by the link (retried or reported).",
      lines: [],
    },
    {
      name: "ferry_link_group_offsets_committed_total",
      type: "counter",
      help: "Consumer group offsets committed on the target.",
      lines: [],
    },
    {
      name: "ferry_link_replication_latency_seconds",
      type: "histogram",
      help: "Source record timestamp to acknowledged on the target.",
      lines: [],
    },
  ];
  const fam = (name: string): string[] =>
    (families.find((f) => f.name === name) as { lines: string[] }).lines;
  for (const link of links) {
    const ctx = link.ctx;
    for (const r of ctx.replicas.values()) {
      const l = labels({ link: ctx.name, topic: r.sourceTopic, partition: r.partition });
      fam("ferry_link_records_copied_total").push(`ferry_link_records_copied_total${l} ${r.recordsCopied}`);
      fam("ferry_link_bytes_copied_total").push(`ferry_link_bytes_copied_total${l} ${r.bytesCopied}`);
      fam("ferry_link_records_skipped_total").push(
        `ferry_link_records_skipped_total${l} ${r.recordsSkipped}`,
      );
      fam("ferry_link_lag_records").push(`ferry_link_lag_records${l} ${r.lag}`);
      fam("ferry_link_rpo_seconds").push(`ferry_link_rpo_seconds${l} ${r.rpoMs(now) / 1000}`);
      fam("ferry_link_lost_records_total").push(`ferry_link_lost_records_total${l} ${r.lostRecords}`);
      const inError = r.lastError !== undefined && r.retryAt > now - 5_000 ? 1 : 0;
      fam("ferry_link_partition_errors").push(`ferry_link_partition_errors${l} ${inError}`);
    }
    const ll = labels({ link: ctx.name });
    fam("ferry_link_paused").push(`ferry_link_paused${ll} ${ctx.paused ? 1 : 0}`);
    fam("ferry_link_errors_total").push(`ferry_link_errors_total${ll} ${ctx.metrics.errors}`);
    fam("ferry_link_group_offsets_committed_total").push(
      `ferry_link_group_offsets_committed_total${ll} ${ctx.metrics.groupCommits}`,
    );
    const h = ctx.metrics.latency;
    let cumulative = 0;
    LATENCY_BUCKETS.forEach((le, i) => {
      cumulative += h.counts[i] as number;
      fam("ferry_link_replication_latency_seconds").push(
        `ferry_link_replication_latency_seconds_bucket${labels({ link: ctx.name, le })} ${cumulative}`,
      );
    });
    fam("ferry_link_replication_latency_seconds").push(
      `ferry_link_replication_latency_seconds_bucket${labels({ link: ctx.name, le: "+Inf" })} ${h.count}`,
      `ferry_link_replication_latency_seconds_sum${ll} ${h.sumSeconds}`,
      `ferry_link_replication_latency_seconds_count${ll} ${h.count}`,
    );
  }
  return (
    families
      .map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.lines].join("\n"))
      .join("\n") + "\n"
  );
}
