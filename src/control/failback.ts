// Failback after a failover: once the old primary is back, finds per partition where the two
// sides diverged (the failover marker holds the replicated end at the failover; in translation
// mode the link's offset map says which record that was), keeps the records the old primary has
// past that point in a side topic on the current primary, makes the old primary the reverse
// link's target (see failback-reverse.ts), and hands back the reverse link to run. A planned
// switch back is then `failover` of the reverse link.
import { Admin } from "../client/admin.ts";
import { Cluster, type ClusterOptions } from "../client/cluster.ts";
import { isFerryBroker } from "../client/mirror-append.ts";
import { listOffsets, OffsetSpec } from "../client/offsets.ts";
import { Producer } from "../client/producer.ts";
import { createTopic } from "../link/create-topic.ts";
import { LinkStateStore } from "../link/link-state-store.ts";
import type { ModeChoice } from "../link/topic-sync.ts";
import type { Logger } from "../util/logger.ts";
import {
  forgetCopyState,
  lastReplicatedOffset,
  reverseMirrors,
  reverseTranslationState,
  type ReversedPartition,
} from "./failback-reverse.ts";
import {
  failbackKey,
  failoverKey,
  LinkStateError,
  readFailoverMarker,
  readRange,
  requireRegistration,
  type FailoverMarker,
} from "./failover-state.ts";

export interface FailbackOptions {
  link: string;
  /** The failed-over link's source: the old primary, back again. */
  oldPrimary: string;
  /** The failed-over link's target: the current primary. */
  current: string;
  /** Client settings for both clusters; `oldClient` and `currentClient` add to them per side. */
  client?: Partial<ClusterOptions>;
  oldClient?: Partial<ClusterOptions>;
  currentClient?: Partial<ClusterOptions>;
  logger?: Logger;
}

export interface DivergedPartition {
  /** The topic on the old primary. */
  topic: string;
  /** The topic on the current primary (differs when the link renames). */
  currentTopic: string;
  partition: number;
  /** How the failed-over link copied the partition. */
  mode: "mirror" | "translate";
  /** How the reverse link copies it back. */
  reverseMode: "mirror" | "translate";
  /** The first offset of the old primary the current primary did not get. */
  divergencePoint: number;
  /** The old primary's last record that reached the current primary (-1: none). */
  lastReplicatedOffset: number;
  /** Where the current primary's own records start (the reverse link copies from here). */
  currentFrom: number;
  /** The old primary's log end when it came back. */
  oldEnd: number;
  /** Offsets on the old primary past the divergence point (records the current primary never got). */
  divergedOffsets: number;
  /** Data records among them, written to the side topic. */
  keptRecords: number;
  /**
   * Records among them left out: of transactions aborted, or still open when the old primary
   * came back (no consumer ever saw them).
   */
  uncommittedRecords: number;
  sideTopic: string | null;
}

export interface ReverseLinkSpec {
  name: string;
  source: string;
  target: string;
  /** Whole-name regex of the current primary's topics. */
  topics: string;
  prefix: string;
  stripPrefix: string;
  /** mirror or translate when every topic goes back one way; auto when they differ. */
  mode: ModeChoice;
}

export interface FailbackReport {
  link: string;
  /** When the failback was prepared. */
  preparedAt: number;
  /**
   * True when it had been prepared before: this call changed nothing and hands back the same
   * reverse link (to run it again, e.g. after a restart of `ferry up`).
   */
  resumed: boolean;
  reverseLink: ReverseLinkSpec;
  partitions: DivergedPartition[];
  divergedRecords: number;
  /** Every diverged data record was written to its side topic and acknowledged. */
  divergedKept: boolean;
  /** Topics recreated on the old primary as empty mirrors (they had diverged: full copy back). */
  recreatedTopics: string[];
  /** Topics turned back into mirrors in place (no divergence: copying resumes at the divergence point). */
  remirroredTopics: string[];
  /**
   * Topics copied back in translation mode: the reverse link appends after the old primary's end,
   * so its diverged records stay in its log (and are in the side topic); consumers moved back
   * resume past them.
   */
  translatedTopics: string[];
}

