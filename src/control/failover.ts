// Failover of a link: makes its target the primary. Waits for lag 0 when the source is
// reachable (unless forced), stops the link, promotes mirror topics, sets every synced group's
// committed offsets on the target to the exact translation of the source's, records the
// divergence points for failback, and reports per partition what was not replicated (the RPO).
import { Admin, ConfigOp, isIdleGroupState, ResourceType, type GroupDescription } from "../client/admin.ts";
import { Cluster, type ClusterOptions } from "../client/cluster.ts";
import { fetchCommittedOffsets, type OffsetToCommit } from "../client/group-offsets.ts";
import { isFerryBroker } from "../client/mirror-append.ts";
import { MIRROR_LINK_CONFIG, MIRROR_SOURCE_CONFIG } from "../link/config-policy.ts";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { LinkStateStore } from "../link/link-state-store.ts";
import type { Logger } from "../util/logger.ts";
import {
  failoverKey,
  linkPartitions,
  LinkStateError,
  readFailoverMarker,
  readRange,
  replicatedPositions,
  requireRegistration,
  sourceEnds,
  translateCommitted,
  type FailoverMarker,
  type LinkPartition,
  type ReplicatedPosition,
  type TopicSelector,
} from "./failover-state.ts";

export interface FailoverOptions {
  link: string;
  /** The link's target (the cluster that becomes primary). */
  target: string;
  /** The link's source; omitted or unreachable: a disaster failover without an RPO measurement. */
  source?: string;
  /** Only source topics matching this (whole name). */
  topics?: TopicSelector;
  /** Groups whose offsets are translated; default the groups the target already has offsets for. */
  groups?: (group: string) => boolean;
  /** Do not wait for lag 0. */
  force?: boolean;
  /** How long to wait for lag 0 (default 60 s). */
  waitTimeoutMs?: number;
  /** How long the source may take to answer before it counts as unreachable (default 3 s). */
  sourceTimeoutMs?: number;
  /** Stops the running link (control plane); a standalone `ferry link` process is stopped by its owner. */
  stopLink?: () => Promise<void>;
  /** Client settings for both clusters; `sourceClient` and `targetClient` add to them per side. */
  client?: Partial<ClusterOptions>;
  sourceClient?: Partial<ClusterOptions>;
  targetClient?: Partial<ClusterOptions>;
  logger?: Logger;
}

export interface PartitionRpo {
  sourceTopic: string;
  targetTopic: string;
  partition: number;
  mode: LinkPartition["mode"];
  /** Every source offset below this is on the target. */
  replicatedEnd: number;
  /** Offset of the last replicated record (-1: none). */
  lastReplicatedOffset: number;
  /** The target offset the next record lands at. */
  targetEnd: number;
  /** The source's end at the failover, when reachable. */
  sourceEnd: number | null;
  /** Source records the target does not have (null: source unreachable). */
  notReplicated: number | null;
  /** Age at the failover of the oldest record not replicated (ms; 0 when none; null: unknown). */
  notReplicatedAgeMs: number | null;
}

export interface GroupOffsetChange {
  topic: string;
  partition: number;
  /** The source's committed offset (null: the source was not asked). */
  sourceOffset: number | null;
  /** The target's committed offset before the failover (-1: none). */
  before: number;
  /** After the failover. */
  after: number;
}

export interface GroupFailover {
  group: string;
  /** "source": translated from the source now; "last-sync": the link's last sync stands (source unreachable). */
  from: "source" | "last-sync";
  partitions: GroupOffsetChange[];
  /** Why the group's offsets were left alone. */
  skipped?: string;
  /** The group's state on the source, when asked. */
  sourceState?: string;
}

export interface FailoverReport {
  link: string;
  sourceClusterId: string;
  targetClusterId: string;
  sourceReachable: boolean;
  forced: boolean;
  startedAt: number;
  /** Time spent waiting for lag 0. */
  waitedMs: number;
  durationMs: number;
  promotedTopics: string[];
  partitions: PartitionRpo[];
  groups: GroupFailover[];
  /** Records not replicated, summed (null: source unreachable). */
  rpoRecords: number | null;
  /** Age of the oldest record not replicated (null: unknown). */
  rpoMs: number | null;
}

