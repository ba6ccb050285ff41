// Failback after a failover: once the old primary is back, finds per partition where the two
// sides diverged (the failover marker holds the replicated end at the failover), keeps the
// records the old primary has past that point in a side topic on the current primary, makes
// the old primary's topics mirrors of the current primary again, and hands back the reverse
// link to run. A planned switch back is then `failover` of the reverse link.
import { Admin, ConfigOp, ResourceType } from "../client/admin.ts";
import { Cluster, type ClusterOptions } from "../client/cluster.ts";
import { listOffsets, OffsetSpec } from "../client/offsets.ts";
import { Producer } from "../client/producer.ts";
import { MIRROR_SOURCE_CONFIG, mirrorSourceValue } from "../link/config-policy.ts";
import { createTopic } from "../link/create-topic.ts";
import { LinkStateStore } from "../link/link-state-store.ts";
import type { Logger } from "../util/logger.ts";
import {
  failoverKey,
  LinkStateError,
  readFailoverMarker,
  readRange,
  requireRegistration,
} from "./failover-state.ts";

export interface FailbackOptions {
  link: string;
  /** The failed-over link's source: the old primary, back again. */
  oldPrimary: string;
  /** The failed-over link's target: the current primary. */
  current: string;
  client?: Partial<ClusterOptions>;
  logger?: Logger;
}

export interface DivergedPartition {
  topic: string;
  partition: number;
  /** The first offset the current primary did not get from the old one. */
  divergencePoint: number;
  /** The old primary's log end when it came back. */
  oldEnd: number;
  /** Offsets on the old primary past the divergence point (records the current primary never got). */
  divergedOffsets: number;
  /** Data records among them, written to the side topic. */
  keptRecords: number;
  sideTopic: string | null;
}

export interface FailbackReport {
  link: string;
  reverseLink: { name: string; source: string; target: string; topics: string };
  partitions: DivergedPartition[];
  divergedRecords: number;
  /** Every diverged data record was written to its side topic and acknowledged. */
  divergedKept: boolean;
  /** Topics recreated on the old primary as empty mirrors (they had diverged: full copy back). */
  recreatedTopics: string[];
  /** Topics turned back into mirrors in place (no divergence: copying resumes at the divergence point). */
  remirroredTopics: string[];
}

/** The reverse of a link's name: "x" ⇄ "x.reverse". */
export function reverseLinkName(link: string): string {
  return link.endsWith(".reverse") ? link.slice(0, -".reverse".length) : `${link}.reverse`;
}

