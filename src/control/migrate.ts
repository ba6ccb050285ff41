// Planned migration between clusters over a running link: a readiness report (lag, groups
// synced, copied configs equal, consumers stopped on the source), and a cutover that refuses
// to run while consumers still read the source, then fails over without --force (zero loss,
// exact group offsets).
import { Admin, isIdleGroupState, ResourceType } from "../client/admin.ts";
import { Cluster, type ClusterOptions } from "../client/cluster.ts";
import { fetchCommittedOffsets } from "../client/group-offsets.ts";
import { isFerryBroker } from "../client/mirror-append.ts";
import { configsToCopy } from "../link/config-policy.ts";
import { LinkStateStore } from "../link/link-state-store.ts";
import { failover, type FailoverReport } from "./failover.ts";
import {
  linkPartitions,
  replicatedPositions,
  requireRegistration,
  sourceEnds,
  translateCommitted,
  type LinkPartition,
  type ReplicatedPosition,
  type TopicSelector,
} from "./failover-state.ts";

export interface MigrationOptions {
  link: string;
  source: string;
  target: string;
  /** Groups that must move (default every consumer group with offsets on the link's topics). */
  groups?: (group: string) => boolean;
  /** Only these source topics (whole name; default every topic the link copies). */
  topics?: TopicSelector;
  /** Client settings for both clusters; `sourceClient` and `targetClient` add to them per side. */
  client?: Partial<ClusterOptions>;
  sourceClient?: Partial<ClusterOptions>;
  targetClient?: Partial<ClusterOptions>;
}

export interface MigrationPlan {
  link: string;
  partitions: { topic: string; partition: number; sourceEnd: number; replicated: number; lag: number }[];
  lag: number;
  /** Source topics the link's filter selects that have nothing on the target yet (known through the control plane). */
  uncopiedTopics: string[];
  groups: { group: string; sourceState: string; partitions: number; inSync: number }[];
  configs: { topic: string; differing: string[] }[];
  consumersStopped: boolean;
  ready: boolean;
  /** Why it is not ready. */
  blockers: string[];
}

/** A cutover refused because consumers still read the source; nothing was changed. */
export class MigrationBlockedError extends Error {
  readonly blockers: string[];
  constructor(blockers: string[]) {
    super(`consumers still read the source: ${blockers.join("; ")}; stop them first (or --force)`);
    this.name = "MigrationBlockedError";
    this.blockers = blockers;
  }
}

