// What failover, failback and migration read about a link from its target cluster, where the
// link keeps its state (`__ferry_link_state`): its registration, the partitions it copies
// (mirror topics naming its source, or translation checkpoints), how far each is replicated,
// and the failover marker that failback reads the divergence points from.
import { ResourceType, type Admin } from "../client/admin.ts";
import type { Cluster } from "../client/cluster.ts";
import { fetchRaw, IsolationLevel } from "../client/consumer.ts";
import { listOffsets, OffsetSpec } from "../client/offsets.ts";
import { MIRROR_LINK_CONFIG, MIRROR_SOURCE_CONFIG, parseMirrorSource } from "../link/config-policy.ts";
import {
  failoverKey,
  readCheckpoint,
  readRegistration,
  readRuns,
  type LinkRegistration,
} from "../link/link-registry.ts";
import type { LinkStateStore } from "../link/link-state-store.ts";
import { OffsetMap } from "../link/offset-map.ts";
import type { ReplicaMode } from "../link/partition-replica.ts";
import { targetTopicName } from "../link/topic-naming.ts";
import { decodeBatches } from "../protocol/records/batch-codec.ts";
import { isControl, isTransactional, iterateBatches } from "../protocol/records/batch-header.ts";
import { ControlRecordType } from "../protocol/records/control.ts";
import type { DecodedRecord } from "../protocol/records/record.ts";

/** One partition a link copies, as its target knows it. */
export interface LinkPartition {
  sourceTopic: string;
  targetTopic: string;
  partition: number;
  mode: ReplicaMode;
}

/** Where one partition's replication stands: every source offset below `source` is on the target. */
export interface ReplicatedPosition {
  /** Source offset: everything below is on the target (mirror: the target's log end). */
  source: number;
  /** Target offset where the next copied record would land. */
  target: number;
}

/** Per partition, where the link stood when it was failed over: the divergence points. */
export interface FailoverMarker {
  link: string;
  at: number;
  sourceClusterId: string;
  targetClusterId: string;
  forced: boolean;
  partitions: (LinkPartition & ReplicatedPosition)[];
}

/** Chooses source topics by name (a whole-name RegExp, or a link's topic filter). */
export interface TopicSelector {
  test(topic: string): boolean;
}

/** The link has no state on the cluster given as its target, or its state says it cannot be used. */
export class LinkStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkStateError";
  }
}

export { failoverKey };

/** Written by `ferry failback` on the current primary: its report; a second failback hands it back, changing nothing. */
export function failbackKey(link: string): string {
  return `failback/${link}`;
}

/** The link's registration on its target; throws LinkStateError when the link never wrote there. */
export function requireRegistration(store: LinkStateStore, link: string): LinkRegistration {
  const reg = readRegistration(store, link);
  if (reg === undefined) {
    throw new LinkStateError(`no link '${link}' is registered in this cluster's __ferry_link_state`);
  }
  return reg;
}

export function readFailoverMarker(store: LinkStateStore, link: string): FailoverMarker | undefined {
  const v = store.get(failoverKey(link));
  return v === undefined ? undefined : (v as unknown as FailoverMarker);
}

/**
 * The partitions a link copies into `target`: mirror topics whose ferry.mirror.source names the
 * link's source cluster (promoted ones are found through a failover marker instead), and
 * translated partitions with a checkpoint. `topics` filters by source topic name.
 */
export async function linkPartitions(
  target: Cluster,
  admin: Admin,
  store: LinkStateStore,
  reg: LinkRegistration,
  topics: TopicSelector | undefined,
  targetIsFerry: boolean,
): Promise<LinkPartition[]> {
  const out: LinkPartition[] = [];
  const selected = (t: string): boolean => topics === undefined || topics.test(t);
  const meta = await target.withRetries(() => target.refreshMetadata(null));
  if (targetIsFerry) {
    for (const t of meta.topics.values()) {
      if (t.isInternal || t.errorCode !== 0 || t.name.startsWith("__")) continue;
      const configs = await admin.describeConfigs(ResourceType.TOPIC, t.name, [
        MIRROR_SOURCE_CONFIG,
        MIRROR_LINK_CONFIG,
      ]);
      const mirror = parseMirrorSource(configs.find((c) => c.name === MIRROR_SOURCE_CONFIG)?.value);
      if (mirror === null || mirror.clusterId !== reg.sourceClusterId) continue;
      // Another link's mirror of the same source (a mirror from before owners were recorded has none).
      const owner = configs.find((c) => c.name === MIRROR_LINK_CONFIG)?.value ?? null;
      if (owner !== null && owner !== reg.name) continue;
      if (targetTopicName(reg, mirror.topic) !== t.name || !selected(mirror.topic)) continue;
      for (const p of t.partitions) {
        out.push({ sourceTopic: mirror.topic, targetTopic: t.name, partition: p.partition, mode: "mirror" });
      }
    }
  }
  const prefix = `ckpt/${reg.name}/`;
  for (const [key] of store.entries(prefix)) {
    const rest = key.slice(prefix.length);
    const slash = rest.lastIndexOf("/");
    const topic = rest.slice(0, slash);
    const partition = Number(rest.slice(slash + 1));
    const targetTopic = targetTopicName(reg, topic);
    if (!Number.isInteger(partition) || !selected(topic) || targetTopic === undefined) continue;
    if (!meta.topics.has(targetTopic)) continue;
    out.push({ sourceTopic: topic, targetTopic, partition, mode: "translate" });
  }
  return out.sort((a, b) => a.sourceTopic.localeCompare(b.sourceTopic) || a.partition - b.partition);
}