const REVERSE = ".reverse";

/** The reverse of a link's name: "x" ⇄ "x.reverse". */
export function reverseLinkName(link: string): string {
  return isReverseLinkName(link) ? link.slice(0, -REVERSE.length) : `${link}${REVERSE}`;
}

/** Whether a link's name is that of a reverse link ("x.reverse"). */
export function isReverseLinkName(link: string): boolean {
  return link.endsWith(REVERSE);
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
  const current = new Cluster({
    clientId: "ferry-failback",
    ...options.client,
    ...options.currentClient,
    bootstrap: options.current,
  });
  const old = new Cluster({
    clientId: "ferry-failback",
    ...options.client,
    ...options.oldClient,
    bootstrap: options.oldPrimary,
  });
  try {
    const currentAdmin = new Admin(current);
    const oldAdmin = new Admin(old);
    const store = await LinkStateStore.open(current, currentAdmin);
    const reg = requireRegistration(store, options.link);
    const marker = readFailoverMarker(store, options.link);
    const reverse = reverseLinkName(options.link);
    if (marker === undefined) {
      throw new LinkStateError(
        `link '${options.link}' has not been failed over; there is nothing to fail back`,
      );
    }
    const prepared = store.get(failbackKey(options.link));
    if (prepared !== undefined) {
      const switchedBack = readFailoverMarker(await LinkStateStore.openReadOnly(old, oldAdmin), reverse);
      if (switchedBack !== undefined) {
        throw new LinkStateError(
          `link '${reverse}' was failed over at ${new Date(switchedBack.at).toISOString()}: the switch back is done; ` +
            `\`ferry failback ${reverse}\` starts ${options.link} again`,
        );
      }
      const report = prepared as unknown as FailbackReport;
      return {
        ...report,
        resumed: true,
        reverseLink: { ...report.reverseLink, source: options.current, target: options.oldPrimary },
      };
    }
    const oldInfo = await oldAdmin.describeCluster();
    if (oldInfo.clusterId !== marker.sourceClusterId) {
      throw new LinkStateError(
        `${options.oldPrimary} is cluster ${String(oldInfo.clusterId)}, but link '${options.link}' copied from ${marker.sourceClusterId}`,
      );
    }
    const currentId = (await currentAdmin.describeCluster()).clusterId ?? marker.targetClusterId;
    const oldIsFerry = await isFerryBroker(old);
    const found = await reversedPartitions(old, marker);
    const partitions: DivergedPartition[] = found.map((p) => ({
      topic: p.oldTopic,
      currentTopic: p.currentTopic,
      partition: p.partition,
      mode: p.mode,
      // A mirror needs a Ferry broker as its target; anything else is copied back by translation.
      reverseMode: p.mode === "mirror" && oldIsFerry ? "mirror" : "translate",
      divergencePoint: p.divergencePoint,
      lastReplicatedOffset: lastReplicatedOffset(store, options.link, p),
      currentFrom: p.currentFrom,
      oldEnd: p.oldEnd,
      divergedOffsets: Math.max(0, p.oldEnd - p.divergencePoint),
      keptRecords: 0,
      uncommittedRecords: 0,
      sideTopic: null,
    }));
    const allKept = await keepDiverged(old, current, currentAdmin, options.link, marker, partitions);
    const mirrors = found.filter((_, i) => partitions[i]?.reverseMode === "mirror");
    const translated = found.filter((_, i) => partitions[i]?.reverseMode === "translate");
    const { remirrored, recreated } = await reverseMirrors(old, oldAdmin, currentId, reverse, mirrors);
    // The reverse link's state on the old primary: an earlier round trip's goes, this one's is seeded.
    const oldStore = await LinkStateStore.open(old, oldAdmin);
    await oldStore.write([
      ...forgetCopyState(oldStore, reverse),
      ...[failoverKey(reverse), failbackKey(reverse)]
        .filter((k) => oldStore.get(k) !== undefined)
        .map((key) => ({ key, value: null })),
      ...reverseTranslationState(store, options.link, reverse, translated),
    ]);
    const divergedRecords = partitions.reduce((n, p) => n + p.keptRecords, 0);
    const modes = new Set(partitions.map((p) => p.reverseMode));
    const report: FailbackReport = {
      link: options.link,
      preparedAt: Date.now(),
      resumed: false,
      reverseLink: {
        name: reverse,
        source: options.current,
        target: options.oldPrimary,
        topics: [...new Set(found.map((p) => p.currentTopic))].map(escapeRegex).join("|"),
        prefix: reg.stripPrefix ?? "",
        stripPrefix: reg.prefix,
        mode: modes.size === 1 ? ([...modes][0] as "mirror" | "translate") : "auto",
      },
      partitions,
      divergedRecords,
      divergedKept: allKept,
      recreatedTopics: recreated,
      remirroredTopics: remirrored,
      translatedTopics: [...new Set(translated.map((p) => p.oldTopic))],
    };
    // Recorded last: a failback interrupted before this point can be run again.
    await store.write([{ key: failbackKey(options.link), value: { ...report } }]);
    options.logger?.info("failback prepared", { link: options.link, divergedRecords, reverse });
    return report;
  } finally {
    await Promise.allSettled([current.close(), old.close()]);
  }
}

