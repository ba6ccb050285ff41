// The control plane with secured clusters: external clusters reached over SASL_SSL from the
// topology file's tls/sasl blocks (one password from an environment variable, one inline), a
// link between them, and no test secret anywhere it could leak: the control plane's, link's
// and brokers' logs, /api/*, /metrics, `ferry status --json`. Also: the API's bearer token.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { Admin } from "../../src/client/admin.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { commitOffsets, fetchCommittedOffsets } from "../../src/client/group-offsets.ts";
import { Producer } from "../../src/client/producer.ts";
import { clusterSecurityOptions } from "../../src/client/security-config.ts";
import { ApiSecurityError, startApi, type ApiServer } from "../../src/control/api.ts";
import { ControlPlane } from "../../src/control/control-plane.ts";
import { parseTopology } from "../../src/control/topology.ts";
import { createLogger } from "../../src/util/logger.ts";
import { readRecords, waitFor } from "../link/link-helpers.ts";
import { opensslMissing } from "../security/certs.ts";
import { startSecureBroker, type SecureBroker } from "../security/secure-broker.ts";

const FERRY = new URL("../../bin/ferry", import.meta.url).pathname;
const SOURCE_PW = "cp-source-Pw-5d1f0a9";
const TARGET_PW = "cp-target-Pw-c37e2b4";
const TOKEN = "cp-api-Token-0b9d7e4c1a";
const SECRETS = [SOURCE_PW, TARGET_PW, TOKEN];

async function ferry(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(FERRY, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, out };
}

