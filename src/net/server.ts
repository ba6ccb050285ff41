// The broker's listener: accepts TCP or TLS connections and gives each a ServerConnection,
// which does the framing, ordering and flow control. Connection limits (global and per
// address) are checked before a socket is kept. What requests mean is the handler's business.
import { X509Certificate } from "node:crypto";
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { ConnectionQuotas } from "./connection-quotas.ts";
import { adoptWithDirectReads } from "./direct-reads.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "./frame-decoder.ts";
import { ServerConnection } from "./server-connection.ts";
import type { RequestHandler, ServerErrorCallback } from "./server-connection.ts";

export { ServerConnection } from "./server-connection.ts";
export type { RequestHandler, ServerErrorCallback } from "./server-connection.ts";
export { ConnectionQuotas } from "./connection-quotas.ts";

/** Requests one connection may have pending before the listener stops reading from it. */
export const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 64;
/** Request and response bytes one connection may hold before the listener stops reading from it. */
export const DEFAULT_MAX_BYTES_IN_FLIGHT_PER_CONNECTION = 104_857_600;

/** TLS on a listener: PEM key and certificate chain, and how client certificates are treated. */
export interface ListenerTls {
  key: string | Buffer;
  cert: string | Buffer;
  /** Passphrase of an encrypted key. */
  passphrase?: string;
  /** CA certificates that client certificates must chain to (default: Node's bundled roots). */
  ca?: string | Buffer;
  /** Kafka's `ssl.client.auth`: none, requested (verified when sent) or required. */
  clientAuth: "none" | "requested" | "required";
  /** Lowest protocol accepted; never below TLSv1.2. */
  minVersion?: "TLSv1.2" | "TLSv1.3";
}

export interface ListenOptions {
  host: string;
  /** 0 picks a free port; Listener.port reports it. */
  port: number;
  handler: RequestHandler;
  /** The listener's name (Kafka's listener name, e.g. "PLAINTEXT"); default "PLAINTEXT". */
  name?: string;
  /** Serve TLS instead of plain TCP. */
  tls?: ListenerTls;
  /** Shared with the broker's other listeners; default: no limits. */
  quotas?: ConnectionQuotas;
  /** Kafka's `socket.request.max.bytes`: larger requests close the connection. Default 100 MiB. */
  maxFrameBytes?: number;
  /** Per-connection limit of requests being handled or waiting to be answered. Default 64. */
  maxInFlightPerConnection?: number;
  /** Per-connection limit of request plus unsent response bytes before reading pauses. Default 100 MiB. */
  maxBytesInFlightPerConnection?: number;
  /**
   * Kafka's `connections.max.idle.ms`: a connection with no traffic for this long is closed when
   * it has nothing pending, or when its responses are stuck because the client stopped reading.
   * Default: never.
   */
  idleTimeoutMs?: number;
  /**
   * Failures that closed a connection: handler rejections, oversized or negative frames,
   * socket errors other than resets. Default: a process warning (printed, never fatal).
   */
  onError?: ServerErrorCallback;
  /** Called for each accepted connection, before any of its requests reach the handler. */
  onConnection?: (connection: ServerConnection) => void;
  /** Allocates the buffers large requests are read into (a FramePool's take); default fresh ones. */
  allocateFrame?: (size: number) => Buffer;
  /** An existing free buffer for a large request, or undefined (a FramePool's takeFree). */
  allocateFreeFrame?: (size: number) => Buffer | undefined;
}

/** Starts listening; resolves once the port is bound, rejects if it cannot be. */
export async function listen(options: ListenOptions): Promise<Listener> {
  const tls = options.tls;
  const server: Server =
    tls === undefined
      ? // Paused, so an accepted socket can be handed to one that reads into our buffers.
        createServer({ noDelay: true, pauseOnConnect: true })
      : createTlsServer({
          key: tls.key,
          cert: tls.cert,
          ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
          ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
          requestCert: tls.clientAuth !== "none",
          rejectUnauthorized: tls.clientAuth === "required",
          minVersion: tls.minVersion ?? "TLSv1.2",
          noDelay: true,
          // A peer that opens a socket and never finishes the handshake must not hold it long.
          handshakeTimeout: Math.min(options.idleTimeoutMs ?? 10_000, 10_000),
        });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return new Listener(server, options);
}

/** A bound listener and its open connections. */
export class Listener {
  readonly name: string;
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  readonly tls: boolean;
  readonly quotas: ConnectionQuotas;
  readonly #server: Server;
  readonly #connections = new Set<ServerConnection>();
  readonly #sockets = new Set<Socket>();
  readonly #handler: RequestHandler;
  readonly #maxFrameBytes: number;
  readonly #maxInFlight: number;
  readonly #maxBytesInFlight: number;
  readonly #idleTimeoutMs: number;
  readonly #onError: ServerErrorCallback;
  readonly #onConnection: ((connection: ServerConnection) => void) | undefined;
  readonly #allocateFrame: ((size: number) => Buffer) | undefined;
  readonly #allocateFreeFrame: ((size: number) => Buffer | undefined) | undefined;
  #nextId = 0;
  #closing: Promise<void> | undefined;

