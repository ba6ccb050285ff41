// Definitions of the broker and topic settings Ferry's broker understands, under Kafka's
// names: type, default, validation, and for topic settings the broker setting that
// supplies their default (Kafka's "synonym").

export type ConfigType =
  "boolean" | "string" | "int" | "short" | "long" | "double" | "list" | "password" | "class";

/** Kafka's ConfigType codes in DescribeConfigs v3+. */
export const CONFIG_TYPE_CODE: Record<ConfigType, number> = {
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9,
};

export interface ConfigDef {
  name: string;
  type: ConfigType;
  /** Default as Kafka prints it (string form). */
  default: string;
  /** Allowed values for enumerated string settings. */
  values?: readonly string[];
  /** Inclusive lower bound for numbers. */
  min?: number;
  /** Whether changing it while running is supported. */
  readOnly?: boolean;
  /** String settings that may not be empty. */
  nonEmpty?: boolean;
  /** May be set for one listener as `listener.name.<listener>.<name>` (lower-case listener name). */
  perListener?: boolean;
}

const LONG_MAX = "9223372036854775807";

/**
 * Topic-level settings; `synonym` is the broker setting that supplies the default. Ferry's own
 * settings (ferry.*) have none: they have no broker default and exist only where set.
 */
export interface TopicConfigDef extends ConfigDef {
  synonym: string | null;
}

/** Ferry's topic setting that makes a topic a mirror: "<source cluster id>/<source topic>" (see mirror-topics.ts). */
export const MIRROR_SOURCE_CONFIG = "ferry.mirror.source";

/** Ferry's topic setting naming the one link that writes a mirror topic. */
export const MIRROR_LINK_CONFIG = "ferry.mirror.link";

export const TOPIC_CONFIGS: readonly TopicConfigDef[] = [
  {
    name: "cleanup.policy",
    type: "list",
    default: "delete",
    values: ["delete", "compact", "compact,delete", "delete,compact"],
    synonym: "log.cleanup.policy",
  },
  {
    name: "compression.type",
    type: "string",
    default: "producer",
    values: ["producer", "uncompressed"],
    synonym: "compression.type",
  },
  {
    name: "delete.retention.ms",
    type: "long",
    default: "86400000",
    min: 0,
    synonym: "log.cleaner.delete.retention.ms",
  },
  {
    name: "file.delete.delay.ms",
    type: "long",
    default: "60000",
    min: 0,
    synonym: "log.segment.delete.delay.ms",
  },
  // Ferry's own: a mirror topic, written only by the replication link (FerryMirrorAppend).
  { name: MIRROR_SOURCE_CONFIG, type: "string", default: "", nonEmpty: true, synonym: null },
  // Ferry's own: the link that owns a mirror topic, so a failover promotes only its link's topics.
  { name: MIRROR_LINK_CONFIG, type: "string", default: "", nonEmpty: true, synonym: null },
  { name: "flush.messages", type: "long", default: LONG_MAX, min: 1, synonym: "log.flush.interval.messages" },
  { name: "flush.ms", type: "long", default: LONG_MAX, min: 0, synonym: "log.flush.interval.ms" },
  { name: "index.interval.bytes", type: "int", default: "4096", min: 0, synonym: "log.index.interval.bytes" },
  {
    name: "max.compaction.lag.ms",
    type: "long",
    default: LONG_MAX,
    min: 1,
    synonym: "log.cleaner.max.compaction.lag.ms",
  },
  { name: "max.message.bytes", type: "int", default: "1048588", min: 0, synonym: "message.max.bytes" },
  {
    name: "message.timestamp.type",
    type: "string",
    default: "CreateTime",
    values: ["CreateTime", "LogAppendTime"],
    synonym: "log.message.timestamp.type",
  },
  {
    name: "message.timestamp.before.max.ms",
    type: "long",
    default: LONG_MAX,
    min: 0,
    synonym: "log.message.timestamp.before.max.ms",
  },
  {
    name: "message.timestamp.after.max.ms",
    type: "long",
    default: "3600000",
    min: 0,
    synonym: "log.message.timestamp.after.max.ms",
  },
  {
    name: "min.cleanable.dirty.ratio",
    type: "double",
    default: "0.5",
    min: 0,
    synonym: "log.cleaner.min.cleanable.ratio",
  },
  {
    name: "min.compaction.lag.ms",
    type: "long",
    default: "0",
    min: 0,
    synonym: "log.cleaner.min.compaction.lag.ms",
  },
  { name: "min.insync.replicas", type: "int", default: "1", min: 1, synonym: "min.insync.replicas" },
  { name: "preallocate", type: "boolean", default: "false", synonym: "log.preallocate" },
  { name: "retention.bytes", type: "long", default: "-1", synonym: "log.retention.bytes" },
  { name: "retention.ms", type: "long", default: "604800000", min: -1, synonym: "log.retention.ms" },
  { name: "segment.bytes", type: "int", default: "1073741824", min: 14, synonym: "log.segment.bytes" },
  {
    name: "segment.index.bytes",
    type: "int",
    default: "10485760",
    min: 8,
    synonym: "log.index.size.max.bytes",
  },
  { name: "segment.jitter.ms", type: "long", default: "0", min: 0, synonym: "log.roll.jitter.ms" },
  { name: "segment.ms", type: "long", default: "604800000", min: 1, synonym: "log.roll.ms" },
  {
    name: "unclean.leader.election.enable",
    type: "boolean",
    default: "false",
    synonym: "unclean.leader.election.enable",
  },
];