describe("control plane with SASL_SSL clusters", { skip: opensslMissing() }, () => {
  let source: SecureBroker;
  let target: SecureBroker;
  let cp: ControlPlane;
  let api: ApiServer;
  const lines: string[] = [];

  before(async () => {
    [source, target] = await Promise.all([startSecureBroker(), startSecureBroker()]);
    await Promise.all([source.addScramUser("ferry", SOURCE_PW), target.addScramUser("ferry", TARGET_PW)]);
    process.env.FERRY_CP_TEST_SOURCE_PW = SOURCE_PW;
    const topology = parseTopology(
      `control: { port: 0 }
clusters:
  edge:
    type: external
    bootstrap: ${source.address("SASL_SSL")}
    tls: { ca: ${source.certs.caCert} }
    sasl: { mechanism: SCRAM-SHA-512, username: ferry, passwordEnv: FERRY_CP_TEST_SOURCE_PW }
  core:
    type: external
    bootstrap: ${target.address("SASL_SSL")}
    tls: { ca: ${target.certs.caCert} }
    sasl: { mechanism: SCRAM-SHA-256, username: ferry, password: "${TARGET_PW}" }
links:
  edge-to-core:
    source: edge
    target: core
    prefix: edge.
    groups: billing
    intervals: { topicsMs: 200, groupsMs: 200, checkpointMs: 200 }
`,
      "ferry.yaml",
      process.cwd(),
    );
    cp = new ControlPlane({
      logger: createLogger({ level: "debug", write: (l) => void lines.push(l) }),
      sampleIntervalMs: 200,
    });
    api = await startApi(cp, { port: 0, token: TOKEN });
    const outcome = await cp.apply(topology);
    assert.deepEqual(outcome.failed, []);
  });

  after(async () => {
    await api?.close();
    await cp?.stop();
    delete process.env.FERRY_CP_TEST_SOURCE_PW;
    const brokerLogs = [...source.broker.logLines(), ...target.broker.logLines()].join("");
    await Promise.all([source.close(), target.close()]);
    for (const s of SECRETS) assert.ok(!brokerLogs.includes(s), "no secret in the brokers' logs");
  });

  const get = async (path: string, token: string | null = TOKEN): Promise<Response> =>
    fetch(api.url + path, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });

  test("the link mirrors records and syncs offsets; no secret in logs, API, metrics or ferry status", async () => {
    const edge = new Cluster({
      bootstrap: source.address("SASL_SSL"),
      ...clusterSecurityOptions({
        protocol: "SASL_SSL",
        tls: { caFile: source.certs.caCert },
        sasl: { mechanism: "SCRAM-SHA-512", username: "ferry", password: SOURCE_PW },
      }),
    });
    const core = new Cluster({
      bootstrap: target.address("SASL_SSL"),
      ...clusterSecurityOptions({
        protocol: "SASL_SSL",
        tls: { caFile: target.certs.caCert },
        sasl: { mechanism: "SCRAM-SHA-256", username: "ferry", password: TARGET_PW },
      }),
    });
    try {
      await new Admin(edge).createTopics([{ name: "telemetry", numPartitions: 1, replicationFactor: 1 }]);
      const producer = new Producer(edge);
      await producer.send(
        "telemetry",
        ["a", "b", "c"].map((v) => ({ key: null, value: Buffer.from(v) })),
      );
      await producer.close();
      await commitOffsets(edge, "billing", [{ topic: "telemetry", partition: 0, offset: 2n }]);
      await waitFor("edge.telemetry mirrored", async () => {
        const got = await readRecords(core, "edge.telemetry", 0).catch(() => []);
        return got.length === 3;
      });
      await waitFor("billing synced", async () => {
        const got = await fetchCommittedOffsets(core, "billing").catch(() => []);
        return got.some((o) => o.topic === "edge.telemetry" && o.offset === 2n);
      });
      await waitFor("status healthy", async () => {
        const s = (await (await get("/api/status")).json()) as { clusters: { health: string }[] };
        return s.clusters.every((c) => c.health === "ok");
      });
    } finally {
      await Promise.all([edge.close(), core.close()]);
    }

    const shown: string[] = [];
    for (const path of [
      "/api/status",
      "/api/topology",
      "/api/clusters",
      "/api/clusters/edge",
      "/api/clusters/core/topics",
      "/api/links",
      "/api/links/edge-to-core",
      "/api/links/edge-to-core/history",
      "/metrics",
      "/readyz",
    ]) {
      const res = await get(path);
      assert.equal(res.status, 200, path);
      shown.push(await res.text());
    }
    const topology = JSON.parse(shown[1] ?? "{}") as {
      topology: { clusters: Record<string, { sasl: { password?: string; passwordEnv?: string } }> };
    };
    assert.equal(topology.topology.clusters.core?.sasl.password, "[redacted]");
    assert.equal(topology.topology.clusters.edge?.sasl.passwordEnv, "FERRY_CP_TEST_SOURCE_PW");
    const status = await ferry(["status", "--json", "--api", api.url], { FERRY_API_TOKEN: TOKEN });
    assert.equal(status.code, 0, status.out);
    shown.push(status.out);
    const all = shown.join("\n");
    assert.match(all, /edge\.telemetry/);
    const log = lines.join("");
    assert.match(log, /link started/);
    for (const s of SECRETS) {
      assert.ok(!all.includes(s), "no secret in the API, metrics or ferry status");
      assert.ok(!log.includes(s), "no secret in the control plane's or link's log");
    }
  });

  test("with a token, API requests without it or with a wrong one get 401; the dashboard's files do not need it", async () => {
    assert.equal((await get("/api/status", null)).status, 401);
    assert.equal((await get("/metrics", "not-the-token-at-all")).status, 401);
    assert.equal((await get("/api/status")).status, 200);
    assert.equal((await get("/", null)).status, 200);
    assert.equal((await get("/healthz", null)).status, 200);
    const noToken = await ferry(["status", "--json", "--api", api.url], {});
    assert.notEqual(noToken.code, 0);
    assert.match(noToken.out, /bearer token/);
  });

  test("the API refuses to listen beyond loopback without a token", async () => {
    await assert.rejects(startApi(cp, { host: "0.0.0.0", port: 0 }), ApiSecurityError);
    await assert.rejects(startApi(cp, { host: "::", port: 0 }), /without a token/);
  });
});
