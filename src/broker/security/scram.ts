// SCRAM-SHA-256/512 (RFC 5802, RFC 7677) as Kafka uses it: the stored form of a password
// (salt, iterations, StoredKey, ServerKey; never the password) and the server's side of the
// three-message exchange. Kafka's token extension (tokenauth) is refused.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

export type ScramMechanism = "SCRAM-SHA-256" | "SCRAM-SHA-512";

/** Kafka's mechanism codes in the SCRAM credential APIs. */
export const SCRAM_MECHANISM_CODE: Record<ScramMechanism, number> = {
  "SCRAM-SHA-256": 1,
  "SCRAM-SHA-512": 2,
};

/** Kafka's bounds on iterations (ScramMechanism.minIterations; 16384 is its upper limit). */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;

/** What the broker keeps of a SCRAM password. */
export interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

function hashName(mechanism: ScramMechanism): "sha256" | "sha512" {
  return mechanism === "SCRAM-SHA-256" ? "sha256" : "sha512";
}

function hmac(mechanism: ScramMechanism, key: Buffer, text: string | Buffer): Buffer {
  return createHmac(hashName(mechanism), key).update(text).digest();
}

/** Hi(password, salt, i) of RFC 5802: PBKDF2 with the mechanism's HMAC. */
export function saltPassword(
  mechanism: ScramMechanism,
  password: string,
  salt: Buffer,
  iterations: number,
): Buffer {
  const length = mechanism === "SCRAM-SHA-256" ? 32 : 64;
  return pbkdf2Sync(
    Buffer.from(password.normalize("NFKC"), "utf8"),
    salt,
    iterations,
    length,
    hashName(mechanism),
  );
}

/** The stored credential for a salted password (what AlterUserScramCredentials sends). */
export function credentialFromSaltedPassword(
  mechanism: ScramMechanism,
  salt: Buffer,
  saltedPassword: Buffer,
  iterations: number,
): ScramCredential {
  const clientKey = hmac(mechanism, saltedPassword, "Client Key");
  return {
    salt,
    iterations,
    storedKey: createHash(hashName(mechanism)).update(clientKey).digest(),
    serverKey: hmac(mechanism, saltedPassword, "Server Key"),
  };
}

/** A new credential for a password, with a random salt. */
export function credentialFromPassword(
  mechanism: ScramMechanism,
  password: string,
  iterations = SCRAM_MIN_ITERATIONS,
): ScramCredential {
  const salt = randomBytes(32);
  return credentialFromSaltedPassword(
    mechanism,
    salt,
    saltPassword(mechanism, password, salt, iterations),
    iterations,
  );
}

/** Whether `password` is the one behind a stored credential (used for PLAIN against SCRAM users). */
export function passwordMatches(
  mechanism: ScramMechanism,
  credential: ScramCredential,
  password: string,
): boolean {
  const salted = saltPassword(mechanism, password, credential.salt, credential.iterations);
  const candidate = credentialFromSaltedPassword(mechanism, credential.salt, salted, credential.iterations);
  return timingSafeEqual(candidate.storedKey, credential.storedKey);
}

/** The exchange failed: bad credentials or a malformed message. The message is safe to send. */
export class SaslAuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SaslAuthenticationError";
  }
}

/** Decodes a SCRAM saslname ("=2C" is ",", "=3D" is "="). */
function decodeSaslName(text: string): string {
  if (/=(?!2C|3D)/.test(text)) throw new SaslAuthenticationError("invalid SCRAM user name encoding");
  return text.replaceAll("=2C", ",").replaceAll("=3D", "=");
}

/** Splits "a=1,b=2" into attributes; values may contain '='. */
function attributes(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of text.split(",")) {
    if (part.length < 2 || part[1] !== "=") throw new SaslAuthenticationError("malformed SCRAM message");
    map.set(part[0] as string, part.slice(2));
  }
  return map;
}

/** Looks a user's credential up; undefined when the user has none for the mechanism. */
export type ScramCredentialLookup = (user: string, mechanism: ScramMechanism) => ScramCredential | undefined;

/**
 * The server side of one SCRAM exchange. evaluate() takes each client message and returns the
 * server's answer; `user` is set once the client's proof has been verified (complete).
 */