/** The marker's partitions with the old primary's log start and end now. */
async function reversedPartitions(old: Cluster, marker: FailoverMarker): Promise<ReversedPartition[]> {
  const asks = marker.partitions.map((p) => ({ topic: p.sourceTopic, partition: p.partition }));
  const [starts, ends] = await Promise.all([
    listOffsets(
      old,
      asks.map((a) => ({ ...a, timestamp: OffsetSpec.EARLIEST })),
    ),
    listOffsets(
      old,
      asks.map((a) => ({ ...a, timestamp: OffsetSpec.LATEST })),
    ),
  ]);
  return marker.partitions.map((p, i) => ({
    oldTopic: p.sourceTopic,
    currentTopic: p.targetTopic,
    partition: p.partition,
    mode: p.mode,
    divergencePoint: p.source,
    currentFrom: p.target,
    oldStart: Number(starts[i]?.offset ?? 0n),
    oldEnd: Number(ends[i]?.offset ?? 0n),
  }));
}

/**
 * Writes the old primary's records past each divergence point, with key, value, headers and
 * timestamp, to the side topic on the current primary (same partition), adding headers that
 * say where each came from. Returns whether every one was acknowledged.
 */
async function keepDiverged(
  old: Cluster,
  current: Cluster,
  currentAdmin: Admin,
  link: string,
  marker: FailoverMarker,
  partitions: DivergedPartition[],
): Promise<boolean> {
  const producer = new Producer(current, { acks: -1, idempotent: true });
  const sideTopics = new Set<string>();
  let allKept = true;
  try {
    for (const entry of partitions) {
      if (entry.oldEnd <= entry.divergencePoint) continue;
      const { records, uncommitted } = await readRange(
        old,
        entry.topic,
        entry.partition,
        entry.divergencePoint,
        entry.oldEnd,
      );
      entry.uncommittedRecords = uncommitted;
      const side = divergedTopicName(link, entry.topic);
      if (!sideTopics.has(side)) {
        const count =
          Math.max(
            ...marker.partitions.filter((x) => x.sourceTopic === entry.topic).map((x) => x.partition),
          ) + 1;
        if (!(await currentAdmin.listTopics()).includes(side)) {
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
          { partition: entry.partition },
        );
        entry.keptRecords += chunk.length;
      }
      if (entry.keptRecords !== records.length) allKept = false;
    }
  } finally {
    await producer.close();
  }
  return allKept;
}