/** Broker settings (static, from the config file and command line). */
export const BROKER_CONFIGS: readonly ConfigDef[] = [
  { name: "node.id", type: "int", default: "1", min: 0, readOnly: true },
  { name: "auto.create.topics.enable", type: "boolean", default: "true" },
  { name: "num.partitions", type: "int", default: "1", min: 1 },
  { name: "default.replication.factor", type: "int", default: "1", min: 1 },
  { name: "delete.topic.enable", type: "boolean", default: "true" },
  { name: "socket.request.max.bytes", type: "int", default: "104857600", min: 1, readOnly: true },
  { name: "log.retention.check.interval.ms", type: "long", default: "300000", min: 1 },
  { name: "group.initial.rebalance.delay.ms", type: "int", default: "3000", min: 0 },
  { name: "group.min.session.timeout.ms", type: "int", default: "6000", min: 0 },
  { name: "group.max.session.timeout.ms", type: "int", default: "1800000", min: 0 },
  { name: "group.max.size", type: "int", default: "2147483647", min: 1 },
  { name: "offsets.retention.minutes", type: "int", default: "10080", min: 1 },
  { name: "offset.metadata.max.bytes", type: "int", default: "4096", min: 0 },
  { name: "offsets.retention.check.interval.ms", type: "long", default: "600000", min: 1 },
  { name: "offsets.topic.segment.bytes", type: "int", default: "104857600", min: 1 },
  { name: "transaction.max.timeout.ms", type: "int", default: "900000", min: 1 },
  {
    name: "transaction.abort.timed.out.transaction.cleanup.interval.ms",
    type: "int",
    default: "10000",
    min: 1,
  },
  { name: "transactional.id.expiration.ms", type: "int", default: "604800000", min: 1 },
  {
    name: "transaction.remove.expired.transaction.cleanup.interval.ms",
    type: "int",
    default: "3600000",
    min: 1,
  },
  // The log cleaner (compaction), Kafka's names and defaults.
  { name: "log.cleaner.enable", type: "boolean", default: "true" },
  { name: "log.cleaner.backoff.ms", type: "long", default: "15000", min: 0 },
  { name: "log.cleaner.dedupe.buffer.size", type: "long", default: "134217728", min: 1024 },
  { name: "log.cleaner.io.buffer.load.factor", type: "double", default: "0.9", min: 0.01 },
  { name: "log.cleaner.io.max.bytes.per.second", type: "double", default: "1.7976931348623157E308", min: 1 },
  // Listeners and security (docs/broker.md, "Security"). Empty `listeners` means one
  // PLAINTEXT listener on --host/--port.
  { name: "listeners", type: "list", default: "", readOnly: true },
  { name: "advertised.listeners", type: "list", default: "", readOnly: true },
  {
    name: "listener.security.protocol.map",
    type: "list",
    default: "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
    readOnly: true,
  },
  {
    name: "ssl.keystore.type",
    type: "string",
    default: "PEM",
    values: ["PEM"],
    readOnly: true,
    perListener: true,
  },
  { name: "ssl.keystore.location", type: "string", default: "", readOnly: true, perListener: true },
  { name: "ssl.key.password", type: "password", default: "", readOnly: true, perListener: true },
  {
    name: "ssl.truststore.type",
    type: "string",
    default: "PEM",
    values: ["PEM"],
    readOnly: true,
    perListener: true,
  },
  { name: "ssl.truststore.location", type: "string", default: "", readOnly: true, perListener: true },
  {
    name: "ssl.client.auth",
    type: "string",
    default: "none",
    values: ["none", "requested", "required"],
    readOnly: true,
    perListener: true,
  },
  {
    name: "ssl.enabled.protocols",
    type: "list",
    default: "TLSv1.2,TLSv1.3",
    readOnly: true,
    perListener: true,
  },
  {
    name: "sasl.enabled.mechanisms",
    type: "list",
    default: "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
    readOnly: true,
    perListener: true,
  },
  { name: "sasl.server.max.receive.size", type: "int", default: "524288", min: 1, readOnly: true },
  { name: "ferry.sasl.plain.users.file", type: "string", default: "", readOnly: true, perListener: true },
  { name: "authorizer.class.name", type: "class", default: "", readOnly: true },
  { name: "super.users", type: "string", default: "", readOnly: true },
  { name: "allow.everyone.if.no.acl.found", type: "boolean", default: "false", readOnly: true },
  // Connection limits.
  { name: "max.connections", type: "int", default: "2147483647", min: 0, readOnly: true },
  { name: "max.connections.per.ip", type: "int", default: "2147483647", min: 0, readOnly: true },
  { name: "connections.max.idle.ms", type: "long", default: "600000", min: 0, readOnly: true },
  { name: "ferry.connection.max.in.flight.requests", type: "int", default: "64", min: 1, readOnly: true },
  {
    name: "ferry.connection.max.in.flight.bytes",
    type: "long",
    default: "104857600",
    min: 1,
    readOnly: true,
  },
  // Broker defaults of topic settings (their synonyms), with Kafka's broker-side names.
  ...TOPIC_CONFIGS.flatMap((t): ConfigDef[] =>
    t.synonym === null
      ? []
      : [
          {
            name: t.synonym,
            type: t.type,
            default: t.default,
            ...(t.values ? { values: t.values } : {}),
            ...(t.min !== undefined ? { min: t.min } : {}),
          },
        ],
  ),
];