/** Lag did not reach 0 in time; nothing was changed. */
export class FailoverTimeoutError extends Error {
  readonly lag: number;
  constructor(lag: number, ms: number) {
    super(
      `lag did not reach 0 within ${ms} ms (still ${lag} records behind): stop the source's producers, ` +
        `or use --force to fail over now and lose them`,
    );
    this.name = "FailoverTimeoutError";
    this.lag = lag;
  }
}

/**
 * Kafkas without ListGroups or DescribeGroups (librdkafka's mock) answer `fallback`; the
 * coordinator still refuses an outside commit to a group with members.
 */
async function unlessUnsupported<T>(request: Promise<T>, fallback: T): Promise<T> {
  try {
    return await request;
  } catch (e) {
    if (e instanceof KafkaError && e.code === ErrorCode.UNSUPPORTED_VERSION) return fallback;
    throw e;
  }
}

/** Opens a client on a cluster and checks it answers within `ms`; undefined when it does not. */
export async function reachable(
  bootstrap: string,
  ms: number,
  client: Partial<ClusterOptions> = {},
): Promise<{ cluster: Cluster; clusterId: string } | undefined> {
  const cluster = new Cluster({
    clientId: "ferry-failover",
    retries: 1,
    retryBackoffMs: 100,
    connectTimeoutMs: ms,
    requestTimeoutMs: Math.max(ms, 5_000),
    ...client,
    bootstrap,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const info = await Promise.race([
      new Admin(cluster).describeCluster(),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
    ]);
    if (info === undefined) throw new Error("timed out");
    return { cluster, clusterId: info.clusterId ?? "" };
  } catch {
    await cluster.close().catch(() => undefined);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a failover; see the module comment. Throws LinkStateError or FailoverTimeoutError before changing anything. */
export async function failover(options: FailoverOptions): Promise<FailoverReport> {
  const startedAt = Date.now();
  const target = new Cluster({
    clientId: "ferry-failover",
    ...options.client,
    ...options.targetClient,
    bootstrap: options.target,
  });
  let source: { cluster: Cluster; clusterId: string } | undefined;
  try {
    const admin = new Admin(target);
    const store = await LinkStateStore.open(target, admin);
    const reg = requireRegistration(store, options.link);
    const previous = readFailoverMarker(store, options.link);
    if (previous !== undefined) {
      throw new LinkStateError(
        `link '${options.link}' was already failed over at ${new Date(previous.at).toISOString()}; ` +
          `\`ferry failback ${options.link}\` reverses it`,
      );
    }
    const parts = await linkPartitions(
      target,
      admin,
      store,
      reg,
      options.topics,
      await isFerryBroker(target),
    );
    if (options.source !== undefined) {
      source = await reachable(options.source, options.sourceTimeoutMs ?? 3_000, {
        ...options.client,
        ...options.sourceClient,
      });
      if (source !== undefined && source.clusterId !== reg.sourceClusterId) {
        throw new LinkStateError(
          `${options.source} is cluster ${source.clusterId}, but link '${options.link}' copies from ${reg.sourceClusterId}`,
        );
      }
    }
    options.logger?.info("failover starting", {
      link: options.link,
      partitions: parts.length,
      sourceReachable: source !== undefined,
    });
    let waitedMs = 0;
    if (source !== undefined && options.force !== true) {
      const waitStart = Date.now();
      await waitForLagZero(
        source.cluster,
        target,
        store,
        options.link,
        parts,
        options.waitTimeoutMs ?? 60_000,
      );
      waitedMs = Date.now() - waitStart;
    }
    await options.stopLink?.();
    const positions = await replicatedPositions(target, store, options.link, parts);
    const partitions = await measureRpo(source?.cluster, parts, positions);
    const promotedTopics = await promote(admin, parts);
    const groups = await translateGroups(
      source?.cluster,
      target,
      admin,
      store,
      options.link,
      parts,
      positions,
      options.groups,
      options.force === true ? 0 : (options.waitTimeoutMs ?? 60_000),
    );
    const marker: FailoverMarker = {
      link: options.link,
      at: Date.now(),
      sourceClusterId: reg.sourceClusterId,
      targetClusterId: reg.targetClusterId,
      forced: options.force === true,
      partitions: parts.map((p, i) => ({ ...p, ...(positions[i] as ReplicatedPosition) })),
    };
    await store.write([{ key: failoverKey(options.link), value: { ...marker } }]);
    const known = partitions.every((p) => p.notReplicated !== null);
    const report: FailoverReport = {
      link: options.link,
      sourceClusterId: reg.sourceClusterId,
      targetClusterId: reg.targetClusterId,
      sourceReachable: source !== undefined,
      forced: options.force === true,
      startedAt,
      waitedMs,
      durationMs: Date.now() - startedAt,
      promotedTopics,
      partitions,
      groups,
      rpoRecords: known ? partitions.reduce((n, p) => n + (p.notReplicated ?? 0), 0) : null,
      rpoMs: known ? Math.max(0, ...partitions.map((p) => p.notReplicatedAgeMs ?? 0)) : null,
    };
    options.logger?.info("failover done", {
      link: options.link,
      rpoRecords: report.rpoRecords,
      rpoMs: report.rpoMs,
      promoted: promotedTopics.length,
    });
    return report;
  } finally {
    await Promise.allSettled([target.close(), source?.cluster.close()]);
  }
}

async function waitForLagZero(
  source: Cluster,
  target: Cluster,
  store: LinkStateStore,
  link: string,
  parts: readonly LinkPartition[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [ends, positions] = await Promise.all([
      sourceEnds(source, parts),
      replicatedPositions(target, store, link, parts),
    ]);
    const lag = ends.reduce((n, end, i) => n + Math.max(0, end - (positions[i]?.source ?? 0)), 0);
    if (lag === 0) return;
    if (Date.now() > deadline) throw new FailoverTimeoutError(lag, timeoutMs);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function measureRpo(
  source: Cluster | undefined,
  parts: readonly LinkPartition[],
  positions: readonly ReplicatedPosition[],
): Promise<PartitionRpo[]> {
  const ends = source === undefined ? undefined : await sourceEnds(source, parts).catch(() => undefined);
  const now = Date.now();
  const out: PartitionRpo[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as LinkPartition;
    const pos = positions[i] as ReplicatedPosition;
    const sourceEnd = ends?.[i] ?? null;
    const missing = sourceEnd === null ? null : Math.max(0, sourceEnd - pos.source);
    let age: number | null = missing === null ? null : 0;
    if (source !== undefined && missing !== null && missing > 0 && sourceEnd !== null) {
      // The first fetch from the divergence point holds the oldest record not replicated.
      const first = await readRange(source, p.sourceTopic, p.partition, pos.source, sourceEnd).catch(
        () => undefined,
      );
      const oldest = (first?.records ?? []).reduce((t, r) => Math.min(t, r.timestamp), Infinity);
      age = Number.isFinite(oldest) ? Math.max(0, now - oldest) : null;
    }
    out.push({
      sourceTopic: p.sourceTopic,
      targetTopic: p.targetTopic,
      partition: p.partition,
      mode: p.mode,
      replicatedEnd: pos.source,
      lastReplicatedOffset: pos.source - 1,
      targetEnd: pos.target,
      sourceEnd,
      notReplicated: missing,
      notReplicatedAgeMs: age,
    });
  }
  return out;
}

/**
 * Deletes ferry.mirror.source (and the owning link) from every mirror topic: the broker makes
 * them writable (and aborts open transactions).
 */
async function promote(admin: Admin, parts: readonly LinkPartition[]): Promise<string[]> {
  const topics = [...new Set(parts.filter((p) => p.mode === "mirror").map((p) => p.targetTopic))];
  for (const t of topics) {
    await admin.incrementalAlterConfigs(ResourceType.TOPIC, t, [
      { name: MIRROR_SOURCE_CONFIG, value: null, op: ConfigOp.DELETE },
    ]);
    // Apart: a Ferry broker from before owners were recorded refuses the name, and the topic is
    // promoted all the same.
    await admin
      .incrementalAlterConfigs(ResourceType.TOPIC, t, [
        { name: MIRROR_LINK_CONFIG, value: null, op: ConfigOp.DELETE },
      ])
      .catch((e: unknown) => {
        if (!(e instanceof KafkaError && e.code === ErrorCode.INVALID_CONFIG)) throw e;
      });
  }
  return topics;
}

async function translateGroups(
  source: Cluster | undefined,
  target: Cluster,
  admin: Admin,
  store: LinkStateStore,
  link: string,
  parts: readonly LinkPartition[],
  positions: readonly ReplicatedPosition[],
  match: ((group: string) => boolean) | undefined,
  idleWaitMs: number,
): Promise<GroupFailover[]> {
  const bySource = new Map<string, number>();
  parts.forEach((p, i) => bySource.set(`${p.sourceTopic}/${p.partition}`, i));
  const targetTopics = parts.map((p) => ({ topic: p.targetTopic, partition: p.partition }));
  if (targetTopics.length === 0) return [];
  // Groups the link synced: those with offsets for its topics on the target, plus the filter's on the source.
  const candidates = new Set<string>();
  const targetGroups = (await unlessUnsupported(admin.listGroups(), [])).filter(
    (g) => g.protocolType === "consumer" || g.protocolType === "",
  );
  for (const g of targetGroups) {
    if (match !== undefined && !match(g.groupId)) continue;
    const offsets = await fetchCommittedOffsets(target, g.groupId, targetTopics);
    if (offsets.some((o) => o.offset >= 0n)) candidates.add(g.groupId);
  }
  const sourceStates = new Map<string, string>();
  if (source !== undefined) {
    for (const g of await new Admin(source).listGroups().catch(() => [])) {
      if (g.protocolType !== "consumer" && g.protocolType !== "") continue;
      sourceStates.set(g.groupId, g.state);
      if (match?.(g.groupId) === true) candidates.add(g.groupId);
    }
  }
  const out: GroupFailover[] = [];
  for (const group of [...candidates].sort()) {
    const before = new Map<string, number>();
    for (const c of await fetchCommittedOffsets(target, group, targetTopics))
      before.set(`${c.topic}/${c.partition}`, Number(c.offset));
    const result: GroupFailover = {
      group,
      from: source === undefined ? "last-sync" : "source",
      partitions: [],
    };
    const state = sourceStates.get(group);
    if (state !== undefined) result.sourceState = state;
    out.push(result);
    if (source === undefined) {
      for (const p of parts) {
        const b = before.get(`${p.targetTopic}/${p.partition}`) ?? -1;
        if (b >= 0)
          result.partitions.push({
            topic: p.targetTopic,
            partition: p.partition,
            sourceOffset: null,
            before: b,
            after: b,
          });
      }
      continue;
    }
    // A planned failover waits for members left on the target (a restarted old primary keeps them until their session ends).
    const idleBy = Date.now() + idleWaitMs;
    const describe = async (): Promise<GroupDescription | undefined> =>
      (await unlessUnsupported(admin.describeGroups([group]), []))[0];
    let description = await describe();
    while (!isIdleGroupState(description?.state ?? "") && Date.now() < idleBy) {
      await new Promise((r) => setTimeout(r, 200));
      description = await describe();
    }
    if (!isIdleGroupState(description?.state ?? "")) {
      result.skipped = `the group has members on the target (${description?.state ?? "?"}); its offsets were left alone`;
      continue;
    }
    const committed = await fetchCommittedOffsets(source, group).catch(() => undefined);
    if (committed === undefined) {
      result.from = "last-sync";
      result.skipped = "the source did not answer for the group; the link's last sync stands";
      continue;
    }
    const toCommit: OffsetToCommit[] = [];
    for (const c of committed) {
      const i = bySource.get(`${c.topic}/${c.partition}`);
      if (i === undefined || c.offset < 0n) continue;
      const p = parts[i] as LinkPartition;
      const t = translateCommitted(store, link, p, positions[i] as ReplicatedPosition, Number(c.offset));
      const b = before.get(`${p.targetTopic}/${p.partition}`) ?? -1;
      result.partitions.push({
        topic: p.targetTopic,
        partition: p.partition,
        sourceOffset: Number(c.offset),
        before: b,
        after: t,
      });
      // The source's committed offset is the truth at a failover, even where the target is ahead (an older era).
      if (b !== t)
        toCommit.push({
          topic: p.targetTopic,
          partition: p.partition,
          offset: BigInt(t),
          metadata: c.metadata,
        });
    }
    if (toCommit.length > 0) await admin.alterOffsets(group, toCommit);
  }
  return out;
}
