// The topology file's definition (`ferry.yaml`): the shapes that both generate the published
// JSON Schema (`ferry schema`) and validate files, and the TypeScript types they produce.
import { toJsonSchema, type ObjectShape, type Shape, type StringShape } from "./schema-shapes.ts";

const NAME_PATTERN = "^[A-Za-z0-9._-]{1,200}$";
const NAME_HINT = "use 1-200 letters, digits, '.', '_' or '-'";

const name = (description: string): StringShape => ({
  kind: "string",
  pattern: NAME_PATTERN,
  patternHint: `is not a valid name: ${NAME_HINT}`,
  description,
});

const site: Record<string, Shape> = {
  region: { kind: "string", description: "Region label (shown in the dashboard and API)." },
  site: { kind: "string", description: "Site label, e.g. a ship, store or data center." },
};

const tls: ObjectShape = {
  kind: "object",
  description: "TLS 1.2+ to the cluster; the certificate and the broker's name are verified.",
  optional: true,
  properties: {
    enabled: { kind: "boolean", default: true },
    ca: {
      kind: "string",
      description: "PEM file of trusted certificate authorities (relative to this file).",
    },
    cert: { kind: "string", description: "PEM file of the client certificate (mutual TLS)." },
    key: { kind: "string", description: "PEM file of the client key (mutual TLS)." },
    keyPassword: {
      kind: "string",
      description: "Passphrase of an encrypted key: ${env:NAME} or ${file:PATH}.",
    },
    serverName: { kind: "string", description: "Name to verify the broker certificate against." },
    verifyHostname: {
      kind: "boolean",
      default: true,
      description: "Check the broker certificate names the broker (ssl.endpoint.identification.algorithm).",
    },
    insecureSkipVerify: {
      kind: "boolean",
      default: false,
      description: "Trust any certificate (tests only).",
    },
  },
};

const sasl: ObjectShape = {
  kind: "object",
  description: "SASL authentication (over TLS when a tls block is present: SASL_SSL).",
  required: ["mechanism", "username"],
  properties: {
    mechanism: { kind: "string", enum: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] },
    username: { kind: "string" },
    password: {
      kind: "string",
      description: "${env:NAME} or ${file:PATH} (preferred), or the password itself; never shown by the API.",
    },
    passwordEnv: { kind: "string", description: "Environment variable holding the password." },
    passwordFile: { kind: "string", description: "File holding the password (relative to this file)." },
  },
};

const embeddedCluster: ObjectShape = {
  kind: "object",
  description: "A single-node Ferry broker that Ferry starts and stops.",
  required: ["dataDir"],
  properties: {
    dataDir: { kind: "string", description: "Where the broker keeps its data (relative to this file)." },
    host: { kind: "string", default: "127.0.0.1", description: "Interface to listen on." },
    port: {
      kind: "integer",
      minimum: 0,
      maximum: 65535,
      default: 0,
      description: "Port to listen on; 0 picks a free port (see `ferry status`).",
    },
    settings: { kind: "scalars", description: "Kafka-named broker settings, e.g. num.partitions: 3." },
    ...site,
  },
};

const externalCluster: ObjectShape = {
  kind: "object",
  description: "A Kafka cluster Ferry connects to (Apache Kafka, Redpanda, MSK, another Ferry...).",
  required: ["bootstrap"],
  properties: {
    bootstrap: {
      kind: "stringList",
      description: "Bootstrap servers: 'host:port', a comma-separated string or a list.",
      item: {
        kind: "string",
        pattern: "^[^\\s:,]+:\\d{1,5}$",
        patternHint: "is not a bootstrap address: expected host:port",
      },
    },
    tls,
    sasl,
    ...site,
  },
};

const policy: ObjectShape = {
  kind: "object",
  description: "A per-topic policy. maxRpoMs is checked now; priority and sync are recorded for later work.",
  required: ["topics"],
  properties: {
    topics: { kind: "string", regex: true, description: "Source topics the policy applies to (regex)." },
    priority: { kind: "string", enum: ["critical", "normal", "bulk"], default: "normal" },
    maxRpoMs: {
      kind: "integer",
      minimum: 0,
      description: "The link is unhealthy while these topics' RPO exceeds this many milliseconds.",
    },
    sync: {
      kind: "string",
      enum: ["async", "sync"],
      default: "async",
      description: "sync (RPO 0 through the gateway) is not implemented yet.",
    },
  },
};

