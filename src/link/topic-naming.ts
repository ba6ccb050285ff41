// How a link names its target topics: `prefix` is prepended after `stripPrefix` was removed
// from the source name, so a failback's reverse link can map "dc1.orders" back to "orders".

export interface TopicNaming {
  /** Prepended to every target topic name ("" keeps names). */
  prefix: string;
  /** Removed from every source topic name first; a source topic without it is not copied. */
  stripPrefix?: string;
}

/** The target topic of a source topic; undefined when the name lacks the strip prefix. */
export function targetTopicName(naming: TopicNaming, source: string): string | undefined {
  const strip = naming.stripPrefix ?? "";
  if (strip !== "" && (!source.startsWith(strip) || source.length === strip.length)) return undefined;
  return naming.prefix + source.slice(strip.length);
}
