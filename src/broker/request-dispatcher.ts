// Turns request frames into handler calls and responses into frames. Unknown APIs and
// versions are answered as Kafka does: ApiVersions with a v0 UNSUPPORTED_VERSION body
// (KIP-511), anything else by closing the connection; so are frames that do not parse.
// Each connection has a security session: on a SASL listener, requests other than
// ApiVersions and the SASL APIs close the connection until authentication has succeeded.
import { ApiKey } from "../protocol/generated/index.ts";
import type { ApiKeyNumber } from "../protocol/generated/index.ts";
import {
  decodeRequest,
  encodeApiVersionsUnsupported,
  encodeResponseChunks,
  peekRequestHeader,
} from "../protocol/messages.ts";
import type { FramePool } from "../net/frame-pool.ts";
import type { ServerConnection } from "../net/server.ts";
import type { ResponseFrame } from "../net/server-connection.ts";
import type { AnyApiHandler, ApiHandler, RequestContext } from "./apis/api.ts";
import type { BrokerContext } from "./broker-context.ts";
import type { ListenerSpec } from "./security/listeners.ts";
import { SaslAuthenticationError } from "./security/scram.ts";
import { SecuritySession } from "./security/sasl-session.ts";

/**
 * Response buffers at least this large come from the frame pool (fetches read from files, or
 * copied out of a log's in-memory tail); smaller ones are not worth it.
 */
const POOLED_RESPONSE_BYTES = 16 * 1024;

/** Kafka's connection.failed.authentication.delay.ms default: the failure answer goes out first. */
const FAILED_AUTH_CLOSE_DELAY_MS = 100;

/** A request the broker refuses by closing the connection. */
export class RefusedRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RefusedRequestError";
  }
}

export class RequestDispatcher {
  readonly #broker: BrokerContext;
  readonly #handlers: (AnyApiHandler | undefined)[] = [];
  readonly #listeners: ReadonlyMap<string, ListenerSpec>;
  readonly #sessions = new WeakMap<ServerConnection, SecuritySession>();
  readonly #framePool: FramePool;

  /** `framePool`: where the listeners put large requests; handlers that allow it give them back. */
  constructor(broker: BrokerContext, listeners: readonly ListenerSpec[], framePool: FramePool) {
    this.#broker = broker;
    this.#framePool = framePool;
    this.#listeners = new Map(listeners.map((l) => [l.name, l]));
    for (const h of broker.apis) this.#handlers[h.key] = h;
  }

  /**
   * Starts a connection's security session; call before its first request. A SASL listener
   * accepts only small frames (sasl.server.max.receive.size) until the client has authenticated.
   */
  open(connection: ServerConnection): SecuritySession {
    const listener = this.#listeners.get(connection.listenerName);
    if (listener === undefined) throw new Error(`no listener named ${connection.listenerName}`);
    const session = new SecuritySession(
      listener,
      this.#broker.security,
      connection.remoteAddress ?? "unknown",
      connection.peerPrincipal,
    );
    this.#sessions.set(connection, session);
    if (!session.authenticated)
      connection.setMaxFrameBytes(
        Math.min(
          this.#broker.config.int("sasl.server.max.receive.size"),
          this.#broker.config.int("socket.request.max.bytes"),
        ),
      );
    return session;
  }

  /** Handles one request frame payload; resolves to the response frame or null (no response). */
  async dispatch(payload: Buffer, connection: ServerConnection): Promise<ResponseFrame | null> {
    const session = this.#sessions.get(connection) ?? this.open(connection);
    if (session.expectsRawToken) return this.#rawToken(payload, session, connection);
    const { apiKey, apiVersion, correlationId } = peekRequestHeader(payload);
    if (!session.mayServe(apiKey)) {
      session.fail();
      throw new RefusedRequestError(
        `API key ${apiKey} from ${connection.remoteAddress} on listener ${session.listener.name} before SASL authentication`,
      );
    }
    const handler = this.#handlers[apiKey];
    if (handler === undefined || apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === ApiKey.ApiVersions) {
        const own = this.#handlers[ApiKey.ApiVersions];
        return encodeApiVersionsUnsupported(correlationId, own?.minVersion ?? 0, own?.maxVersion ?? 0);
      }
      throw new RefusedRequestError(
        `unsupported API key ${apiKey} version ${apiVersion} from ${connection.remoteAddress}`,
      );
    }
    const { header, body } = decodeRequest(payload);
    const ctx: RequestContext = {
      broker: this.#broker,
      apiVersion,
      correlationId,
      clientId: header.clientId,
      clientHost: `/${connection.remoteAddress ?? "unknown"}`,
      session,
      authorize: (operation, resourceType, resourceName) =>
        this.#broker.security.authorize(session, operation, resourceType, resourceName),
      responseBuffer: (size) => {
        if (size < POOLED_RESPONSE_BYTES) return Buffer.allocUnsafe(size);
        const b = this.#framePool.take(size);
        (lent ??= new Set()).add(b);
        return b;
      },
      releaseResponseBuffer: (b) => {
        if (lent?.delete(b) === true) this.#framePool.give(b);
      },
    };
    let lent: Set<Buffer> | undefined;
    const wasAuthenticated = session.authenticated;
    let response;
    try {
      response = await (handler as ApiHandler<ApiKeyNumber>).handle(body, ctx);
    } finally {
      if (handler.requestDoneWhenSettled === true) this.#framePool.give(payload);
    }
    if (session.failed) setTimeout(() => connection.close(), FAILED_AUTH_CLOSE_DELAY_MS).unref();
    else if (!wasAuthenticated && session.authenticated)
      connection.setMaxFrameBytes(this.#broker.config.int("socket.request.max.bytes"));
    if (response === null) return null;
    const chunks = encodeResponseChunks(apiKey as ApiKeyNumber, apiVersion, correlationId, response as never);
    const borrowed = lent;
    if (borrowed === undefined) return chunks;
    return {
      chunks,
      written: () => {
        for (const b of borrowed) this.#framePool.give(b);
      },
    };
  }
  /** A raw SASL token after a v0 handshake: answered with a size-prefixed token; a failure closes. */
  #rawToken(token: Buffer, session: SecuritySession, connection: ServerConnection): Promise<Buffer> {
    let answer: Buffer;
    try {
      answer = session.authenticate(token);
    } catch (e) {
      if (!(e instanceof SaslAuthenticationError)) throw e;
      this.#broker.log.warn("SASL authentication failed", {
        listener: session.listener.name,
        client: session.host,
        reason: e.message,
      });
      throw new RefusedRequestError(`SASL authentication failed on listener ${session.listener.name}`);
    }
    if (session.authenticated)
      connection.setMaxFrameBytes(this.#broker.config.int("socket.request.max.bytes"));
    const frame = Buffer.allocUnsafe(4 + answer.length);
    frame.writeInt32BE(answer.length, 0);
    answer.copy(frame, 4);
    return Promise.resolve(frame);
  }
}