const BROKER_BY_NAME = new Map(BROKER_CONFIGS.map((d) => [d.name, d]));
const TOPIC_BY_NAME = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]));

export function brokerConfigDef(name: string): ConfigDef | undefined {
  const def = BROKER_BY_NAME.get(name);
  if (def !== undefined) return def;
  // Kafka's per-listener form: listener.name.<listener>.<setting>.
  const m = /^listener\.name\.[a-z0-9_-]+\.(.+)$/.exec(name);
  const base = m?.[1] === undefined ? undefined : BROKER_BY_NAME.get(m[1]);
  return base?.perListener === true ? { ...base, name } : undefined;
}

export function topicConfigDef(name: string): TopicConfigDef | undefined {
  return TOPIC_BY_NAME.get(name);
}

/** Checks a value against its definition; returns a reason when it is invalid. */
export function invalidReason(def: ConfigDef, value: string): string | null {
  switch (def.type) {
    case "boolean":
      return value === "true" || value === "false" ? null : `${def.name} must be true or false`;
    case "int":
    case "short":
    case "long": {
      if (!/^-?\d+$/.test(value)) return `${def.name} must be an integer, got ${JSON.stringify(value)}`;
      const n = BigInt(value);
      const max = def.type === "long" ? 2n ** 63n - 1n : def.type === "int" ? 2n ** 31n - 1n : 2n ** 15n - 1n;
      if (n > max || n < -max - 1n) return `${def.name} is out of range for a ${def.type}`;
      if (def.min !== undefined && n < BigInt(def.min)) return `${def.name} must be at least ${def.min}`;
      return null;
    }
    case "double": {
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n)) return `${def.name} must be a number`;
      if (def.min !== undefined && n < def.min) return `${def.name} must be at least ${def.min}`;
      return null;
    }
    default:
      if (def.nonEmpty === true && value.trim() === "") return `${def.name} must not be empty`;
      if (def.values && !def.values.includes(value)) {
        return `${def.name} must be one of ${def.values.join(", ")}, got ${JSON.stringify(value)}`;
      }
      return null;
  }
}

/** A long setting as a JS number, saturating Long.MAX_VALUE ("never") to Infinity. */
export function longValue(value: string): number {
  if (value === LONG_MAX) return Infinity;
  const n = Number(value);
  return n > Number.MAX_SAFE_INTEGER ? Infinity : n;
}
