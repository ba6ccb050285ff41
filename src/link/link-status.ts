// What a running link reports: a JSON status (for /status, the CLI and the control plane) and
// Prometheus text exposition (for /metrics). Metric names follow Prometheus conventions:
// ferry_link_ prefix, _total for counters, base units (seconds, bytes).
import type { Link } from "./link.ts";
import { LATENCY_BUCKETS, type LatencyHistogram } from "./link-metrics.ts";
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
  /** How group offset commits reach the target: the __consumer_offsets stream, or polling alone. */
  groupCommitStream: GroupCommitStreamStatus;
}

export interface GroupCommitStreamStatus {
  /** off (no groups selected), starting, tailing, or polling-only (see reason). */
  state: string;
  reason?: string;
  /** __consumer_offsets partitions tailed. */
  partitions: number;
  /** Offset commits of selected groups read from the stream. */
  commitsRead: number;
  /** Commits committed on the target from the stream (coalesced ones count once). */
  commitsReplicated: number;
  /** Commits waiting for the records they point at to be copied. */
  pending: number;
  /** Commits not made because the target group had active members. */
  blocked: number;
  /** Source commit timestamp to committed on the target. */
  latencyMs: { p50: number; p99: number; count: number };
  lastError?: { message: string; at: string };
  /** Why the last polling round failed as a whole, if it did. */
  pollError?: string;
}

function groupCommitStreamStatus(link: Link): GroupCommitStreamStatus {
  const stream = link.offsetStream;
  const relay = link.commitRelay;
  const m = link.ctx.metrics;
  const h = m.groupCommitLatency;
  const lastError = [stream.lastError, relay.lastError]
    .filter((e) => e !== undefined)
    .sort((a, b) => b.at - a.at)[0];
  return {
    state: stream.state,
    ...(stream.reason === undefined ? {} : { reason: stream.reason }),
    partitions: stream.partitions,
    commitsRead: m.groupCommitsRead,
    commitsReplicated: m.groupCommitsReplicated,
    pending: relay.pending,
    blocked: relay.blocked,
    latencyMs: { p50: h.quantileMs(0.5), p99: h.quantileMs(0.99), count: h.count },
    ...(lastError === undefined
      ? {}
      : { lastError: { message: lastError.message, at: new Date(lastError.at).toISOString() } }),
    ...(link.groupPollError === undefined ? {} : { pollError: link.groupPollError }),
  };
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
    groupCommitStream: groupCommitStreamStatus(link),
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
    {
      name: "ferry_link_group_commit_stream_tailing",
      type: "gauge",
      help: "1 while the link tails the source's __consumer_offsets; 0 while it polls group offsets only.",
      lines: [],
    },
    {
      name: "ferry_link_group_commits_read_total",
      type: "counter",
      help: "Offset commits of selected groups read from the source's __consumer_offsets.",
      lines: [],
    },
    {
      name: "ferry_link_group_commits_replicated_total",
      type: "counter",
      help: "Offset commits from the source's __consumer_offsets committed on the target.",
      lines: [],
    },
    {
      name: "ferry_link_group_commits_pending",
      type: "gauge",
      help: "Offset commits waiting for the records they point at to be copied.",
      lines: [],
    },
    {
      name: "ferry_link_group_commit_latency_seconds",
      type: "histogram",
      help: "Source offset commit timestamp to committed on the target.",
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
    histogramLines(
      fam("ferry_link_replication_latency_seconds"),
      "ferry_link_replication_latency_seconds",
      ctx.name,
      ctx.metrics.latency,
    );
    fam("ferry_link_group_commit_stream_tailing").push(
      `ferry_link_group_commit_stream_tailing${ll} ${link.offsetStream.state === "tailing" ? 1 : 0}`,
    );
    fam("ferry_link_group_commits_read_total").push(
      `ferry_link_group_commits_read_total${ll} ${ctx.metrics.groupCommitsRead}`,
    );
    fam("ferry_link_group_commits_replicated_total").push(
      `ferry_link_group_commits_replicated_total${ll} ${ctx.metrics.groupCommitsReplicated}`,
    );
    fam("ferry_link_group_commits_pending").push(
      `ferry_link_group_commits_pending${ll} ${link.commitRelay.pending}`,
    );
    histogramLines(
      fam("ferry_link_group_commit_latency_seconds"),
      "ferry_link_group_commit_latency_seconds",
      ctx.name,
      ctx.metrics.groupCommitLatency,
    );
  }
  return (
    families
      .map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.lines].join("\n"))
      .join("\n") + "\n"
  );
}

/** A histogram's cumulative buckets, sum and count for one link. */
function histogramLines(out: string[], name: string, link: string, h: LatencyHistogram): void {
  let cumulative = 0;
  LATENCY_BUCKETS.forEach((le, i) => {
    cumulative += h.counts[i] as number;
    out.push(`${name}_bucket${labels({ link, le })} ${cumulative}`);
  });
  const ll = labels({ link });
  out.push(
    `${name}_bucket${labels({ link, le: "+Inf" })} ${h.count}`,
    `${name}_sum${ll} ${h.sumSeconds}`,
    `${name}_count${ll} ${h.count}`,
  );
}
