// Finds the source topics a link copies (filters re-evaluated every round, so new topics and
// filter changes take effect within one interval), creates their target topics with the
// source's partition count and copied configs, follows partition increases, and keeps the
// copied configs equal. Decides per topic between mirror and translation mode.
import { ConfigOp, ResourceType, type Admin, type ConfigEntry } from "../client/admin.ts";
import { listOffsets, OffsetSpec } from "../client/offsets.ts";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import {
  MIRROR_LINK_CONFIG,
  MIRROR_SOURCE_CONFIG,
  configDrift,
  configsToCopy,
  mirrorSourceValue,
  parseMirrorSource,
} from "./config-policy.ts";
import type { LinkContext } from "./link-context.ts";
import { createTopic } from "./create-topic.ts";
import { checkpointKey, failedOverTopics, readCheckpoint, readRuns, registrations } from "./link-registry.ts";
import { PartitionReplica, type ReplicaMode } from "./partition-replica.ts";
import { targetTopicName } from "./topic-naming.ts";

export type ModeChoice = "auto" | "mirror" | "translate";

export interface AttachedTopic {
  source: string;
  target: string;
  mode: ReplicaMode;
  partitions: number;
  configError?: string;
}

export interface TopicSyncState {
  readonly attached: Map<string, AttachedTopic>;
  /** Source topics matching the filters that the link will not copy, with the reason. */
  readonly skipped: Map<string, string>;
  /** Topics whose attach failed, with the error (retried every round). */
  readonly failed: Map<string, string>;
}

export function newTopicSyncState(): TopicSyncState {
  return { attached: new Map(), skipped: new Map(), failed: new Map() };
}

/** One round: attach new topics, follow partition increases, detach topics no longer selected. */
export async function syncTopics(
  ctx: LinkContext,
  state: TopicSyncState,
  choice: ModeChoice,
  targetIsFerry: boolean,
): Promise<void> {
  const metadata = await ctx.source.withRetries(() => ctx.source.refreshMetadata(null));
  const selected = new Map<string, number>();
  for (const t of metadata.topics.values()) {
    if (t.errorCode === 0 && !t.isInternal && ctx.filter.matchesTopic(t.name))
      selected.set(t.name, t.partitions.length);
  }
  for (const [name, topic] of state.attached) {
    if (!selected.has(name)) {
      detach(ctx, topic);
      state.attached.delete(name);
      ctx.logger.info("topic no longer copied", { topic: name });
    }
  }
  for (const name of state.skipped.keys()) if (!selected.has(name)) state.skipped.delete(name);
  for (const name of state.failed.keys()) if (!selected.has(name)) state.failed.delete(name);
  const targetMeta = await ctx.target.withRetries(() => ctx.target.refreshMetadata(null));
  for (const [name, partitions] of selected) {
    if (ctx.signal.aborted) return;
    try {
      const attached = state.attached.get(name);
      if (attached === undefined) {
        if (state.skipped.has(name)) continue;
        const targetName = targetTopicName(ctx, name);
        const reason =
          targetName === undefined
            ? `its name does not start with the link's strip prefix ${ctx.stripPrefix}`
            : await attach(
                ctx,
                state,
                name,
                targetName,
                partitions,
                choice,
                targetIsFerry,
                targetMeta.topics.get(targetName)?.partitions.length,
              );
        if (reason !== undefined) {
          state.skipped.set(name, reason);
          ctx.logger.info("topic skipped", { topic: name, reason });
        }
      } else if (partitions > attached.partitions) {
        await grow(ctx, attached, partitions, targetMeta.topics.get(attached.target)?.partitions.length ?? 0);
      }
      state.failed.delete(name);
    } catch (e) {
      const message = (e as Error).message;
      if (state.failed.get(name) !== message)
        ctx.logger.error("cannot attach topic", { topic: name, error: message });
      state.failed.set(name, message);
      ctx.metrics.errors++;
    }
  }
}

