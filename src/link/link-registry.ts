// The records a link keeps about itself on its target: its registration (source cluster,
// prefix, and every producer id it has written with), per-partition checkpoints, and offset
// map runs. Keys are "kind/link/..." strings; values small JSON objects.
import type { LinkStateStore, StateWrite } from "./link-state-store.ts";
import type { OffsetRun } from "./offset-map.ts";

export interface LinkRegistration {
  name: string;
  sourceClusterId: string;
  targetClusterId: string;
  prefix: string;
  /** Removed from source topic names before `prefix` is added (a failback's reverse link); absent: none. */
  stripPrefix?: string;
  /** Decimal strings: producer ids are int64. */
  producerIds: string[];
}

export interface Checkpoint {
  /** Every source record below this is on the target or deliberately dropped. */
  src: number;
  /** Where the next copied record lands on the target. */
  tgt: number;
}

export function registrationKey(link: string): string {
  return `link/${link}`;
}

/** Written by `ferry failover`: the link was stopped and its target promoted; it must not run again. */
export function failoverKey(link: string): string {
  return `failover/${link}`;
}

/** Topics of this cluster that a failover made primary: its markers list their partitions' `targetTopic`. */
export function failedOverTopics(store: LinkStateStore): Set<string> {
  const out = new Set<string>();
  for (const [, marker] of store.entries("failover/")) {
    const parts = marker.partitions;
    if (!Array.isArray(parts)) continue;
    for (const p of parts as { targetTopic?: unknown }[])
      if (typeof p.targetTopic === "string") out.add(p.targetTopic);
  }
  return out;
}

export function checkpointKey(link: string, topic: string, partition: number): string {
  return `ckpt/${link}/${topic}/${partition}`;
}

export function runKey(link: string, topic: string, partition: number, src: number): string {
  return `run/${link}/${topic}/${partition}/${src}`;
}

export function runPrefix(link: string, topic: string, partition: number): string {
  return `run/${link}/${topic}/${partition}/`;
}

export function readRegistration(store: LinkStateStore, link: string): LinkRegistration | undefined {
  const v = store.get(registrationKey(link));
  return v === undefined ? undefined : (v as unknown as LinkRegistration);
}

/** Every registration in a cluster's state: the links that write into that cluster. */
export function registrations(store: LinkStateStore): LinkRegistration[] {
  return [...store.entries("link/")].map(([, v]) => v as unknown as LinkRegistration);
}

/** Producer ids any link has written into this cluster with. */
export function linkProducerIds(store: LinkStateStore, only?: string): Set<bigint> {
  const ids = new Set<bigint>();
  for (const r of registrations(store)) {
    if (only !== undefined && r.name !== only) continue;
    for (const id of r.producerIds) ids.add(BigInt(id));
  }
  return ids;
}

/** The write that records a producer id before the link writes anything with it. */
export function registrationWrite(
  store: LinkStateStore,
  base: Omit<LinkRegistration, "producerIds">,
  newProducerId?: bigint,
): StateWrite {
  const previous = readRegistration(store, base.name)?.producerIds ?? [];
  const producerIds =
    newProducerId === undefined || previous.includes(newProducerId.toString())
      ? previous
      : [...previous, newProducerId.toString()];
  return { key: registrationKey(base.name), value: { ...base, producerIds } };
}

export function readCheckpoint(
  store: LinkStateStore,
  link: string,
  topic: string,
  partition: number,
): Checkpoint | undefined {
  const v = store.get(checkpointKey(link, topic, partition));
  if (v === undefined || typeof v.src !== "number" || typeof v.tgt !== "number") return undefined;
  return { src: v.src, tgt: v.tgt };
}

export function readRuns(store: LinkStateStore, link: string, topic: string, partition: number): OffsetRun[] {
  const out: OffsetRun[] = [];
  for (const [key, v] of store.entries(runPrefix(link, topic, partition))) {
    const src = Number(key.slice(key.lastIndexOf("/") + 1));
    if (Number.isSafeInteger(src) && typeof v.tgt === "number" && typeof v.len === "number") {
      out.push({ src, tgt: v.tgt, len: v.len });
    }
  }
  return out.sort((a, b) => a.src - b.src);
}