/** How far each partition is replicated, read from the target: log end (mirror) or checkpoint (translation). */
export async function replicatedPositions(
  target: Cluster,
  store: LinkStateStore,
  link: string,
  parts: readonly LinkPartition[],
): Promise<ReplicatedPosition[]> {
  await store.refresh();
  const mirrors = parts.filter((p) => p.mode === "mirror");
  const ends =
    mirrors.length === 0
      ? []
      : await listOffsets(
          target,
          mirrors.map((p) => ({
            topic: p.targetTopic,
            partition: p.partition,
            timestamp: OffsetSpec.LATEST,
          })),
        );
  const endOf = new Map<string, number>();
  mirrors.forEach((p, i) => endOf.set(`${p.targetTopic}/${p.partition}`, Number(ends[i]?.offset ?? 0n)));
  return parts.map((p) => {
    if (p.mode === "mirror") {
      const end = endOf.get(`${p.targetTopic}/${p.partition}`) ?? 0;
      return { source: end, target: end };
    }
    const c = readCheckpoint(store, link, p.sourceTopic, p.partition);
    return { source: c?.src ?? 0, target: c?.tgt ?? 0 };
  });
}

/** The source's end per partition as the link copies it: high watermark (mirror) or last stable offset (translation). */
export async function sourceEnds(source: Cluster, parts: readonly LinkPartition[]): Promise<number[]> {
  const out = new Array<number>(parts.length).fill(0);
  for (const mode of ["mirror", "translate"] as const) {
    const idx = parts.map((p, i) => (p.mode === mode ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) continue;
    const answers = await listOffsets(
      source,
      idx.map((i) => {
        const p = parts[i] as LinkPartition;
        return { topic: p.sourceTopic, partition: p.partition, timestamp: OffsetSpec.LATEST };
      }),
      mode === "mirror" ? IsolationLevel.READ_UNCOMMITTED : IsolationLevel.READ_COMMITTED,
    );
    idx.forEach((i, j) => (out[i] = Number(answers[j]?.offset ?? 0n)));
  }
  return out;
}

/** The link's offset map of one translated partition, loaded from its state. */
export function offsetMapOf(store: LinkStateStore, link: string, p: LinkPartition): OffsetMap {
  const map = new OffsetMap();
  for (const run of readRuns(store, link, p.sourceTopic, p.partition)) map.load(run);
  return map;
}

/**
 * The target offset a committed source offset maps to. An offset beyond what was replicated
 * maps to the replicated end: the first record the target will have.
 */
export function translateCommitted(
  store: LinkStateStore,
  link: string,
  p: LinkPartition,
  pos: ReplicatedPosition,
  offset: number,
): number {
  if (p.mode === "mirror") return Math.min(offset, pos.source);
  if (offset >= pos.source) return pos.target;
  return offsetMapOf(store, link, p).translate(offset, pos.source, pos.target) ?? pos.target;
}

/** A record read back with its offset. */
export interface OffsetRecord extends DecodedRecord {
  offset: number;
}

/** What readRange found in a range: its committed data records, and those it left out. */
export interface RangeRecords {
  /** Data records outside transactions, and of transactions committed within the range, by offset. */
  records: OffsetRecord[];
  /** Records of transactions aborted in the range, or with no marker before its end (still open). */
  uncommitted: number;
}

/**
 * The committed data records of [from, to) of one partition. Read read_uncommitted to the end
 * of the range (read_committed would stop at an open transaction, leaving later committed
 * records unread), with each transaction's records held until its marker: a COMMIT keeps
 * them, an ABORT drops them, and a transaction with no marker before `to` counts as
 * uncommitted. No consumer ever saw those; they are counted, not returned.
 */
export async function readRange(
  cluster: Cluster,
  topic: string,
  partition: number,
  from: number,
  to: number,
): Promise<RangeRecords> {
  const records: OffsetRecord[] = [];
  const open = new Map<bigint, OffsetRecord[]>();
  let uncommitted = 0;
  let offset = from;
  while (offset < to) {
    const [a] = await fetchRaw(cluster, [{ topic, partition, offset: BigInt(offset) }], {
      maxWaitMs: 0,
      partitionMaxBytes: 4 << 20,
    });
    if (a === undefined) break;
    if (a.error !== undefined) throw a.error;
    let end = 0;
    for (const span of iterateBatches(a.records)) if (!span.truncated) end = span.end;
    const before = offset;
    for (const batch of decodeBatches(a.records.subarray(0, end))) {
      const h = batch.header;
      const base = Number(h.baseOffset);
      offset = Math.max(offset, base + h.lastOffsetDelta + 1);
      if (isControl(h.attributes)) {
        const key = batch.records[0]?.key;
        const type = key !== null && key !== undefined && key.length >= 4 ? key.readInt16BE(2) : -1;
        const held = open.get(h.producerId);
        open.delete(h.producerId);
        if (held === undefined) continue;
        if (type === ControlRecordType.COMMIT) records.push(...held);
        else uncommitted += held.length;
        continue;
      }
      let into = records;
      if (isTransactional(h.attributes)) {
        into = open.get(h.producerId) ?? [];
        open.set(h.producerId, into);
      }
      for (const r of batch.records) {
        const o = base + r.offsetDelta;
        if (o >= from && o < to) into.push({ ...r, offset: o });
      }
    }
    if (offset === before) break;
  }
  for (const held of open.values()) uncommitted += held.length;
  // Committed transactions joined the list at their markers.
  records.sort((x, y) => x.offset - y.offset);
  return { records, uncommitted };
}