  /** Wraps a bound server; use listen() to get one. */
  constructor(server: Server, options: ListenOptions) {
    this.#server = server;
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("Listener needs a bound TCP server");
    this.name = options.name ?? "PLAINTEXT";
    this.host = address.address;
    this.port = address.port;
    this.tls = options.tls !== undefined;
    this.quotas = options.quotas ?? new ConnectionQuotas();
    this.#handler = options.handler;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#maxInFlight = options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION;
    this.#maxBytesInFlight =
      options.maxBytesInFlightPerConnection ?? DEFAULT_MAX_BYTES_IN_FLIGHT_PER_CONNECTION;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 0;
    if (!Number.isInteger(this.#maxInFlight) || this.#maxInFlight <= 0) {
      throw new RangeError("maxInFlightPerConnection must be a positive integer");
    }
    this.#onError = options.onError ?? warn;
    this.#onConnection = options.onConnection;
    this.#allocateFrame = options.allocateFrame;
    this.#allocateFreeFrame = options.allocateFreeFrame;
    // Limits apply to the TCP socket, before any TLS handshake work is spent on it.
    server.on("connection", (socket: Socket) => this.#admit(socket));
    if (this.tls) {
      server.on("secureConnection", (socket: TLSSocket) => this.#accept(socket, peerPrincipalName(socket)));
      server.on("tlsClientError", () => undefined); // a failed handshake only concerns that client
    }
    server.on("error", (e: Error) => this.#onError(e, undefined));
  }

  /** Connections currently open (TLS ones once their handshake is done). */
  get connections(): ReadonlySet<ServerConnection> {
    return this.#connections;
  }

  /** Stops accepting, closes every connection, and resolves once the server is closed. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      const open = [...this.#connections];
      for (const connection of open) connection.close();
      for (const socket of this.#sockets) socket.destroy();
      await Promise.all([stopped, ...open.map((connection) => connection.finished)]);
    })();
    return this.#closing;
  }

  /** Counts a new TCP socket against the quotas, or drops it at once. */
  #admit(accepted: Socket): void {
    const ip = accepted.remoteAddress ?? "unknown";
    if (this.#closing !== undefined || !this.quotas.tryAcquire(ip)) {
      accepted.destroy();
      return;
    }
    let socket = accepted;
    if (!this.tls) {
      socket = adoptWithDirectReads(accepted) ?? accepted;
      socket.resume();
    }
    this.#sockets.add(socket);
    socket.once("close", () => {
      this.#sockets.delete(socket);
      this.quotas.release(ip);
    });
    if (!this.tls) this.#accept(socket, undefined);
  }

  #accept(socket: Socket, peerPrincipal: string | undefined): void {
    if (this.#closing !== undefined || socket.destroyed) {
      socket.destroy();
      return;
    }
    const connection = new ServerConnection(socket, {
      id: this.#nextId++,
      listenerName: this.name,
      tls: this.tls,
      peerPrincipal,
      handler: this.#handler,
      maxFrameBytes: this.#maxFrameBytes,
      ...(this.#allocateFrame === undefined ? {} : { allocateFrame: this.#allocateFrame }),
      ...(this.#allocateFreeFrame === undefined ? {} : { allocateFreeFrame: this.#allocateFreeFrame }),
      maxInFlight: this.#maxInFlight,
      maxBytesInFlight: this.#maxBytesInFlight,
      idleTimeoutMs: this.#idleTimeoutMs,
      onError: this.#onError,
      onClose: (closed) => this.#connections.delete(closed),
    });
    this.#connections.add(connection);
    this.#onConnection?.(connection);
  }
}

/**
 * The distinguished name of a verified client certificate, most specific part first as Kafka
 * prints it ("CN=alice,OU=ops,O=acme"), or undefined without one.
 */
function peerPrincipalName(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (cert.raw === undefined || cert.raw.length === 0) return undefined;
  try {
    const lines = new X509Certificate(cert.raw).subject.split("\n").filter((l) => l !== "");
    return lines.reverse().join(",");
  } catch {
    return undefined;
  }
}

function warn(error: Error, connection: ServerConnection | undefined): void {
  const where = connection === undefined ? "listener" : `connection ${connection.id}`;
  process.emitWarning(`${where}: ${error.message}`, { type: "FerryNetWarning", detail: error.stack });
}
