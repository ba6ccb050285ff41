// The topology file: valid files with their defaults, invalid ones with the errors users see
// (file:line:column, the property, what was expected), and the published JSON Schema.
import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterClientOptions } from "../../src/control/cluster-security.ts";
import { parseTopology, TopologyError } from "../../src/control/topology.ts";
import { topologyJsonSchema } from "../../src/control/topology-schema.ts";

const GOOD = `control: { port: 7171 }
clusters:
  edge1:
    type: embedded
    dataDir: data/edge1
    port: 19092
    site: ship Aurora
    settings: { num.partitions: 3 }
  core:
    type: external
    bootstrap: [kafka1:9092, kafka2:9092]
    tls: { ca: ca.pem }
    sasl: { mechanism: SCRAM-SHA-512, username: ferry, passwordEnv: KAFKA_PASSWORD }
links:
  edge1-to-core:
    source: edge1
    target: core
    topics: "payments|telemetry"
    prefix: edge1.
    policies:
      - { topics: payments, priority: critical, maxRpoMs: 5000 }
`;

function errorsOf(text: string): string[] {
  try {
    parseTopology(text, "ferry.yaml", "/srv");
  } catch (e) {
    assert.ok(e instanceof TopologyError, String(e));
    return e.message.split("\n");
  }
  assert.fail("expected the topology to be rejected");
}

test("a valid topology parses with defaults filled in and data dirs resolved against the file", () => {
  const t = parseTopology(GOOD, "ferry.yaml", "/srv");
  assert.deepEqual(t.control, { host: "127.0.0.1", port: 7171 });
  assert.deepEqual(t.clusters.edge1, {
    type: "embedded",
    dataDir: "/srv/data/edge1",
    host: "127.0.0.1",
    port: 19092,
    site: "ship Aurora",
    settings: { "num.partitions": 3 },
  });
  const core = t.clusters.core;
  assert.equal(core?.type, "external");
  assert.deepEqual(core?.type === "external" ? core.bootstrap : [], ["kafka1:9092", "kafka2:9092"]);
  assert.deepEqual(t.links["edge1-to-core"], {
    source: "edge1",
    target: "core",
    topics: "payments|telemetry",
    exclude: "",
    groups: "",
    prefix: "edge1.",
    mode: "auto",
    intervals: { topicsMs: 2000, groupsMs: 5000, configsMs: 30000, checkpointMs: 1000 },
    maxRpoMs: 60000,
    paused: false,
    acls: { sync: false, principals: "" },
    policies: [{ topics: "payments", priority: "critical", maxRpoMs: 5000, sync: "async" }],
  });
  // tls/sasl file paths resolve against the file's folder too.
  assert.equal(core?.type === "external" ? core.tls?.ca : undefined, "/srv/ca.pem");
});

test("a comma-separated bootstrap string becomes a list", () => {
  const t = parseTopology("clusters:\n  k: { type: external, bootstrap: 'a:1, b:2' }\n", "f.yaml", "/");
  const k = t.clusters.k;
  assert.deepEqual(k?.type === "external" ? k.bootstrap : [], ["a:1", "b:2"]);
  assert.deepEqual(t.links, {});
});

test("an external cluster without a tls block is reached in plaintext; an empty block turns TLS on", () => {
  const t = parseTopology(
    "clusters:\n  plain: { type: external, bootstrap: 'a:1' }\n  tls: { type: external, bootstrap: 'a:1', tls: {} }\n",
    "f.yaml",
    "/",
  );
  const plain = t.clusters.plain;
  assert.equal(plain?.type === "external" ? plain.tls : "not external", undefined);
  assert.deepEqual(plain === undefined ? undefined : clusterClientOptions("plain", plain), {});
  const tls = t.clusters.tls;
  assert.equal(tls?.type === "external" ? tls.tls?.enabled : undefined, true);
});

