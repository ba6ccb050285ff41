// The client over TLS and SASL against a Ferry broker's SSL and SASL_SSL listeners: it connects
// with the right CA and credentials, and is refused with typed errors (TlsError naming the
// broker, SASL_AUTHENTICATION_FAILED) with a wrong CA, a wrong name or a wrong password.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { credentialFromPassword, ScramServerExchange } from "../../src/broker/security/scram.ts";
import { Admin } from "../../src/client/admin.ts";
import { Cluster, type ClusterOptions } from "../../src/client/cluster.ts";
import { Producer } from "../../src/client/producer.ts";
import { ScramClient, type SaslMechanism } from "../../src/client/sasl.ts";
import {
  clusterOptionsFromConfigFile,
  clusterSecurityOptions,
  type ClientSecurity,
} from "../../src/client/security-config.ts";
import { TlsError } from "../../src/client/tls.ts";
import { ErrorCode, KafkaError } from "../../src/protocol/error-codes.ts";
import { opensslMissing } from "../security/certs.ts";
import { startSecureBroker, type SecureBroker } from "../security/secure-broker.ts";

const PASSWORD = "client-test-Secret-4e1b9";
const WRONG = "client-test-Wrong-77a0c";

describe("client TLS and SASL", { skip: opensslMissing() }, () => {
  let sb: SecureBroker;

  before(async () => {
    sb = await startSecureBroker();
    await sb.addScramUser("alice", PASSWORD);
  });
  after(async () => {
    const log = sb.broker.logLines().join("");
    await sb.close();
    assert.ok(!log.includes(PASSWORD) && !log.includes(WRONG), "the broker log holds no password");
  });

  function cluster(
    listener: "SSL" | "SASL_SSL",
    security: ClientSecurity,
    extra: Partial<ClusterOptions> = {},
  ) {
    return new Cluster({
      bootstrap: sb.address(listener),
      retries: 2,
      retryBackoffMs: 20,
      ...clusterSecurityOptions(security),
      ...extra,
    });
  }

  test("TLS with the test CA verifies the broker by its IP address and serves requests", async () => {
    const c = cluster("SSL", { protocol: "SSL", tls: { caFile: sb.certs.caCert } });
    try {
      const info = await new Admin(c).describeCluster();
      assert.equal(info.clusterId, sb.broker.current.clusterId);
    } finally {
      await c.close();
    }
  });

  test("TLS refuses a broker whose certificate another CA signed, with a TlsError naming the broker", async () => {
    const c = cluster("SSL", { protocol: "SSL", tls: { caFile: sb.certs.otherCaCert } });
    try {
      const e = await new Admin(c).describeCluster().then(
        () => assert.fail("connected"),
        (x: unknown) => x,
      );
      assert.ok(e instanceof TlsError, String(e));
      assert.equal(e.retriable, false);
      assert.match(e.message, new RegExp(`broker ${sb.address("SSL")}`));
    } finally {
      await c.close();
    }
  });

  test("hostname verification is on by default: a certificate for other names is refused", async () => {
    const c = cluster("SSL", {
      protocol: "SSL",
      tls: { caFile: sb.certs.caCert, serverName: "kafka.example.com" },
    });
    try {
      await assert.rejects(new Admin(c).describeCluster(), (e: unknown) => {
        assert.ok(e instanceof TlsError, String(e));
        assert.match(e.message, /kafka\.example\.com/);
        return true;
      });
    } finally {
      await c.close();
    }
    const off = cluster("SSL", {
      protocol: "SSL",
      tls: { caFile: sb.certs.caCert, serverName: "kafka.example.com", verifyHostname: false },
    });
    try {
      await new Admin(off).describeCluster();
    } finally {
      await off.close();
    }
  });

  for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
    test(`SASL_SSL with ${mechanism} logs in and produces`, async () => {
      const c = cluster("SASL_SSL", {
        protocol: "SASL_SSL",
        tls: { caFile: sb.certs.caCert },
        sasl: { mechanism, username: "alice", password: PASSWORD },
      });
      const producer = new Producer(c);
      try {
        const topic = `sec-${mechanism.toLowerCase()}`;
        await new Admin(c).createTopics([{ name: topic, numPartitions: 1, replicationFactor: 1 }]);
        const [r] = await producer.send(topic, [{ key: null, value: Buffer.from("v") }]);
        assert.equal(r?.baseOffset, 0n);
      } finally {
        await producer.close();
        await c.close();
      }
    });
  }

  for (const mechanism of ["PLAIN", "SCRAM-SHA-512"] satisfies SaslMechanism[]) {
    test(`a wrong ${mechanism} password fails with SASL_AUTHENTICATION_FAILED and no secret in the message`, async () => {
      const c = cluster("SASL_SSL", {
        protocol: "SASL_SSL",
        tls: { caFile: sb.certs.caCert },
        sasl: { mechanism, username: "alice", password: WRONG },
      });
      try {
        const started = Date.now();
        await assert.rejects(new Admin(c).describeCluster(), (e: unknown) => {
          assert.ok(e instanceof KafkaError, String(e));
          assert.equal(e.code, ErrorCode.SASL_AUTHENTICATION_FAILED);
          assert.equal(e.retriable, false);
          assert.ok(!e.message.includes(WRONG) && !e.message.includes(PASSWORD), e.message);
          assert.match(e.message, /alice/);
          return true;
        });
        assert.ok(Date.now() - started < 5_000, "an authentication failure is not retried");
      } finally {
        await c.close();
      }
    });
  }

  test("a client config file with Kafka property names and ${env:...} / ${file:...} secrets", async () => {
    const dir = sb.certs.dir;
    const pwFile = join(dir, "client-pw.txt");
    writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
    const config = join(dir, "client-file.properties");
    const write = (password: string): void =>
      writeFileSync(
        config,
        [
          "# a secured source",
          "security.protocol=SASL_SSL",
          "ssl.ca.location=ferry-test-ca.pem",
          "sasl.mechanism=SCRAM-SHA-256",
          "sasl.username=alice",
          `sasl.password=${password}`,
        ].join("\n"),
      );
    for (const [password, env] of [
      ["${file:client-pw.txt}", {}],
      ["${env:FERRY_TEST_PW}", { FERRY_TEST_PW: PASSWORD }],
    ] as const) {
      write(password);
      const c = new Cluster({
        bootstrap: sb.address("SASL_SSL"),
        ...clusterOptionsFromConfigFile(config, env),
      });
      try {
        await new Admin(c).describeCluster();
      } finally {
        await c.close();
      }
    }
    write("${env:FERRY_TEST_UNSET}");
    assert.throws(
      () => clusterOptionsFromConfigFile(config, {}),
      /sasl\.password: environment variable FERRY_TEST_UNSET is not set/,
    );
  });
});

describe("SCRAM client", () => {
  for (const mechanism of ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
    test(`${mechanism}: the exchange completes against the broker's server side, and a forged server signature is refused`, () => {
      const credential = credentialFromPassword(mechanism, PASSWORD);
      const server = new ScramServerExchange(mechanism, () => credential);
      const client = new ScramClient(mechanism, "al=ce,x", PASSWORD);
      const serverFirst = server.evaluate(client.first());
      const serverFinal = server.evaluate(client.final(serverFirst));
      assert.equal(server.user, "al=ce,x");
      client.verify(serverFinal);
      const forged = Buffer.from(
        `v=${Buffer.alloc(mechanism === "SCRAM-SHA-256" ? 32 : 64).toString("base64")}`,
      );
      assert.throws(() => client.verify(forged), /server signature does not verify/);
    });
  }

  test("a server nonce that does not extend the client's is refused", () => {
    const client = new ScramClient("SCRAM-SHA-256", "alice", PASSWORD, "clientnonce");
    client.first();
    assert.throws(
      () => client.final(Buffer.from(`r=othernonce123,s=${Buffer.from("salt").toString("base64")},i=4096`)),
      /nonce/,
    );
  });
});
