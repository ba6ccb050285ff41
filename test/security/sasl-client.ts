// A minimal SASL/PLAIN login over Ferry's own connection, for tests that need to act as a
// given user with exact control over each request (the ACL matrix).
import assert from "node:assert/strict";
import { openConnection, type Connection } from "../../src/net/connection.ts";
import { ApiKey } from "../../src/protocol/generated/index.ts";

/** Opens a connection to a SASL_PLAINTEXT listener and logs in with PLAIN. */
export async function connectAs(port: number, user: string, password: string): Promise<Connection> {
  const conn = await openConnection({ host: "127.0.0.1", port, clientId: `acl-${user}` });
  const hs = await conn.send(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" });
  assert.equal(hs.errorCode, 0, "PLAIN is enabled");
  const auth = await conn.send(ApiKey.SaslAuthenticate, 2, {
    authBytes: Buffer.from(`\u0000${user}\u0000${password}`, "utf8"),
  });
  assert.equal(auth.errorCode, 0, `${user} logs in: ${auth.errorMessage ?? ""}`);
  return conn;
}