/** Compares the copied configs of every attached topic with the source's and fixes drift. */
export async function syncConfigs(ctx: LinkContext, state: TopicSyncState): Promise<void> {
  for (const topic of state.attached.values()) {
    if (ctx.signal.aborted) return;
    try {
      const sourceConfigs = await topicConfigs(ctx.sourceAdmin, topic.source);
      const targetConfigs = await topicConfigs(ctx.targetAdmin, topic.target);
      if (sourceConfigs === UNREADABLE || targetConfigs === UNREADABLE) {
        topic.configError = "a cluster does not support DescribeConfigs: configs are not synced";
        continue;
      }
      const drift = configDrift(configsToCopy(sourceConfigs), targetConfigs);
      if (drift.length > 0) {
        await ctx.targetAdmin.incrementalAlterConfigs(ResourceType.TOPIC, topic.target, drift);
        ctx.logger.info("topic configs synced", {
          topic: topic.target,
          keys: drift.map((d) => d.name).join(","),
        });
      }
      delete topic.configError;
    } catch (e) {
      topic.configError = (e as Error).message;
    }
  }
}

/** What topicConfigs returns for a cluster without DescribeConfigs (librdkafka's mock, old brokers). */
const UNREADABLE: ConfigEntry[] = [];

async function topicConfigs(admin: Admin, topic: string): Promise<ConfigEntry[]> {
  try {
    return await admin.describeConfigs(ResourceType.TOPIC, topic);
  } catch (e) {
    if (e instanceof KafkaError && e.code === ErrorCode.UNSUPPORTED_VERSION) return UNREADABLE;
    throw e;
  }
}

async function attach(
  ctx: LinkContext,
  state: TopicSyncState,
  name: string,
  targetName: string,
  partitions: number,
  choice: ModeChoice,
  targetIsFerry: boolean,
  existingPartitions: number | undefined,
): Promise<string | undefined> {
  const sourceConfigs = await topicConfigs(ctx.sourceAdmin, name);
  const mirrorOf = parseMirrorSource(sourceConfigs.find((c) => c.name === MIRROR_SOURCE_CONFIG)?.value);
  if (mirrorOf !== null && mirrorOf.clusterId === ctx.targetClusterId) {
    return `a mirror of ${mirrorOf.topic} on the target cluster: copying it back would make a loop`;
  }
  for (const reg of registrations(ctx.sourceState)) {
    if (reg.sourceClusterId === ctx.targetClusterId && reg.prefix !== "" && name.startsWith(reg.prefix)) {
      // A failover made the topic this cluster's own: a reverse link stripping the prefix copies it back.
      if (ctx.stripPrefix === reg.prefix && failedOverTopics(ctx.sourceState).has(name)) continue;
      return `written by link ${reg.name} from the target cluster (prefix ${reg.prefix}): copying it back would make a loop`;
    }
  }
  const copied = configsToCopy(sourceConfigs);
  let mode: ReplicaMode;
  if (existingPartitions === undefined) {
    mode = choice === "translate" || !targetIsFerry ? "translate" : "mirror";
    if (choice === "mirror" && !targetIsFerry)
      throw new Error("mirror mode needs a Ferry broker as the target");
    const configs =
      mode === "mirror"
        ? {
            ...copied,
            [MIRROR_SOURCE_CONFIG]: mirrorSourceValue(ctx.sourceClusterId, name),
            [MIRROR_LINK_CONFIG]: ctx.name,
          }
        : copied;
    await createTopic(ctx.target, ctx.targetAdmin, {
      name: targetName,
      numPartitions: partitions,
      replicationFactor: -1,
      configs,
    });
    // Someone may have created it a moment before (createTopic then does nothing): the topic
    // must be what this link asked for.
    if (mode === "mirror") {
      const created = await topicConfigs(ctx.targetAdmin, targetName);
      checkMirrorSource(ctx, targetName, name, created);
      await claimMirror(ctx, targetName, created);
    }
    ctx.logger.info("target topic created", { topic: targetName, partitions, mode });
  } else {
    const targetConfigs = targetIsFerry ? await topicConfigs(ctx.targetAdmin, targetName) : [];
    const mirrorValue = targetConfigs.find((c) => c.name === MIRROR_SOURCE_CONFIG)?.value ?? null;
    if (mirrorValue !== null) {
      checkMirrorSource(ctx, targetName, name, targetConfigs);
      if (choice === "translate") throw new Error(`target topic ${targetName} is a read-only mirror topic`);
      await claimMirror(ctx, targetName, targetConfigs);
      mode = "mirror";
    } else {
      if (choice === "mirror") throw new Error(`target topic ${targetName} exists and is not a mirror topic`);
      mode = "translate";
    }
    if (existingPartitions < partitions) await ctx.targetAdmin.createPartitions(targetName, partitions);
  }
  const topic: AttachedTopic = { source: name, target: targetName, mode, partitions: 0 };
  await grow(ctx, topic, partitions, existingPartitions ?? partitions);
  state.attached.set(name, topic);
  return undefined;
}

