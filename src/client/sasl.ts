// SASL for the client: an Authenticator that logs a new connection in with PLAIN or
// SCRAM-SHA-256/512 (SaslHandshake v1 + SaslAuthenticate, KIP-152). SCRAM follows RFC 5802
// and RFC 7677 and verifies the broker's signature, so a broker that does not know the
// password cannot pass itself off. Passwords never appear in errors.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import type { Connection } from "../net/connection.ts";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { ApiKey } from "../protocol/generated/index.ts";
import type { Authenticator } from "./broker-connection.ts";
import type { VersionTable } from "./versions.ts";

export type SaslMechanism = "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
export const SASL_MECHANISMS: readonly SaslMechanism[] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

export interface SaslOptions {
  mechanism: SaslMechanism;
  username: string;
  /** The password; kept in the authenticator's closure only. */
  password: string;
}

/** Logging in failed: SASL_AUTHENTICATION_FAILED (or the handshake's code). Not retriable. */
export class SaslError extends KafkaError {
  readonly broker: string;
  constructor(code: number, broker: string, message: string) {
    super(code, `SASL login to broker ${broker}: ${message}`);
    this.name = "SaslError";
    this.broker = broker;
  }
}

/** An Authenticator for ClusterOptions.authenticate. */
export function saslAuthenticator(options: SaslOptions): Authenticator {
  const { mechanism, username, password } = options;
  if (!SASL_MECHANISMS.includes(mechanism)) throw new RangeError(`unsupported SASL mechanism '${mechanism}'`);
  if (username === "") throw new RangeError("SASL needs a username");
  return async ({ connection, versions, broker }) => {
    const where = `${broker.host}:${broker.port}`;
    const exchange = new SaslExchange(connection, versions, where, mechanism, username);
    await exchange.handshake();
    if (mechanism === "PLAIN") {
      await exchange.authenticate(Buffer.from(`\u0000${username}\u0000${password}`, "utf8"));
      return;
    }
    const scram = new ScramClient(mechanism, username, password);
    const serverFirst = await exchange.authenticate(scram.first());
    let clientFinal: Buffer;
    try {
      clientFinal = scram.final(serverFirst);
    } catch (e) {
      throw new SaslError(ErrorCode.SASL_AUTHENTICATION_FAILED, where, (e as Error).message);
    }
    const serverFinal = await exchange.authenticate(clientFinal);
    try {
      scram.verify(serverFinal);
    } catch (e) {
      throw new SaslError(ErrorCode.SASL_AUTHENTICATION_FAILED, where, (e as Error).message);
    }
  };
}

/** SaslHandshake v1 and SaslAuthenticate round trips on one connection. */
class SaslExchange {
  readonly #connection: Connection;
  readonly #versions: VersionTable;
  readonly #where: string;
  readonly #mechanism: SaslMechanism;
  readonly #username: string;

  constructor(
    connection: Connection,
    versions: VersionTable,
    where: string,
    mechanism: SaslMechanism,
    username: string,
  ) {
    this.#connection = connection;
    this.#versions = versions;
    this.#where = where;
    this.#mechanism = mechanism;
    this.#username = username;
  }

  async handshake(): Promise<void> {
    if (
      !this.#versions.supports(ApiKey.SaslHandshake, 1) ||
      !this.#versions.supports(ApiKey.SaslAuthenticate)
    ) {
      throw new SaslError(
        ErrorCode.ILLEGAL_SASL_STATE,
        this.#where,
        "the broker does not offer SaslHandshake v1 and SaslAuthenticate (Kafka 1.0+)",
      );
    }
    const r = await this.#connection.send(ApiKey.SaslHandshake, 1, { mechanism: this.#mechanism });
    if (r.errorCode !== 0) {
      const offered = r.mechanisms.length === 0 ? "none" : r.mechanisms.join(", ");
      throw new SaslError(
        r.errorCode,
        this.#where,
        `mechanism ${this.#mechanism} refused (the broker offers ${offered})`,
      );
    }
  }