const link: ObjectShape = {
  kind: "object",
  description: "A replication link from one cluster to another.",
  required: ["source", "target"],
  properties: {
    source: name("Name of the source cluster."),
    target: name("Name of the target cluster."),
    topics: { kind: "string", regex: true, default: ".*", description: "Topics to copy (whole-name regex)." },
    exclude: { kind: "string", regex: true, default: "", description: "Topics never to copy (regex)." },
    groups: {
      kind: "string",
      regex: true,
      default: "",
      description: "Consumer groups whose offsets are synced (regex; default none).",
    },
    prefix: {
      kind: "string",
      pattern: "^[A-Za-z0-9._-]*$",
      patternHint: "may hold only letters, digits, '.', '_' and '-'",
      default: "",
      description: "Prepended to target topic names; empty keeps the names (identity naming).",
    },
    mode: {
      kind: "string",
      enum: ["auto", "mirror", "translate"],
      default: "auto",
      description: "auto: byte-identical mirror topics into Ferry brokers, offset translation otherwise.",
    },
    intervals: {
      kind: "object",
      description: "How often the link syncs topic lists, group offsets, configs and checkpoints.",
      properties: {
        topicsMs: { kind: "integer", minimum: 10, default: 2000 },
        groupsMs: { kind: "integer", minimum: 10, default: 5000 },
        configsMs: { kind: "integer", minimum: 10, default: 30000 },
        checkpointMs: { kind: "integer", minimum: 10, default: 1000 },
      },
    },
    maxRpoMs: {
      kind: "integer",
      minimum: 0,
      default: 60000,
      description: "The link is reported unhealthy while its RPO exceeds this many milliseconds.",
    },
    paused: { kind: "boolean", default: false, description: "Start the link paused." },
    acls: {
      kind: "object",
      description: "ACL sync: copy the source's ACLs on the link's topics and groups to the target.",
      properties: {
        sync: { kind: "boolean", default: false },
        principals: {
          kind: "string",
          regex: true,
          default: "",
          description: "Only ACLs of these principals (whole-name regex, e.g. User:app-.*); empty: all.",
        },
      },
    },
    policies: { kind: "array", items: policy },
  },
};

/** The whole topology file. */
export const TOPOLOGY_SHAPE: ObjectShape = {
  kind: "object",
  required: ["clusters"],
  properties: {
    version: { kind: "integer", minimum: 1, maximum: 1, default: 1, description: "Topology file format." },
    control: {
      kind: "object",
      description: "The control plane: REST API, /metrics and the dashboard.",
      properties: {
        host: { kind: "string", default: "127.0.0.1" },
        port: { kind: "integer", minimum: 0, maximum: 65535, default: 7070 },
      },
    },
    clusters: {
      kind: "map",
      keyPattern: NAME_PATTERN,
      keyHint: NAME_HINT,
      description: "Clusters by name.",
      values: {
        kind: "tagged",
        tag: "type",
        variants: { embedded: embeddedCluster, external: externalCluster },
      },
    },
    links: {
      kind: "map",
      keyPattern: NAME_PATTERN,
      keyHint: NAME_HINT,
      description: "Links by name (the name keys the link's state on its target).",
      values: link,
    },
  },
};

/** The published JSON Schema of ferry.yaml. */
export function topologyJsonSchema(): Record<string, unknown> {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://ferry.dev/schemas/topology-v1.json",
    title: "Ferry topology (ferry.yaml)",
    ...toJsonSchema(TOPOLOGY_SHAPE),
  };
}

export interface SiteLabels {
  region?: string;
  site?: string;
}

export interface EmbeddedClusterSpec extends SiteLabels {
  type: "embedded";
  /** Absolute once loaded. */
  dataDir: string;
  host: string;
  port: number;
  settings: Record<string, string | number | boolean>;
}

export interface ExternalClusterSpec extends SiteLabels {
  type: "external";
  bootstrap: string[];
  tls?: {
    enabled: boolean;
    ca?: string;
    cert?: string;
    key?: string;
    keyPassword?: string;
    serverName?: string;
    verifyHostname: boolean;
    insecureSkipVerify: boolean;
  };
  sasl?: {
    mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
    username: string;
    password?: string;
    passwordEnv?: string;
    passwordFile?: string;
  };
}

export type ClusterSpec = EmbeddedClusterSpec | ExternalClusterSpec;

export interface TopicPolicy {
  topics: string;
  priority: "critical" | "normal" | "bulk";
  maxRpoMs?: number;
  sync: "async" | "sync";
}

export interface LinkSpec {
  source: string;
  target: string;
  topics: string;
  exclude: string;
  groups: string;
  prefix: string;
  mode: "auto" | "mirror" | "translate";
  intervals: { topicsMs: number; groupsMs: number; configsMs: number; checkpointMs: number };
  maxRpoMs: number;
  paused: boolean;
  /** Filled with defaults when the file is read. */
  acls?: { sync: boolean; principals: string };
  policies: TopicPolicy[];
}

export interface Topology {
  version: 1;
  control: { host: string; port: number };
  clusters: Record<string, ClusterSpec>;
  links: Record<string, LinkSpec>;
}