/** The side topic for a topic's diverged records. */
export function divergedTopicName(link: string, topic: string): string {
  return `ferry-diverged.${link}.${topic}`;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Prepares a failback; the caller then runs `reverseLink` (Link.start) until it has caught up. */
export async function failback(options: FailbackOptions): Promise<FailbackReport> {
  const current = new Cluster({ clientId: "ferry-failback", ...options.client, bootstrap: options.current });
  const old = new Cluster({ clientId: "ferry-failback", ...options.client, bootstrap: options.oldPrimary });
  try {
    const currentAdmin = new Admin(current);
    const oldAdmin = new Admin(old);
    const store = await LinkStateStore.open(current, currentAdmin);
    const reg = requireRegistration(store, options.link);
    const marker = readFailoverMarker(store, options.link);
    if (marker === undefined) {
      throw new LinkStateError(
        `link '${options.link}' has not been failed over; there is nothing to fail back`,
      );
    }
    if (reg.prefix !== "") {
      throw new LinkStateError(
        `link '${options.link}' renames topics (prefix ${reg.prefix}); failback needs identity names`,
      );
    }
    if (marker.partitions.some((p) => p.mode !== "mirror")) {
      throw new LinkStateError(
        "failback supports mirror-mode links (Ferry brokers on both sides) only, for now",
      );
    }
    const oldInfo = await oldAdmin.describeCluster();
    if (oldInfo.clusterId !== marker.sourceClusterId) {
      throw new LinkStateError(
        `${options.oldPrimary} is cluster ${String(oldInfo.clusterId)}, but link '${options.link}' copied from ${marker.sourceClusterId}`,
      );
    }
    const currentId = (await currentAdmin.describeCluster()).clusterId ?? marker.targetClusterId;
    const ends = await listOffsets(
      old,
      marker.partitions.map((p) => ({
        topic: p.sourceTopic,
        partition: p.partition,
        timestamp: OffsetSpec.LATEST,
      })),
    );
    const partitions: DivergedPartition[] = [];
    const producer = new Producer(current, { acks: -1, idempotent: true });
    const sideTopics = new Set<string>();
    let allKept = true;
    for (let i = 0; i < marker.partitions.length; i++) {
      const p = marker.partitions[i];
      if (p === undefined) continue;
      const oldEnd = Number(ends[i]?.offset ?? 0n);
      const d = p.source;
      const entry: DivergedPartition = {
        topic: p.sourceTopic,
        partition: p.partition,
        divergencePoint: d,
        oldEnd,
        divergedOffsets: Math.max(0, oldEnd - d),
        keptRecords: 0,
        sideTopic: null,
      };
      partitions.push(entry);
      if (oldEnd <= d) continue;
      const records = await readRange(old, p.sourceTopic, p.partition, d, oldEnd);
      const side = divergedTopicName(options.link, p.sourceTopic);
      if (!sideTopics.has(side)) {
        const count = marker.partitions.filter((x) => x.sourceTopic === p.sourceTopic).length;
        const existing = await currentAdmin.listTopics();
        if (!existing.includes(side)) {
          await createTopic(current, currentAdmin, {
            name: side,
            numPartitions: count,
            replicationFactor: -1,
            configs: {},
          });
        }
        sideTopics.add(side);
      }
      entry.sideTopic = side;
      for (let at = 0; at < records.length; at += 500) {
        const chunk = records.slice(at, at + 500);
        await producer.send(
          side,
          chunk.map((r) => ({
            key: r.key,
            value: r.value,
            timestamp: r.timestamp,
            headers: [
              ...r.headers,
              { key: "ferry.diverged.cluster", value: Buffer.from(marker.sourceClusterId) },
              { key: "ferry.diverged.offset", value: Buffer.from(String(r.offset)) },
            ],
          })),
          { partition: p.partition },
        );
        entry.keptRecords += chunk.length;
      }
      if (entry.keptRecords !== records.length) allKept = false;
    }
    await producer.close();
    // The old primary becomes a mirror of the current one: in place where nothing diverged,
    // else as a new empty mirror (a Ferry broker cannot cut a log's tail), copied back in full.
    const recreated: string[] = [];
    const remirrored: string[] = [];
    const topics = [...new Set(marker.partitions.map((p) => p.sourceTopic))];
    for (const topic of topics) {
      const value = mirrorSourceValue(currentId, reg.prefix + topic);
      const diverged = partitions.some((p) => p.topic === topic && p.divergedOffsets > 0);
      if (!diverged) {
        await oldAdmin.incrementalAlterConfigs(ResourceType.TOPIC, topic, [
          { name: MIRROR_SOURCE_CONFIG, value, op: ConfigOp.SET },
        ]);
        remirrored.push(topic);
        continue;
      }
      const count = marker.partitions.filter((x) => x.sourceTopic === topic).length;
      await oldAdmin.deleteTopics([topic]);
      await createTopic(old, oldAdmin, {
        name: topic,
        numPartitions: count,
        replicationFactor: -1,
        configs: { [MIRROR_SOURCE_CONFIG]: value },
      });
      recreated.push(topic);
    }
    // The reverse link may have been failed over before (a second round trip): its marker goes.
    const reverse = reverseLinkName(options.link);
    const oldStore = await LinkStateStore.open(old, oldAdmin);
    if (readFailoverMarker(oldStore, reverse) !== undefined) {
      await oldStore.write([{ key: failoverKey(reverse), value: null }]);
    }
    const divergedRecords = partitions.reduce((n, p) => n + p.keptRecords, 0);
    options.logger?.info("failback prepared", { link: options.link, divergedRecords, reverse });
    return {
      link: options.link,
      reverseLink: {
        name: reverse,
        source: options.current,
        target: options.oldPrimary,
        topics: topics.map(escapeRegex).join("|"),
      },
      partitions,
      divergedRecords,
      divergedKept: allKept,
      recreatedTopics: recreated,
      remirroredTopics: remirrored,
    };
  } finally {
    await Promise.allSettled([current.close(), old.close()]);
  }
}
