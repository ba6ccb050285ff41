// One broker as the client sees it: a lazily opened Connection, the ApiVersions handshake that
// fixes per-API versions, and reconnecting on the next request after the connection breaks.
import { openConnection, type Connection, type SocketFactory } from "../net/connection.ts";
import type { FramePool } from "../net/frame-pool.ts";
import type { Input } from "../protocol/codec-runtime.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { DecodeError } from "../protocol/errors.ts";
import { API_CODECS, ApiKey, type ApiKeyNumber, type ApiMessages } from "../protocol/generated/index.ts";
import { BrokerError, ClientClosedError } from "./errors.ts";
import { VersionTable } from "./versions.ts";

/** How the client reaches and talks to brokers; shared by every BrokerConnection. */
export interface ConnectionSettings {
  clientId: string;
  /** Pipelined requests per connection (Kafka's max.in.flight.requests.per.connection). */
  maxInFlight: number;
  /** Kafka's request.timeout.ms. */
  requestTimeoutMs: number;
  /** Kafka's socket.connection.setup.timeout.ms. */
  connectTimeoutMs: number;
  /** Opens sockets; TLS plugs in here. Default plain TCP. */
  connect?: SocketFactory;
  /** Runs on every new connection after ApiVersions, before any other request; SASL plugs in here. */
  authenticate?: Authenticator;
  /** Pool for large responses (fetches); their owner gives them back. */
  framePool?: FramePool;
}

/**
 * Authenticates a freshly opened connection (SaslHandshake + SaslAuthenticate, say) with the
 * versions the broker just advertised. Throwing fails the connection and the request that
 * opened it.
 */
export type Authenticator = (session: {
  connection: Connection;
  versions: VersionTable;
  broker: BrokerAddress;
}) => Promise<void>;

export interface BrokerAddress {
  /** Kafka node id; negative for a bootstrap address not yet matched to a node. */
  nodeId: number;
  host: string;
  port: number;
}

export type RequestOf<K extends ApiKeyNumber> = Input<ApiMessages[K]["request"]>;
export type ResponseOf<K extends ApiKeyNumber> = ApiMessages[K]["response"];

export interface BrokerRequestOptions {
  timeoutMs?: number;
  /** Lowest version the caller can use (a field it needs appeared then). */
  minVersion?: number;
  /** Highest version the caller can use (later versions changed what it relies on). */
  maxVersion?: number;
}

interface Session {
  connection: Connection;
  versions: VersionTable;
}

// Requests that change nothing on the broker, so they may be repeated after a bad answer.
const READ_ONLY_APIS: ReadonlySet<number> = new Set([
  ApiKey.Fetch,
  ApiKey.ListOffsets,
  ApiKey.Metadata,
  ApiKey.OffsetFetch,
  ApiKey.FindCoordinator,
  ApiKey.DescribeGroups,
  ApiKey.ListGroups,
  ApiKey.DescribeConfigs,
  ApiKey.DescribeCluster,
]);

const CLIENT_SOFTWARE_NAME = "ferry";
const CLIENT_SOFTWARE_VERSION = "0.1.0";

/** A broker's connection, opened on first use and reopened on the first use after it broke. */
export class BrokerConnection {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly #settings: ConnectionSettings;
  #session: Promise<Session> | undefined;
  // A connection whose handshake is under way, so close() need not wait for the handshake.
  #opening: Connection | undefined;
  #closed = false;

  constructor(address: BrokerAddress, settings: ConnectionSettings) {
    this.nodeId = address.nodeId;
    this.host = address.host;
    this.port = address.port;
    this.#settings = settings;
  }

  get label(): string {
    return `${this.nodeId}@${this.host}:${this.port}`;
  }

