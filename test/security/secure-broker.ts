// An in-process Ferry broker with PLAINTEXT (administration), SSL and SASL_SSL listeners and
// SCRAM users, for the client, link and control-plane security tests. Its log is captured so
// tests can grep it for secrets.
import assert from "node:assert/strict";
import type { SettingValue } from "../../src/broker/config/broker-config.ts";
import { saltPassword } from "../../src/broker/security/scram.ts";
import { openConnection } from "../../src/net/connection.ts";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { startTestBroker, type TestBroker } from "../compat/broker-harness.ts";
import { makeTestCerts, type TestCerts } from "./certs.ts";

export interface SecureBroker {
  readonly broker: TestBroker;
  readonly certs: TestCerts;
  /** "127.0.0.1:port" of a listener by name (PLAINTEXT, SSL, SASL_SSL). */
  address(listener: "PLAINTEXT" | "SSL" | "SASL_SSL"): string;
  /** Adds (or replaces) a user's SCRAM-SHA-256 and -512 credentials through the PLAINTEXT listener. */
  addScramUser(user: string, password: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts the broker; extra settings (e.g. an authorizer) are merged in. */
export async function startSecureBroker(settings: Record<string, SettingValue> = {}): Promise<SecureBroker> {
  const certs = makeTestCerts();
  const broker = await startTestBroker({
    listeners: "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
    "ssl.keystore.location": certs.serverKeystore,
    ...settings,
  });
  const address = (name: string): string => {
    const l = broker.current.listeners.find((x) => x.name === name);
    assert.ok(l !== undefined, `listener ${name}`);
    return `127.0.0.1:${l.port}`;
  };
  return {
    broker,
    certs,
    address,
    async addScramUser(user, password) {
      const [host, port] = address("PLAINTEXT").split(":");
      const conn = await openConnection({ host: host ?? "127.0.0.1", port: Number(port) });
      try {
        const salt = Buffer.from(`salt-of-${user}-0123456789`);
        const r = await conn.send(ApiKey.AlterUserScramCredentials, 0, {
          deletions: [],
          upsertions: (["SCRAM-SHA-256", "SCRAM-SHA-512"] as const).map((m, i) => ({
            name: user,
            mechanism: i + 1,
            iterations: 4096,
            salt,
            saltedPassword: saltPassword(m, password, salt, 4096),
          })),
        });
        assert.deepEqual(
          r.results.map((x) => [x.user, x.errorCode]),
          [[user, 0]],
        );
      } finally {
        await conn.close();
      }
    },
    close: () => broker.close(),
  };
}