/**
 * Makes sure this link owns the mirror topic (ferry.mirror.link): a mirror from before the
 * setting is claimed; one another link owns is refused, as two writers of one mirror would
 * each be promoted by the other's failover.
 */
async function claimMirror(ctx: LinkContext, topic: string, configs: readonly ConfigEntry[]): Promise<void> {
  const owner = configs.find((c) => c.name === MIRROR_LINK_CONFIG)?.value ?? null;
  if (owner === ctx.name) return;
  if (owner !== null) {
    throw new Error(
      `target topic ${topic} is the mirror of link ${owner}; a mirror topic has one link ` +
        `(set ${MIRROR_LINK_CONFIG} to ${ctx.name} on it to hand it over)`,
    );
  }
  await ctx.targetAdmin.incrementalAlterConfigs(ResourceType.TOPIC, topic, [
    { name: MIRROR_LINK_CONFIG, value: ctx.name, op: ConfigOp.SET },
  ]);
  // Two links claiming one unowned mirror at once: the last to set it wins, the other sees it here.
  const now = await topicConfigs(ctx.targetAdmin, topic);
  const winner = now.find((c) => c.name === MIRROR_LINK_CONFIG)?.value ?? null;
  if (winner !== ctx.name) {
    throw new Error(`target topic ${topic} was claimed by link ${winner ?? "(none)"} at the same time`);
  }
  ctx.logger.info("mirror topic claimed", { topic });
}

/** Throws unless the target topic is a mirror of this link's source topic. */
function checkMirrorSource(
  ctx: LinkContext,
  topic: string,
  sourceTopic: string,
  configs: readonly ConfigEntry[],
): void {
  const value = configs.find((c) => c.name === MIRROR_SOURCE_CONFIG)?.value ?? null;
  if (value === mirrorSourceValue(ctx.sourceClusterId, sourceTopic)) return;
  throw new Error(
    value === null
      ? `target topic ${topic} exists and is not a mirror topic`
      : `target topic ${topic} is a mirror of ${value}, not of this link's source`,
  );
}

/** Adds replicas for partitions [topic.partitions, count), creating target partitions first. */
async function grow(
  ctx: LinkContext,
  topic: AttachedTopic,
  count: number,
  targetCount: number,
): Promise<void> {
  if (targetCount < count) {
    await ctx.targetAdmin.createPartitions(topic.target, count);
    ctx.logger.info("target partitions added", { topic: topic.target, partitions: count });
  }
  const fresh: PartitionReplica[] = [];
  for (let p = topic.partitions; p < count; p++)
    fresh.push(new PartitionReplica(topic.source, p, topic.target, topic.mode));
  await (topic.mode === "mirror" ? startMirrors(ctx, fresh) : startTranslations(ctx, fresh));
  for (const r of fresh) ctx.replicas.set(r.key, r);
  topic.partitions = count;
}