export class ScramServerExchange {
  readonly mechanism: ScramMechanism;
  readonly #lookup: ScramCredentialLookup;
  #step: "first" | "final" | "done" = "first";
  #user = "";
  #credential: ScramCredential | undefined;
  #nonce = "";
  #clientNonce = "";
  #gs2Header = "";
  #clientFirstBare = "";
  #serverFirst = "";

  constructor(mechanism: ScramMechanism, lookup: ScramCredentialLookup) {
    this.mechanism = mechanism;
    this.#lookup = lookup;
  }

  get complete(): boolean {
    return this.#step === "done";
  }

  /** The authenticated user, once complete. */
  get user(): string | undefined {
    return this.#step === "done" ? this.#user : undefined;
  }

  evaluate(token: Buffer): Buffer {
    const text = token.toString("utf8");
    if (this.#step === "first") return Buffer.from(this.#first(text), "utf8");
    if (this.#step === "final") return Buffer.from(this.#final(text), "utf8");
    throw new SaslAuthenticationError("SCRAM exchange already complete");
  }

  #first(text: string): string {
    // gs2-header: "n,," or "y,," (no channel binding), optionally with "a=authzid".
    const m = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(text);
    if (m === null || m[3] === undefined)
      throw new SaslAuthenticationError("malformed SCRAM client-first message");
    this.#gs2Header = `${m[1] ?? "n"},${m[2] ?? ""},`;
    this.#clientFirstBare = m[3];
    const attrs = attributes(m[3]);
    const user = decodeSaslName(attrs.get("n") ?? "");
    const clientNonce = attrs.get("r") ?? "";
    if (user === "" || clientNonce === "")
      throw new SaslAuthenticationError("malformed SCRAM client-first message");
    if (m[2] !== undefined && m[2] !== "a=" && decodeSaslName(m[2].slice(2)) !== user)
      throw new SaslAuthenticationError("SCRAM authorization id must match the user name");
    // Kafka's token authentication rides in an extension attribute; Ferry has no delegation tokens.
    const extensions = [...attrs.keys()].filter((k) => k !== "n" && k !== "r");
    if (extensions.length > 0) throw new SaslAuthenticationError("SCRAM extensions are not supported");
    const credential = this.#lookup(user, this.mechanism);
    if (credential === undefined) throw new SaslAuthenticationError(invalidCredentials(this.mechanism));
    this.#user = user;
    this.#credential = credential;
    this.#clientNonce = clientNonce;
    this.#nonce = clientNonce + randomBytes(18).toString("base64url");
    this.#serverFirst = `r=${this.#nonce},s=${credential.salt.toString("base64")},i=${credential.iterations}`;
    this.#step = "final";
    return this.#serverFirst;
  }

  #final(text: string): string {
    const credential = this.#credential;
    const proofAt = text.lastIndexOf(",p=");
    if (credential === undefined || proofAt < 0)
      throw new SaslAuthenticationError("malformed SCRAM client-final message");
    const withoutProof = text.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    if (attrs.get("c") !== Buffer.from(this.#gs2Header, "utf8").toString("base64"))
      throw new SaslAuthenticationError("SCRAM channel binding does not match");
    // librdkafka before 2.6.1 repeats its client nonce in front of the server's nonce (which
    // already starts with it; librdkafka#4895). Kafka 3.8.1-3.9 accepted that too. The server's
    // random part is still echoed, so a replayed exchange cannot pass.
    const echoed = attrs.get("r");
    if (echoed !== this.#nonce && echoed !== this.#clientNonce + this.#nonce)
      throw new SaslAuthenticationError("SCRAM nonce does not match");
    const proof = Buffer.from(text.slice(proofAt + 3), "base64");
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.mechanism, credential.storedKey, authMessage);
    if (proof.length !== clientSignature.length)
      throw new SaslAuthenticationError(invalidCredentials(this.mechanism));
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++)
      clientKey[i] = (proof[i] as number) ^ (clientSignature[i] as number);
    const storedKey = createHash(hashName(this.mechanism)).update(clientKey).digest();
    if (!timingSafeEqual(storedKey, credential.storedKey))
      throw new SaslAuthenticationError(invalidCredentials(this.mechanism));
    this.#step = "done";
    return `v=${hmac(this.mechanism, credential.serverKey, authMessage).toString("base64")}`;
  }
}

function invalidCredentials(mechanism: string): string {
  return `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`;
}