test("wrong types and ranges name file, line, column, property and what was expected", () => {
  const errors = errorsOf(`clusters:
  edge1:
    type: embedded
    dataDir: d
    port: 70000
  dr:
    type: cloud
`);
  assert.deepEqual(errors, [
    "ferry.yaml:5:11: clusters.edge1.port: expected an integer from 0 to 65535, got 70000",
    "ferry.yaml:7:11: clusters.dr.type: expected one of embedded, external, got 'cloud'",
  ]);
});

test("a misspelt property is rejected with the likely intended one", () => {
  const errors = errorsOf(`clusters:
  a: { type: embedded, dataDir: a }
links:
  l:
    source: a
    target: a
    prefix: x.
    topcs: orders
`);
  assert.deepEqual(errors, [
    "ferry.yaml:8:5: links.l.topcs: unknown property 'topcs'; did you mean 'topics'?",
  ]);
});

test("required properties, bad regexes, bad addresses and bad names are all reported", () => {
  const errors = errorsOf(`clusters:
  core: { type: external, bootstrap: [kafka1] }
  "bad name": { type: embedded, dataDir: x }
  e: { type: embedded }
links:
  l: { source: core, target: e, topics: "pay(" }
`);
  assert.deepEqual(errors, [
    "ferry.yaml:2:39: clusters.core.bootstrap[0]: 'kafka1' is not a bootstrap address: expected host:port",
    "ferry.yaml:3:3: clusters.bad name: 'bad name' is not a valid name: use 1-200 letters, digits, '.', '_' or '-'",
    "ferry.yaml:4:6: clusters.e.dataDir: 'dataDir' is required",
    "ferry.yaml:6:41: links.l.topics: expected a regular expression: Invalid regular expression: /pay(/: Unterminated group",
  ]);
});

test("links to undeclared clusters and clashing ports or data dirs are reported where they are", () => {
  const errors = errorsOf(`clusters:
  a: { type: embedded, dataDir: same, port: 9092 }
  b: { type: embedded, dataDir: same, port: 9092 }
links:
  l:
    source: a
    target: nowhere
`);
  assert.deepEqual(errors, [
    "ferry.yaml:7:13: links.l.target: unknown cluster 'nowhere' (declared: a, b)",
    "ferry.yaml:3:45: clusters.b.port: port 9092 is already used by cluster 'a'",
    "ferry.yaml:3:33: clusters.b.dataDir: data directory '/srv/same' is already used by cluster 'a'",
  ]);
});

test("YAML syntax errors and duplicate keys are reported with their position", () => {
  assert.match(errorsOf("clusters:\n  a: [\n")[0] ?? "", /^ferry\.yaml:\d+:\d+: \(syntax\): /);
  assert.match(
    errorsOf("clusters:\n  a: { type: embedded, dataDir: a }\n  a: { type: embedded, dataDir: b }\n")[0] ??
      "",
    /^ferry\.yaml:3:3: \(syntax\): Map keys must be unique/,
  );
});

test("an empty file says that clusters are required", () => {
  assert.deepEqual(errorsOf(""), ["ferry.yaml:1:1: clusters: 'clusters' is required"]);
});

test("the JSON Schema comes from the same definitions: required fields, enums, variants", () => {
  const schema = topologyJsonSchema() as {
    $schema: string;
    required: string[];
    properties: Record<string, { additionalProperties?: Record<string, unknown> }>;
  };
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.deepEqual(schema.required, ["clusters"]);
  const cluster = schema.properties.clusters?.additionalProperties as {
    oneOf: { properties: { type: unknown } }[];
  };
  assert.deepEqual(
    cluster.oneOf.map((v) => v.properties.type),
    [{ const: "embedded" }, { const: "external" }],
  );
  const link = schema.properties.links?.additionalProperties as {
    required: string[];
    properties: { mode: { enum: string[]; default: string } };
  };
  assert.deepEqual(link.required, ["source", "target"]);
  assert.deepEqual(link.properties.mode, {
    description: "auto: byte-identical mirror topics into Ferry brokers, offset translation otherwise.",
    type: "string",
    enum: ["auto", "mirror", "translate"],
    default: "auto",
  });
});