/** Reads where the migration stands; changes nothing. */
export async function migrationPlan(options: MigrationOptions): Promise<MigrationPlan> {
  const source = new Cluster({
    clientId: "ferry-migrate",
    ...options.client,
    ...options.sourceClient,
    bootstrap: options.source,
  });
  const target = new Cluster({
    clientId: "ferry-migrate",
    ...options.client,
    ...options.targetClient,
    bootstrap: options.target,
  });
  try {
    const sourceAdmin = new Admin(source);
    const targetAdmin = new Admin(target);
    const store = await LinkStateStore.openReadOnly(target, targetAdmin);
    const reg = requireRegistration(store, options.link);
    const parts = await linkPartitions(
      target,
      targetAdmin,
      store,
      reg,
      options.topics,
      await isFerryBroker(target),
    );
    const [ends, positions] = await Promise.all([
      sourceEnds(source, parts),
      replicatedPositions(target, store, options.link, parts),
    ]);
    const partitions = parts.map((p, i) => {
      const sourceEnd = ends[i] ?? 0;
      const replicated = positions[i]?.source ?? 0;
      return {
        topic: p.sourceTopic,
        partition: p.partition,
        sourceEnd,
        replicated,
        lag: Math.max(0, sourceEnd - replicated),
      };
    });
    const lag = partitions.reduce((n, p) => n + p.lag, 0);
    const uncopiedTopics: string[] = [];
    if (options.topics !== undefined) {
      const meta = await source.withRetries(() => source.refreshMetadata(null));
      const copied = new Set(parts.map((p) => p.sourceTopic));
      for (const t of meta.topics.values()) {
        if (t.isInternal || t.errorCode !== 0 || t.name.startsWith("__") || copied.has(t.name)) continue;
        if (options.topics.test(t.name)) uncopiedTopics.push(t.name);
      }
      uncopiedTopics.sort();
    }
    const index = new Map<string, number>();
    parts.forEach((p, i) => index.set(`${p.sourceTopic}/${p.partition}`, i));
    const groups: MigrationPlan["groups"] = [];
    for (const g of await sourceAdmin.listGroups()) {
      if (g.protocolType !== "consumer" && g.protocolType !== "") continue;
      if (options.groups !== undefined && !options.groups(g.groupId)) continue;
      const committed = (await fetchCommittedOffsets(source, g.groupId)).filter(
        (c) => c.offset >= 0n && index.has(`${c.topic}/${c.partition}`),
      );
      if (committed.length === 0) continue;
      const onTarget = new Map<string, bigint>();
      for (const c of await fetchCommittedOffsets(
        target,
        g.groupId,
        parts.map((p) => ({ topic: p.targetTopic, partition: p.partition })),
      ))
        onTarget.set(`${c.topic}/${c.partition}`, c.offset);
      let inSync = 0;
      for (const c of committed) {
        const i = index.get(`${c.topic}/${c.partition}`) ?? -1;
        const p = parts[i] as LinkPartition;
        const t = translateCommitted(
          store,
          options.link,
          p,
          positions[i] as ReplicatedPosition,
          Number(c.offset),
        );
        if (onTarget.get(`${p.targetTopic}/${p.partition}`) === BigInt(t)) inSync++;
      }
      groups.push({ group: g.groupId, sourceState: g.state, partitions: committed.length, inSync });
    }
    const configs: MigrationPlan["configs"] = [];
    const targets = new Map(parts.map((p) => [p.sourceTopic, p.targetTopic]));
    for (const [topic, targetTopic] of targets) {
      const want = configsToCopy(await sourceAdmin.describeConfigs(ResourceType.TOPIC, topic));
      const have = new Map(
        (await targetAdmin.describeConfigs(ResourceType.TOPIC, targetTopic)).map((c) => [c.name, c.value]),
      );
      const differing = Object.entries(want)
        .filter(([k, v]) => have.get(k) !== v)
        .map(([k]) => k);
      configs.push({ topic, differing });
    }
    const consumersStopped = groups.every((g) => isIdleGroupState(g.sourceState));
    const blockers: string[] = [];
    if (lag > 0) blockers.push(`${lag} records not copied yet`);
    for (const t of uncopiedTopics) blockers.push(`topic ${t} is not on the target yet`);
    for (const g of groups) {
      if (!isIdleGroupState(g.sourceState))
        blockers.push(`group ${g.group} still has consumers on the source (${g.sourceState})`);
      else if (g.inSync < g.partitions)
        blockers.push(`group ${g.group}: ${g.partitions - g.inSync} partitions not synced yet`);
    }
    for (const c of configs)
      if (c.differing.length > 0)
        blockers.push(`topic ${c.topic}: configs differ (${c.differing.join(", ")})`);
    return {
      link: options.link,
      partitions,
      lag,
      uncopiedTopics,
      groups,
      configs,
      consumersStopped,
      ready: blockers.length === 0,
      blockers,
    };
  } finally {
    await Promise.allSettled([source.close(), target.close()]);
  }
}

/** The cutover: refuses while consumers read the source (unless forced), then a planned failover. */
export async function cutover(
  options: MigrationOptions & {
    force?: boolean;
    waitTimeoutMs?: number;
    /** Stops the running link (control plane) once lag is 0, as failover's. */
    stopLink?: () => Promise<void>;
  },
): Promise<{ plan: MigrationPlan; failover: FailoverReport }> {
  const plan = await migrationPlan(options);
  if (!plan.consumersStopped && options.force !== true) throw new MigrationBlockedError(plan.blockers);
  const report = await failover({
    link: options.link,
    source: options.source,
    target: options.target,
    ...(options.groups === undefined ? {} : { groups: options.groups }),
    ...(options.topics === undefined ? {} : { topics: options.topics }),
    ...(options.waitTimeoutMs === undefined ? {} : { waitTimeoutMs: options.waitTimeoutMs }),
    ...(options.client === undefined ? {} : { client: options.client }),
    ...(options.sourceClient === undefined ? {} : { sourceClient: options.sourceClient }),
    ...(options.targetClient === undefined ? {} : { targetClient: options.targetClient }),
    ...(options.stopLink === undefined ? {} : { stopLink: options.stopLink }),
  });
  return { plan, failover: report };
}
