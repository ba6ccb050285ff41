// One client connection's security session: which listener it came in on, who it is, and
// where it stands in SASL authentication. Before authentication completes on a SASL
// listener only ApiVersions, SaslHandshake and SaslAuthenticate are served (as Kafka does).
// SaslHandshake v1 is followed by SaslAuthenticate requests (KIP-152); v0 by raw
// size-prefixed tokens, the legacy form older clients use.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { ANONYMOUS, type BrokerSecurity, type Principal } from "./broker-security.ts";
import type { ListenerSpec, SaslMechanism } from "./listeners.ts";
import { SaslAuthenticationError, ScramServerExchange } from "./scram.ts";

/** The server's side of one mechanism's exchange. */
interface SaslExchange {
  evaluate(token: Buffer): Buffer;
  readonly complete: boolean;
  readonly user: string | undefined;
}

/** PLAIN (RFC 4616): one message "authzid NUL user NUL password". */
class PlainExchange implements SaslExchange {
  readonly #verify: (user: string, password: string) => boolean;
  #user: string | undefined;

  constructor(verify: (user: string, password: string) => boolean) {
    this.#verify = verify;
  }

  get complete(): boolean {
    return this.#user !== undefined;
  }

  get user(): string | undefined {
    return this.#user;
  }

  evaluate(token: Buffer): Buffer {
    const parts = token.toString("utf8").split("\u0000");
    if (parts.length !== 3)
      throw new SaslAuthenticationError("Invalid SASL/PLAIN message: expected 3 tokens");
    const [authzid, user, password] = parts as [string, string, string];
    if (user === "") throw new SaslAuthenticationError("Authentication failed: username not specified");
    if (authzid !== "" && authzid !== user)
      throw new SaslAuthenticationError(
        "Authentication failed: Client requested an authorization id that is different from username",
      );
    if (!this.#verify(user, password))
      throw new SaslAuthenticationError("Authentication failed: Invalid username or password");
    this.#user = user;
    return Buffer.alloc(0);
  }
}

/** APIs a SASL listener serves before authentication. */
const BEFORE_AUTH: ReadonlySet<number> = new Set([
  ApiKey.ApiVersions,
  ApiKey.SaslHandshake,
  ApiKey.SaslAuthenticate,
]);

export class SecuritySession implements Principal {
  readonly listener: ListenerSpec;
  readonly host: string;
  readonly #security: BrokerSecurity;
  principal: string;
  #authenticated: boolean;
  #exchange: SaslExchange | undefined;
  #legacy = false;
  #failed = false;

  constructor(
    listener: ListenerSpec,
    security: BrokerSecurity,
    host: string,
    certificatePrincipal: string | undefined,
  ) {
    this.listener = listener;
    this.host = host;
    this.#security = security;
    this.principal = certificatePrincipal !== undefined ? `User:${certificatePrincipal}` : ANONYMOUS;
    this.#authenticated = !listener.protocol.startsWith("SASL_");
  }

  get authenticated(): boolean {
    return this.#authenticated;
  }

  /** True after a v0 handshake, while the next frame is a raw SASL token rather than a request. */
  get expectsRawToken(): boolean {
    return this.#legacy && !this.#authenticated && !this.#failed;
  }

  /** True once authentication failed or the client broke the protocol: the connection is closing. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Whether a request with this API key may be served now. */
  mayServe(apiKey: number): boolean {
    if (this.#failed) return false;
    return this.#authenticated || BEFORE_AUTH.has(apiKey);
  }

  /** SaslHandshake: picks the mechanism; returns the error code to answer with. */
  handshake(mechanism: string, version: number): number {
    if (!this.listener.protocol.startsWith("SASL_") || this.#authenticated || this.#exchange !== undefined)
      return ErrorCode.ILLEGAL_SASL_STATE;
    const m = mechanism.toUpperCase() as SaslMechanism;
    if (!this.listener.saslMechanisms.includes(m)) return ErrorCode.UNSUPPORTED_SASL_MECHANISM;
    this.#exchange =
      m === "PLAIN"
        ? new PlainExchange((user, password) => this.#security.verifyPlain(this.listener, user, password))
        : new ScramServerExchange(m, (user, mech) => this.#security.credentials.get(user, mech));
    this.#legacy = version === 0;
    return ErrorCode.NONE;
  }

  /**
   * Feeds one client token to the exchange; returns the server's token. Throws
   * SaslAuthenticationError when authentication fails; the session is then failed for good.
   */
  authenticate(token: Buffer): Buffer {
    const exchange = this.#exchange;
    if (exchange === undefined || this.#authenticated || this.#failed)
      throw new SaslAuthenticationError(
        "Unexpected SASL authenticate request: no handshake, or already authenticated",
      );
    try {
      const answer = exchange.evaluate(token);
      if (exchange.complete && exchange.user !== undefined) {
        this.principal = `User:${exchange.user}`;
        this.#authenticated = true;
      }
      return answer;
    } catch (e) {
      this.#failed = true;
      if (e instanceof SaslAuthenticationError) throw e;
      throw new SaslAuthenticationError("Authentication failed: malformed SASL message");
    }
  }

  /** Marks the session failed (a protocol violation); nothing more is served. */
  fail(): void {
    this.#failed = true;
  }
}
