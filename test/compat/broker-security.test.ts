// kcat and confluent-kafka (librdkafka) against a Ferry broker with TLS, SASL/PLAIN and
// SCRAM-SHA-256/512 listeners: each client connects and round-trips records, and is refused
// with a wrong password, a wrong CA or no client certificate. The broker's log never holds
// a test password.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openConnection } from "../../src/net/connection.ts";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { saltPassword } from "../../src/broker/security/scram.ts";
import { kcat, pythonModule, requirePeer } from "../helpers/peers.ts";
import { makeTestCerts, opensslMissing, type TestCerts } from "../security/certs.ts";
import { pythonScript, runProgram, startTestBroker, uniqueName, type TestBroker } from "./broker-harness.ts";
import { SYSTEM_PYTHON } from "../helpers/peers.ts";

const PASSWORDS = {
  alice: "alice-Pa55-w0rd-7f3e",
  bob: "bob-plain-secret-91c2",
};
const TIMEOUT_MS = 25_000;

describe("TLS and SASL listeners with real clients", () => {
  let broker: TestBroker;
  let certs: TestCerts;
  let skip: string | undefined;
  const port = (name: string): number => {
    const l = broker.current.listeners.find((x) => x.name === name);
    assert.ok(l !== undefined, `listener ${name}`);
    return l.port;
  };

  before(async () => {
    skip = opensslMissing();
    if (skip !== undefined) return;
    certs = makeTestCerts();
    const plainUsers = join(certs.dir, "plain-users.txt");
    writeFileSync(plainUsers, `# PLAIN users of the test broker\nbob:${PASSWORDS.bob}\n`, { mode: 0o600 });
    broker = await startTestBroker({
      listeners:
        "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,MTLS://127.0.0.1:0",
      "listener.security.protocol.map":
        "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL",
      "ssl.keystore.location": certs.serverKeystore,
      "listener.name.mtls.ssl.client.auth": "required",
      "listener.name.mtls.ssl.truststore.location": certs.caCert,
      "ferry.sasl.plain.users.file": plainUsers,
    });
    // alice gets SCRAM credentials through AlterUserScramCredentials, as an admin tool would.
    const conn = await openConnection({ host: "127.0.0.1", port: port("PLAINTEXT") });
    try {
      const salt = Buffer.from("0123456789abcdef0123456789abcdef");
      const r = await conn.send(ApiKey.AlterUserScramCredentials, 0, {
        deletions: [],
        upsertions: (["SCRAM-SHA-256", "SCRAM-SHA-512"] as const).map((m, i) => ({
          name: "alice",
          mechanism: i + 1,
          iterations: 4096,
          salt,
          saltedPassword: saltPassword(m, PASSWORDS.alice, salt, 4096),
        })),
      });
      assert.deepEqual(
        r.results.map((x) => [x.user, x.errorCode]),
        [["alice", 0]],
      );
    } finally {
      await conn.close();
    }
  });

  after(async () => {
    if (broker === undefined) return;
    const lines = broker.logLines().join("");
    await broker.close();
    for (const [user, password] of Object.entries(PASSWORDS))
      assert.ok(!lines.includes(password), `the broker log never contains ${user}'s password`);
  });

  function kcatArgs(listener: string, settings: Record<string, string>): string[] {
    const args = ["-b", `127.0.0.1:${port(listener)}`];
    for (const [k, v] of Object.entries(settings)) args.push("-X", `${k}=${v}`);
    return args;
  }

  /** Produces three records with kcat and reads them back; resolves with what came back. */
  async function kcatRoundTrip(listener: string, settings: Record<string, string>): Promise<string[]> {
    const topic = uniqueName(`sec-${listener.toLowerCase()}`);
    const args = kcatArgs(listener, settings);
    const produced = await runProgram("kcat", ["-P", ...args, "-t", topic], {
      input: "one\ntwo\nthree\n",
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(produced.code, 0, `kcat -P over ${listener}: ${produced.stderr}`);
    const consumed = await runProgram("kcat", ["-C", ...args, "-t", topic, "-o", "beginning", "-e", "-q"], {
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(consumed.code, 0, `kcat -C over ${listener}: ${consumed.stderr}`);
    return consumed.stdout.split("\n").filter((l) => l !== "");
  }

  /** kcat -L with a short timeout; resolves with its exit code and stderr. */
  async function kcatList(listener: string, settings: Record<string, string>) {
    return runProgram("kcat", ["-L", ...kcatArgs(listener, settings), "-m", "2"], { timeoutMs: TIMEOUT_MS });
  }

  const scram = (mechanism: string, password: string): Record<string, string> => ({
    "security.protocol": "SASL_SSL",
    "sasl.mechanisms": mechanism,
    "sasl.username": "alice",
    "sasl.password": password,
  });

  test("kcat round-trips records over TLS when it trusts the test CA", async (t) => {
    if (skip !== undefined || !(await requirePeer(t, "kcat", kcat))) return;
    const got = await kcatRoundTrip("SSL", { "security.protocol": "SSL", "ssl.ca.location": certs.caCert });
    assert.deepEqual(got, ["one", "two", "three"]);
  });

  test("kcat refuses a TLS listener whose certificate is signed by another CA", async (t) => {
    if (skip !== undefined || !(await requirePeer(t, "kcat", kcat))) return;
    const r = await kcatList("SSL", { "security.protocol": "SSL", "ssl.ca.location": certs.otherCaCert });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /certificate verify failed/);
  });

  test("a listener with ssl.client.auth=required serves kcat with a client certificate and refuses it without", async (t) => {
    if (skip !== undefined || !(await requirePeer(t, "kcat", kcat))) return;
    const base = { "security.protocol": "SSL", "ssl.ca.location": certs.caCert };
    const got = await kcatRoundTrip("MTLS", {
      ...base,
      "ssl.certificate.location": certs.clientCert,
      "ssl.key.location": certs.clientKey,
    });
    assert.deepEqual(got, ["one", "two", "three"]);
    const refused = await kcatList("MTLS", base);
    assert.notEqual(refused.code, 0);
  });

  test("kcat logs in with SASL/PLAIN from the users file, and with PLAIN against a SCRAM user", async (t) => {
    if (skip !== undefined || !(await requirePeer(t, "kcat", kcat))) return;
    const plain = (user: string, password: string) => ({
      "security.protocol": "SASL_PLAINTEXT",
      "sasl.mechanisms": "PLAIN",
      "sasl.username": user,
      "sasl.password": password,
    });
    assert.deepEqual(await kcatRoundTrip("SASL_PLAINTEXT", plain("bob", PASSWORDS.bob)), [
      "one",
      "two",
      "three",
    ]);
    assert.deepEqual(await kcatRoundTrip("SASL_PLAINTEXT", plain("alice", PASSWORDS.alice)), [
      "one",
      "two",
      "three",
    ]);
  });

  test("kcat is refused with a wrong SASL/PLAIN password", async (t) => {
    if (skip !== undefined || !(await requirePeer(t, "kcat", kcat))) return;
    const r = await kcatList("SASL_PLAINTEXT", {
      "security.protocol": "SASL_PLAINTEXT",
      "sasl.mechanisms": "PLAIN",
      "sasl.username": "bob",
      "sasl.password": "not-bobs-password",
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Invalid username or password/);
  });

  for (const mechanism of ["SCRAM-SHA-256", "SCRAM-SHA-512"]) {
    test(`kcat round-trips records over SASL_SSL with ${mechanism}`, async (t) => {
      if (skip !== undefined || !(await requirePeer(t, "kcat", kcat))) return;
      const got = await kcatRoundTrip("SASL_SSL", {
        ...scram(mechanism, PASSWORDS.alice),
        "ssl.ca.location": certs.caCert,
      });
      assert.deepEqual(got, ["one", "two", "three"]);
    });

    test(`kcat is refused over SASL_SSL with ${mechanism} and a wrong password`, async (t) => {
      if (skip !== undefined || !(await requirePeer(t, "kcat", kcat))) return;
      const r = await kcatList("SASL_SSL", {
        ...scram(mechanism, "wrong-password"),
        "ssl.ca.location": certs.caCert,
      });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /invalid credentials/);
    });
  }

  interface SecureResult {
    produced: number;
    consumed: string[];
    error: string | null;
  }
  async function confluent(listener: string, settings: Record<string, string>, n = 5): Promise<SecureResult> {
    const r = await runProgram(
      SYSTEM_PYTHON,
      [
        pythonScript("confluent_secure.py"),
        JSON.stringify(settings),
        `127.0.0.1:${port(listener)}`,
        uniqueName("py-sec"),
        String(n),
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as SecureResult;
  }
  const expected = ["v0", "v1", "v2", "v3", "v4"];

  test("confluent-kafka produces and consumes over TLS, and refuses a wrong CA", async (t) => {
    if (skip !== undefined || !(await requirePeer(t, "confluent-kafka", pythonModule("confluent_kafka"))))
      return;
    const ok = await confluent("SSL", { "security.protocol": "SSL", "ssl.ca.location": certs.caCert });
    assert.deepEqual(ok, { produced: 5, consumed: expected, error: null });
    const bad = await confluent(
      "SSL",
      { "security.protocol": "SSL", "ssl.ca.location": certs.otherCaCert, "message.timeout.ms": "2500" },
      1,
    );
    assert.equal(bad.produced, 0);
    assert.ok(bad.error !== null);
  });

  test("confluent-kafka logs in with SASL/PLAIN, and is refused with a wrong password", async (t) => {
    if (skip !== undefined || !(await requirePeer(t, "confluent-kafka", pythonModule("confluent_kafka"))))
      return;
    const plain = (password: string) => ({
      "message.timeout.ms": "2500",
      "security.protocol": "SASL_PLAINTEXT",
      "sasl.mechanisms": "PLAIN",
      "sasl.username": "bob",
      "sasl.password": password,
    });
    assert.deepEqual(await confluent("SASL_PLAINTEXT", plain(PASSWORDS.bob)), {
      produced: 5,
      consumed: expected,
      error: null,
    });
    const bad = await confluent("SASL_PLAINTEXT", plain("nope"), 1);
    assert.equal(bad.produced, 0);
    assert.match(bad.error ?? "", /Invalid username or password|Authentication/);
  });

  for (const mechanism of ["SCRAM-SHA-256", "SCRAM-SHA-512"]) {
    test(`confluent-kafka produces and consumes over SASL_SSL with ${mechanism}, and is refused with a wrong password`, async (t) => {
      if (skip !== undefined || !(await requirePeer(t, "confluent-kafka", pythonModule("confluent_kafka"))))
        return;
      const ok = await confluent("SASL_SSL", {
        ...scram(mechanism, PASSWORDS.alice),
        "ssl.ca.location": certs.caCert,
      });
      assert.deepEqual(ok, { produced: 5, consumed: expected, error: null });
      const bad = await confluent(
        "SASL_SSL",
        { ...scram(mechanism, "wrong"), "ssl.ca.location": certs.caCert, "message.timeout.ms": "2500" },
        1,
      );
      assert.equal(bad.produced, 0);
      assert.match(bad.error ?? "", /invalid credentials|Authentication/);
    });
  }

  test("a SASL listener closes the connection on a request other than ApiVersions or SASL before login", async () => {
    if (skip !== undefined) return;
    const conn = await openConnection({ host: "127.0.0.1", port: port("SASL_PLAINTEXT") });
    const versions = await conn.send(ApiKey.ApiVersions, 3, {
      clientSoftwareName: "t",
      clientSoftwareVersion: "1",
    });
    assert.equal(versions.errorCode, 0);
    await assert.rejects(conn.send(ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false }));
    await conn.close();
  });

  test("metadata lists the address of the listener the client connected to", async () => {
    if (skip !== undefined) return;
    for (const name of ["PLAINTEXT", "SASL_PLAINTEXT"]) {
      const conn = await openConnection({ host: "127.0.0.1", port: port(name) });
      try {
        if (name !== "PLAINTEXT") {
          await conn.send(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" });
          const a = await conn.send(ApiKey.SaslAuthenticate, 2, {
            authBytes: Buffer.from(`\u0000bob\u0000${PASSWORDS.bob}`),
          });
          assert.equal(a.errorCode, 0);
        }
        const md = await conn.send(ApiKey.Metadata, 12, { topics: [], allowAutoTopicCreation: false });
        assert.deepEqual(
          md.brokers.map((b) => [b.host, b.port]),
          [["127.0.0.1", port(name)]],
        );
      } finally {
        await conn.close();
      }
    }
  });
});