  /** The negotiated versions (connecting first if needed). */
  async versions(): Promise<VersionTable> {
    return (await this.#open()).versions;
  }

  /**
   * Sends a request at the highest version both sides support; `build` gets that version, so
   * it can fill version-dependent fields. Resolves with the version used and the response.
   */
  async send<K extends ApiKeyNumber>(
    apiKey: K,
    build: (version: number) => RequestOf<K>,
    options: BrokerRequestOptions = {},
  ): Promise<{ version: number; body: ResponseOf<K> }> {
    const { connection, versions } = await this.#open();
    const sendOptions = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
    for (;;) {
      const version = versions.version(apiKey, options.minVersion ?? 0, options.maxVersion ?? Infinity);
      try {
        const body = await connection.send(apiKey, version, build(version), sendOptions);
        return { version, body };
      } catch (e) {
        // An answer that does not decode at the version we asked for: use a lower version from
        // now on, and ask again at once when asking twice changes nothing on the broker.
        if (!(e instanceof DecodeError) || !versions.demote(apiKey, version)) throw e;
        if (!READ_ONLY_APIS.has(apiKey)) throw e;
      }
    }
  }

  /** Sends a request the broker does not answer (Produce with acks=0); resolves once written. */
  async sendOneWay<K extends ApiKeyNumber>(
    apiKey: K,
    build: (version: number) => RequestOf<K>,
    options: BrokerRequestOptions = {},
  ): Promise<number> {
    const { connection, versions } = await this.#open();
    const version = versions.version(apiKey, options.minVersion ?? 0, options.maxVersion ?? Infinity);
    await connection.send(apiKey, version, build(version), {
      expectResponse: false,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    return version;
  }

  /** Closes the connection; later requests reject with ClientClosedError. */
  async close(): Promise<void> {
    this.#closed = true;
    const session = this.#session;
    this.#session = undefined;
    const opening = this.#opening;
    this.#opening = undefined;
    if (opening !== undefined) await opening.close();
    if (session === undefined) return;
    try {
      await (await session).connection.close();
    } catch {
      // The connection never opened: there is nothing to close, and its opener saw the error.
    }
  }

  #open(): Promise<Session> {
    if (this.#closed) return Promise.reject(new ClientClosedError(`connection to broker ${this.label}`));
    if (this.#session === undefined) {
      const holder: { session?: Promise<Session> } = {};
      const session = this.#handshake(holder);
      holder.session = session;
      this.#session = session;
      // A failed connect is retried by the next request, not cached.
      session.catch(() => {
        if (this.#session === session) this.#session = undefined;
      });
    }
    return this.#session;
  }

  async #handshake(holder: { session?: Promise<Session> }): Promise<Session> {
    const s = this.#settings;
    const pool = s.framePool;
    const connection = await openConnection({
      host: this.host,
      port: this.port,
      clientId: s.clientId,
      maxInFlight: s.maxInFlight,
      requestTimeoutMs: s.requestTimeoutMs,
      connectTimeoutMs: s.connectTimeoutMs,
      ...(s.connect === undefined ? {} : { connect: s.connect }),
      ...(pool === undefined ? {} : { allocateFrame: (size: number) => pool.take(size) }),
      onClose: () => {
        // Forget a broken connection so the next request reconnects.
        if (this.#session === holder.session) this.#session = undefined;
      },
    });
    if (this.#closed) {
      await connection.close();
      throw new ClientClosedError(`connection to broker ${this.label}`);
    }
    this.#opening = connection;
    try {
      let version: number = API_CODECS[ApiKey.ApiVersions].maxVersion;
      for (;;) {
        const response = await connection.send(ApiKey.ApiVersions, version, {
          clientSoftwareName: CLIENT_SOFTWARE_NAME,
          clientSoftwareVersion: CLIENT_SOFTWARE_VERSION,
        });
        if (response.errorCode === ErrorCode.UNSUPPORTED_VERSION && version > 0) {
          // KIP-511: the broker answered in v0 and may list its own ApiVersions range.
          const own = response.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions);
          version = own === undefined ? 0 : Math.min(own.maxVersion, version - 1);
          continue;
        }
        if (response.errorCode !== 0) {
          throw new BrokerError(response.errorCode, "ApiVersions", { broker: this.nodeId });
        }
        const versions = new VersionTable(this.nodeId, response);
        await s.authenticate?.({
          connection,
          versions,
          broker: { nodeId: this.nodeId, host: this.host, port: this.port },
        });
        return { connection, versions };
      }
    } catch (e) {
      await connection.close();
      throw this.#closed ? new ClientClosedError(`connection to broker ${this.label}`) : e;
    } finally {
      if (this.#opening === connection) this.#opening = undefined;
    }
  }
}
