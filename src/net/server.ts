// The broker's TCP listener: accepts connections and gives each a ServerConnection, which
// does the framing, ordering and flow control. What requests mean is the handler's business.
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { DEFAULT_MAX_FRAME_BYTES } from "./frame-decoder.ts";
import { ServerConnection } from "./server-connection.ts";
import type { RequestHandler, ServerErrorCallback } from "./server-connection.ts";

export { ServerConnection } from "./server-connection.ts";
export type { RequestHandler, ServerErrorCallback } from "./server-connection.ts";

/** Requests one connection may have pending before the listener stops reading from it. */
export const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 64;

export interface ListenOptions {
  host: string;
  /** 0 picks a free port; Listener.port reports it. */
  port: number;
  handler: RequestHandler;
  /** Kafka's `socket.request.max.bytes`: larger requests close the connection. Default 100 MiB. */
  maxFrameBytes?: number;
  /** Per-connection limit of requests being handled or waiting to be answered. Default 64. */
  maxInFlightPerConnection?: number;
  /**
   * Failures that closed a connection: handler rejections, oversized or negative frames,
   * socket errors other than resets. Default: a process warning (printed, never fatal).
   */
  onError?: ServerErrorCallback;
  /** Called for each accepted connection, before any of its requests reach the handler. */
  onConnection?: (connection: ServerConnection) => void;
}

/** Starts listening; resolves once the port is bound, rejects if it cannot be. */
export async function listen(options: ListenOptions): Promise<Listener> {
  const server = createServer({ noDelay: true });
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
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  readonly #server: Server;
  readonly #connections = new Set<ServerConnection>();
  readonly #handler: RequestHandler;
  readonly #maxFrameBytes: number;
  readonly #maxInFlight: number;
  readonly #onError: ServerErrorCallback;
  readonly #onConnection: ((connection: ServerConnection) => void) | undefined;
  #nextId = 0;
  #closing: Promise<void> | undefined;

  /** Wraps a bound server; use listen() to get one. */
  constructor(server: Server, options: ListenOptions) {
    this.#server = server;
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("Listener needs a bound TCP server");
    this.host = address.address;
    this.port = address.port;
    this.#handler = options.handler;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#maxInFlight = options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION;
    if (!Number.isInteger(this.#maxInFlight) || this.#maxInFlight <= 0) {
      throw new RangeError("maxInFlightPerConnection must be a positive integer");
    }
    this.#onError = options.onError ?? warn;
    this.#onConnection = options.onConnection;
    server.on("connection", (socket: Socket) => this.#accept(socket));
    server.on("error", (e: Error) => this.#onError(e, undefined));
  }

  /** Connections currently open. */
  get connections(): ReadonlySet<ServerConnection> {
    return this.#connections;
  }

  /** Stops accepting, closes every connection, and resolves once the server is closed. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      const open = [...this.#connections];
      for (const connection of open) connection.close();
      await Promise.all([stopped, ...open.map((connection) => connection.finished)]);
    })();
    return this.#closing;
  }

  #accept(socket: Socket): void {
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    const connection = new ServerConnection(socket, {
      id: this.#nextId++,
      handler: this.#handler,
      maxFrameBytes: this.#maxFrameBytes,
      maxInFlight: this.#maxInFlight,
      onError: this.#onError,
      onClose: (closed) => this.#connections.delete(closed),
    });
    this.#connections.add(connection);
    this.#onConnection?.(connection);
  }
}

function warn(error: Error, connection: ServerConnection | undefined): void {
  const where = connection === undefined ? "listener" : `connection ${connection.id}`;
  process.emitWarning(`${where}: ${error.message}`, { type: "FerryNetWarning", detail: error.stack });
}
