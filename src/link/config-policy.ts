// Which topic configs a link copies to the target. Copied: what shapes the data a consumer
// sees (retention, compaction, timestamps, message size). Never copied: what describes the
// target cluster's own durability and placement (min.insync.replicas, replication factor,
// throttles, tiered storage, unclean election), which MirrorMaker 2 overwrites to its users'
// cost. Only keys the source sets explicitly are copied; defaults stay the target's.

/** Topic configs a link keeps equal on the target. */
export const COPIED_TOPIC_CONFIGS: ReadonlySet<string> = new Set([
  "cleanup.policy",
  "compression.type",
  "delete.retention.ms",
  "max.compaction.lag.ms",
  "max.message.bytes",
  "message.timestamp.type",
  "message.timestamp.difference.max.ms",
  "message.timestamp.before.max.ms",
  "message.timestamp.after.max.ms",
  "min.cleanable.dirty.ratio",
  "min.compaction.lag.ms",
  "retention.bytes",
  "retention.ms",
]);

/** Ferry's topic config marking a read-only mirror topic: "<source cluster id>/<source topic>". */
export const MIRROR_SOURCE_CONFIG = "ferry.mirror.source";

/**
 * Ferry's topic config naming the link that writes a mirror topic. Several links may copy from
 * one source cluster to one target; each failover promotes only its own link's mirrors, and a
 * second link never writes a mirror another link owns. Mirrors from before the setting have
 * none until a link claims them.
 */
export const MIRROR_LINK_CONFIG = "ferry.mirror.link";

export interface SourceConfig {
  name: string;
  value: string | null;
  isDefault: boolean;
}

/** The configs to set on the target for a source topic's configs. */
export function configsToCopy(source: readonly SourceConfig[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of source) {
    if (!c.isDefault && c.value !== null && COPIED_TOPIC_CONFIGS.has(c.name)) out[c.name] = c.value;
  }
  return out;
}

/** Keys whose target value differs from what the source asks for (copied keys only). */
export function configDrift(
  wanted: Readonly<Record<string, string>>,
  target: readonly SourceConfig[],
): { name: string; value: string }[] {
  const have = new Map(target.map((c) => [c.name, c.value]));
  return Object.entries(wanted)
    .filter(([name, value]) => have.get(name) !== value)
    .map(([name, value]) => ({ name, value }));
}

/** The value of ferry.mirror.source for a mirror of `topic` on cluster `clusterId`. */
export function mirrorSourceValue(clusterId: string, topic: string): string {
  return `${clusterId}/${topic}`;
}

/** Parses ferry.mirror.source; null when unset or malformed. */
export function parseMirrorSource(
  value: string | null | undefined,
): { clusterId: string; topic: string } | null {
  if (value === null || value === undefined) return null;
  const slash = value.indexOf("/");
  if (slash <= 0) return null;
  return { clusterId: value.slice(0, slash), topic: value.slice(slash + 1) };
}