function detach(ctx: LinkContext, topic: AttachedTopic): void {
  for (let p = 0; p < topic.partitions; p++) {
    const r = ctx.replicas.get(`${topic.source}/${p}`);
    if (r !== undefined) r.removed = true;
    ctx.replicas.delete(`${topic.source}/${p}`);
  }
}

async function offsetsOf(
  cluster: LinkContext["source"],
  topic: string,
  partitions: readonly number[],
): Promise<{ start: number; end: number }[]> {
  // One request per kind: a ListOffsets request names each partition once.
  const [starts, ends] = await Promise.all([
    listOffsets(
      cluster,
      partitions.map((partition) => ({ topic, partition, timestamp: OffsetSpec.EARLIEST })),
    ),
    listOffsets(
      cluster,
      partitions.map((partition) => ({ topic, partition, timestamp: OffsetSpec.LATEST })),
    ),
  ]);
  return partitions.map((_, i) => ({
    start: Number(starts[i]?.offset ?? 0n),
    end: Number(ends[i]?.offset ?? 0n),
  }));
}

/**
 * A mirror resumes at its own log end offset; an empty one starts at the source's log start.
 * A mirror that ends below the source's log start lost that range to source retention.
 */
async function startMirrors(ctx: LinkContext, replicas: readonly PartitionReplica[]): Promise<void> {
  if (replicas.length === 0) return;
  const first = replicas[0] as PartitionReplica;
  const ps = replicas.map((r) => r.partition);
  const [src, tgt] = await Promise.all([
    offsetsOf(ctx.source, first.sourceTopic, ps),
    offsetsOf(ctx.target, first.targetTopic, ps),
  ]);
  replicas.forEach((r, i) => {
    const s = src[i] as { start: number; end: number };
    const t = tgt[i] as { start: number; end: number };
    let start = t.end;
    if (t.end === 0 && t.start === 0) start = s.start;
    else if (t.end < s.start) {
      r.lost.push({ from: t.end, to: s.start, at: Date.now() });
      r.lostRecords += s.start - t.end;
      ctx.logger.error("source deleted records before the link copied them", {
        topic: r.sourceTopic,
        partition: r.partition,
        from: t.end,
        to: s.start,
      });
      start = s.start;
    }
    r.fetchOffset = r.writtenOffset = start;
    r.sourceEnd = s.end;
    r.ready = true;
  });
}

/**
 * A translation replica resumes from its checkpoint (then scans the target for its own writes
 * past it); a new one starts at the source's log start, and its first checkpoint is written
 * before anything is copied, so a crash can never leave writes the link does not know about.
 */
async function startTranslations(ctx: LinkContext, replicas: readonly PartitionReplica[]): Promise<void> {
  if (replicas.length === 0) return;
  const first = replicas[0] as PartitionReplica;
  const ps = replicas.map((r) => r.partition);
  const [src, tgt] = await Promise.all([
    offsetsOf(ctx.source, first.sourceTopic, ps),
    offsetsOf(ctx.target, first.targetTopic, ps),
  ]);
  const writes = [];
  for (let i = 0; i < replicas.length; i++) {
    const r = replicas[i] as PartitionReplica;
    const s = src[i] as { start: number; end: number };
    const checkpoint = readCheckpoint(ctx.state, ctx.name, r.sourceTopic, r.partition);
    if (checkpoint !== undefined) {
      for (const run of readRuns(ctx.state, ctx.name, r.sourceTopic, r.partition)) r.offsetMap.load(run);
      r.writtenOffset = r.fetchOffset = checkpoint.src;
      r.targetNext = checkpoint.tgt;
      r.needsResync = true;
    } else {
      r.writtenOffset = r.fetchOffset = s.start;
      r.targetNext = (tgt[i] as { end: number }).end;
      writes.push({
        key: checkpointKey(ctx.name, r.sourceTopic, r.partition),
        value: { src: r.writtenOffset, tgt: r.targetNext },
      });
    }
    r.sourceEnd = s.end;
  }
  await ctx.state.write(writes);
  for (const r of replicas) r.ready = true;
}