  /** Sends one token; resolves with the broker's answer, throws SaslError when it refuses. */
  async authenticate(token: Buffer): Promise<Buffer> {
    const version = this.#versions.version(ApiKey.SaslAuthenticate, 0, 2);
    const r = await this.#connection.send(ApiKey.SaslAuthenticate, version, { authBytes: token });
    if (r.errorCode !== 0) {
      const said = r.errorMessage === null || r.errorMessage === "" ? "" : `: ${r.errorMessage}`;
      throw new SaslError(
        r.errorCode,
        this.#where,
        `user '${this.#username}' with ${this.#mechanism} refused${said}`,
      );
    }
    return Buffer.from(r.authBytes);
  }
}

type ScramMechanism = Exclude<SaslMechanism, "PLAIN">;

/** The client side of one SCRAM exchange (RFC 5802): first(), final(serverFirst), verify(serverFinal). */
export class ScramClient {
  readonly #hash: "sha256" | "sha512";
  readonly #username: string;
  readonly #password: string;
  readonly #nonce: string;
  #clientFirstBare = "";
  #expectedServerSignature: Buffer | undefined;

  constructor(mechanism: ScramMechanism, username: string, password: string, nonce?: string) {
    this.#hash = mechanism === "SCRAM-SHA-256" ? "sha256" : "sha512";
    this.#username = username;
    this.#password = password;
    this.#nonce = nonce ?? randomBytes(24).toString("base64url");
  }

  /** client-first-message: "n,,n=user,r=nonce". */
  first(): Buffer {
    const name = this.#username.replaceAll("=", "=3D").replaceAll(",", "=2C");
    this.#clientFirstBare = `n=${name},r=${this.#nonce}`;
    return Buffer.from(`n,,${this.#clientFirstBare}`, "utf8");
  }

  /** client-final-message with the proof, for the server-first-message. */
  final(serverFirstBytes: Buffer): Buffer {
    const serverFirst = serverFirstBytes.toString("utf8");
    const attrs = parseAttributes(serverFirst);
    if (attrs.has("e")) throw new Error(`the broker ended the SCRAM exchange: ${attrs.get("e") ?? ""}`);
    const nonce = attrs.get("r") ?? "";
    const salt = Buffer.from(attrs.get("s") ?? "", "base64");
    const iterations = Number(attrs.get("i"));
    if (!nonce.startsWith(this.#nonce) || nonce.length <= this.#nonce.length)
      throw new Error("the broker's SCRAM nonce does not extend ours");
    if (salt.length === 0 || !Number.isInteger(iterations) || iterations < 4096 || iterations > 1_000_000)
      throw new Error("the broker's SCRAM salt or iteration count is invalid");
    const length = this.#hash === "sha256" ? 32 : 64;
    const salted = pbkdf2Sync(
      Buffer.from(this.#password.normalize("NFKC"), "utf8"),
      salt,
      iterations,
      length,
      this.#hash,
    );
    const clientKey = this.#hmac(salted, "Client Key");
    const storedKey = createHash(this.#hash).update(clientKey).digest();
    const withoutProof = `c=${Buffer.from("n,,").toString("base64")},r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = this.#hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = (clientKey[i] as number) ^ (signature[i] as number);
    this.#expectedServerSignature = this.#hmac(this.#hmac(salted, "Server Key"), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString("base64")}`, "utf8");
  }

  /** Checks the server-final-message's signature; throws when the broker does not know the password. */
  verify(serverFinalBytes: Buffer): void {
    const attrs = parseAttributes(serverFinalBytes.toString("utf8"));
    if (attrs.has("e")) throw new Error(`the broker ended the SCRAM exchange: ${attrs.get("e") ?? ""}`);
    const expected = this.#expectedServerSignature;
    const got = Buffer.from(attrs.get("v") ?? "", "base64");
    if (expected === undefined || got.length !== expected.length || !timingSafeEqual(got, expected))
      throw new Error("the broker's SCRAM server signature does not verify");
  }

  #hmac(key: Buffer, text: string): Buffer {
    return createHmac(this.#hash, key).update(text).digest();
  }
}

function parseAttributes(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of text.split(",")) {
    if (part.length >= 2 && part[1] === "=") map.set(part[0] as string, part.slice(2));
  }
  return map;
}
