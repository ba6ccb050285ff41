// A link between two Ferry brokers reached only over SASL_SSL (SCRAM-SHA-512 on the source,
// SCRAM-SHA-256 on the target): records are mirrored and group offsets synced, and neither the
// link's log nor its HTTP status and metrics hold a password.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Admin } from "../../src/client/admin.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { commitOffsets, fetchCommittedOffsets } from "../../src/client/group-offsets.ts";
import { Producer } from "../../src/client/producer.ts";
import { clusterSecurityOptions, type ClientSecurity } from "../../src/client/security-config.ts";
import { serveLinkHttp } from "../../src/link/link-http.ts";
import type { Link } from "../../src/link/link.ts";
import { createLogger } from "../../src/util/logger.ts";
import { opensslMissing } from "../security/certs.ts";
import { startSecureBroker, type SecureBroker } from "../security/secure-broker.ts";
import { readRecords, startTestLink, waitFor } from "./link-helpers.ts";
import { spawnLink } from "./link-process.ts";

const SOURCE_PW = "link-source-Pw-3b8e61";
const TARGET_PW = "link-target-Pw-a90c27";

describe("a link between two SASL_SSL Ferry brokers", { skip: opensslMissing() }, () => {
  let source: SecureBroker;
  let target: SecureBroker;
  let sourceClient: Cluster;
  let targetClient: Cluster;
  const security = (sb: SecureBroker, mechanism: "SCRAM-SHA-256" | "SCRAM-SHA-512", password: string) =>
    ({
      protocol: "SASL_SSL",
      tls: { caFile: sb.certs.caCert },
      sasl: { mechanism, username: "linker", password: "${env:FERRY_LINK_TEST_PW}" },
      env: password,
    }) as const;

  before(async () => {
    [source, target] = await Promise.all([startSecureBroker(), startSecureBroker()]);
    await Promise.all([source.addScramUser("linker", SOURCE_PW), target.addScramUser("linker", TARGET_PW)]);
    const connectAs = (sb: SecureBroker, s: ClientSecurity & { env: string }) =>
      new Cluster({
        bootstrap: sb.address("SASL_SSL"),
        ...clusterSecurityOptions(s, { env: { FERRY_LINK_TEST_PW: s.env } }),
      });
    sourceClient = connectAs(source, security(source, "SCRAM-SHA-512", SOURCE_PW));
    targetClient = connectAs(target, security(target, "SCRAM-SHA-256", TARGET_PW));
  });
  after(async () => {
    await Promise.allSettled([sourceClient.close(), targetClient.close()]);
    const brokerLogs = [...source.broker.logLines(), ...target.broker.logLines()].join("");
    await Promise.all([source.close(), target.close()]);
    for (const pw of [SOURCE_PW, TARGET_PW])
      assert.ok(!brokerLogs.includes(pw), "no password in broker logs");
  });

  test("records are mirrored and group offsets synced; logs and status hold no password", async () => {
    await new Admin(sourceClient).createTopics([{ name: "orders", numPartitions: 2, replicationFactor: 1 }]);
    const producer = new Producer(sourceClient);
    for (let i = 0; i < 10; i++)
      await producer.send("orders", [{ key: null, value: Buffer.from(`o${i}`), partition: i % 2 }]);
    await producer.close();
    await commitOffsets(sourceClient, "billing", [
      { topic: "orders", partition: 0, offset: 3n },
      { topic: "orders", partition: 1, offset: 5n },
    ]);

    const lines: string[] = [];
    const env = { FERRY_LINK_TEST_PW: "" };
    const hooks = (sb: SecureBroker, mechanism: "SCRAM-SHA-256" | "SCRAM-SHA-512", password: string) => {
      env.FERRY_LINK_TEST_PW = password;
      return clusterSecurityOptions(security(sb, mechanism, password), { env });
    };
    let link: Link | undefined;
    let http: Awaited<ReturnType<typeof serveLinkHttp>> | undefined;
    try {
      link = await startTestLink({
        name: "secure",
        source: source.address("SASL_SSL"),
        target: target.address("SASL_SSL"),
        filters: { groups: "billing" },
        sourceClient: hooks(source, "SCRAM-SHA-512", SOURCE_PW),
        targetClient: hooks(target, "SCRAM-SHA-256", TARGET_PW),
        logger: createLogger({ level: "debug", write: (l) => void lines.push(l) }),
      });
      assert.equal(link.targetIsFerry, true);
      await waitFor("orders mirrored", async () => {
        const counts = await Promise.all(
          [0, 1].map((p) => readRecords(targetClient, "orders", p).catch(() => [])),
        );
        return counts[0]?.length === 5 && counts[1]?.length === 5;
      });
      const p0 = await readRecords(targetClient, "orders", 0);
      assert.deepEqual(
        p0.map((r) => [r.offset, r.value]),
        [0, 2, 4, 6, 8].map((v, i) => [BigInt(i), `o${v}`]),
      );
      await waitFor("billing offsets synced", async () => {
        const got = await fetchCommittedOffsets(targetClient, "billing").catch(() => []);
        const byPartition = new Map(got.map((o) => [o.partition, o.offset]));
        return byPartition.get(0) === 3n && byPartition.get(1) === 5n;
      });

      http = await serveLinkHttp(link, 0, "127.0.0.1");
      const base = `http://127.0.0.1:${http.port}`;
      const shown = (
        await Promise.all(["/status", "/metrics"].map((p) => fetch(base + p).then((r) => r.text())))
      ).join("");
      assert.match(shown, /orders/);
      for (const pw of [SOURCE_PW, TARGET_PW]) {
        assert.ok(!shown.includes(pw), "no password in /status or /metrics");
        assert.ok(!lines.join("").includes(pw), "no password in the link's log");
      }
    } finally {
      await http?.close();
      await link?.stop();
    }
  });

  test("a link with a wrong target password fails to start with SASL_AUTHENTICATION_FAILED", async () => {
    const wrong = "link-wrong-Pw-0000";
    await assert.rejects(
      startTestLink({
        name: "secure-wrong",
        source: source.address("SASL_SSL"),
        target: target.address("SASL_SSL"),
        sourceClient: clusterSecurityOptions(security(source, "SCRAM-SHA-512", SOURCE_PW), {
          env: { FERRY_LINK_TEST_PW: SOURCE_PW },
        }),
        targetClient: clusterSecurityOptions(security(target, "SCRAM-SHA-256", wrong), {
          env: { FERRY_LINK_TEST_PW: wrong },
        }),
      }),
      (e: unknown) => {
        assert.match(String(e), /SASL_AUTHENTICATION_FAILED/);
        assert.ok(!String(e).includes(wrong));
        return true;
      },
    );
  });

  test("ferry link --source-config/--target-config with Kafka property names copies over SASL_SSL", async () => {
    const dir = source.certs.dir;
    const config = (name: string, mechanism: string, password: string): string => {
      const file = join(dir, `${name}.properties`);
      writeFileSync(
        file,
        [
          "security.protocol=SASL_SSL",
          "ssl.ca.location=ferry-test-ca.pem",
          `sasl.mechanism=${mechanism}`,
          "sasl.username=linker",
          `sasl.password=${password}`,
        ].join("\n"),
      );
      return file;
    };
    writeFileSync(join(dir, "target-pw.txt"), `${TARGET_PW}\n`, { mode: 0o600 });
    process.env.FERRY_LINK_CLI_PW = SOURCE_PW;
    const proc = await spawnLink([
      "--name",
      "secure-cli",
      "--source",
      source.address("SASL_SSL"),
      "--source-config",
      config("cli-source", "SCRAM-SHA-512", "${env:FERRY_LINK_CLI_PW}"),
      "--target",
      target.address("SASL_SSL"),
      "--target-config",
      config("cli-target", "SCRAM-SHA-256", "${file:target-pw.txt}"),
      "--topics",
      "cli-topic",
      "--prefix",
      "cli.",
    ]).finally(() => delete process.env.FERRY_LINK_CLI_PW);
    try {
      await new Admin(sourceClient).createTopics([
        { name: "cli-topic", numPartitions: 1, replicationFactor: 1 },
      ]);
      const producer = new Producer(sourceClient);
      await producer.send("cli-topic", [{ key: null, value: Buffer.from("x") }]);
      await producer.close();
      await waitFor("cli.cli-topic mirrored", async () => {
        const got = await readRecords(targetClient, "cli.cli-topic", 0).catch(() => []);
        return got.length === 1;
      });
      const status = await fetch(`${proc.url}/status`).then((r) => r.text());
      for (const pw of [SOURCE_PW, TARGET_PW]) {
        assert.ok(!status.includes(pw) && !proc.output().includes(pw), "no password in output or /status");
      }
    } finally {
      assert.equal(await proc.stop(), 0, proc.output());
    }
  });
});
