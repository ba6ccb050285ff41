// One accepted client connection on the broker side: cuts requests out of the stream, runs
// them through the handler concurrently, and writes the responses back in request order
// (Kafka clients match responses by position). Reading stops while too many requests or bytes
// are pending or the client is not reading its responses, so one client cannot flood the
// broker; an idle connection, or one whose client stopped reading, is closed after a timeout.
import type { Socket } from "node:net";
import { writeChunks } from "./connection.ts";
import { feedFrameDecoder } from "./direct-reads.ts";
import { ConnectionError } from "./errors.ts";
import { FrameDecoder } from "./frame-decoder.ts";

/** A response whose buffers may be reused once sent: `written` runs when the socket has taken every byte. */
export interface TrackedResponse {
  readonly chunks: readonly Buffer[];
  readonly written: () => void;
}

/** A whole response frame, size prefix included: one buffer, chunks written in order, or tracked chunks. */
export type ResponseFrame = Buffer | readonly Buffer[] | TrackedResponse;

/**
 * Handles one request payload (the frame without its size prefix). Resolves with the whole
 * response frame, or null when the request gets no response (acks=0). A rejection closes the
 * connection.
 */
export type RequestHandler = (payload: Buffer, connection: ServerConnection) => Promise<ResponseFrame | null>;

/** Reports a failure that closed (or concerned) a connection; the listener keeps running. */
export type ServerErrorCallback = (error: Error, connection: ServerConnection | undefined) => void;

export interface ServerConnectionOptions {
  id: number;
  handler: RequestHandler;
  maxFrameBytes: number;
  /** Allocates the buffers large requests are read into; default fresh ones. */
  allocateFrame?: (size: number) => Buffer;
  /** An existing free buffer for a large request, or undefined. */
  allocateFreeFrame?: (size: number) => Buffer | undefined;
  maxInFlight: number;
  /** Request payload bytes being handled plus response bytes not yet sent; default unlimited. */
  maxBytesInFlight?: number;
  /** Close after this long without traffic (see ListenOptions.idleTimeoutMs); 0 = never. */
  idleTimeoutMs?: number;
  /** The listener's name (default "PLAINTEXT"). */
  listenerName?: string;
  /** Whether the socket is TLS. */
  tls?: boolean;
  /** The verified client certificate's distinguished name, when there is one. */
  peerPrincipal?: string | undefined;
  onError: ServerErrorCallback;
  onClose: (connection: ServerConnection) => void;
}

// A request read from the socket whose response has not been written yet.
interface Slot {
  done: boolean;
  response: ResponseFrame | null;
  /** The request payload's size, counted in bytes in flight until the response is written. */
  requestBytes: number;
}

/** The broker's view of one client connection, passed to the handler with each request. */
export class ServerConnection {
  /** Unique per listener; handy as a map key for per-connection state (SASL, quotas). */
  readonly id: number;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly maxInFlight: number;
  readonly maxBytesInFlight: number;
  readonly listenerName: string;
  readonly tls: boolean;
  /** The verified client certificate's distinguished name ("CN=alice,O=acme"), if any. */
  readonly peerPrincipal: string | undefined;
  /** Resolves once the socket has closed and the connection has left its listener. */
  readonly finished: Promise<void>;
  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  readonly #handler: RequestHandler;
  readonly #onError: ServerErrorCallback;
  readonly #onClose: (connection: ServerConnection) => void;
  // In request order; responses leave from the front only when it is done.
  readonly #slots: Slot[] = [];
  #readPaused = false;
  #writeBlocked = false;
  #closed = false;
  #requestBytes = 0;
  /** Reads land in buffers the frame decoder supplies (plain TCP), not in 'data' chunks. */
  readonly directReads: boolean;

  constructor(socket: Socket, options: ServerConnectionOptions) {
    this.id = options.id;
    this.#socket = socket;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.maxInFlight = options.maxInFlight;
    this.maxBytesInFlight = options.maxBytesInFlight ?? Infinity;
    this.listenerName = options.listenerName ?? "PLAINTEXT";
    this.tls = options.tls ?? false;
    this.peerPrincipal = options.peerPrincipal;
    this.#decoder = new FrameDecoder({
      maxFrameBytes: options.maxFrameBytes,
      trustSizePrefix: false,
      ...(options.allocateFrame === undefined ? {} : { allocate: options.allocateFrame }),
      ...(options.allocateFreeFrame === undefined ? {} : { allocateFree: options.allocateFreeFrame }),
    });
    this.#handler = options.handler;
    this.#onError = options.onError;
    this.#onClose = options.onClose;

    socket.setNoDelay(true);
    // Reads stop being handled once the connection is closed (its socket is being destroyed).
    this.directReads = feedFrameDecoder(
      socket,
      this.#decoder,
      () => this.#dispatch(),
      () => this.#closed,
    );
    socket.on("drain", () => {
      this.#writeBlocked = false;
      this.#dispatch();
    });
    socket.on("error", (e: NodeJS.ErrnoException) => {
      // A client that vanishes mid-stream is ordinary life for a broker, not a failure to report.
      if (e.code !== "ECONNRESET" && e.code !== "EPIPE") {
        this.#onError(new ConnectionError(`connection ${this.id}: ${e.message}`, e), this);
      }
    });
    const idleMs = options.idleTimeoutMs ?? 0;
    if (idleMs > 0) {
      // Node's socket timeout counts from the last byte read or written. Close when nothing is
      // pending (idle), or when responses wait behind a client that stopped reading (slow
      // client); a long-polling fetch with an empty socket buffer is left alone.
      socket.setTimeout(idleMs, () => {
        if (this.#slots.length === 0 || socket.writableLength > 0) {
          this.#onError(
            new ConnectionError(
              `connection ${this.id}: closed after ${idleMs} ms ${this.#slots.length === 0 ? "idle" : "without the client reading"}`,
            ),
            this,
          );
          this.close();
        }
      });
    }
    // Kafka brokers close on EOF too: a half-closed client cannot be relied on to read answers.
    socket.on("end", () => this.close());
    this.finished = new Promise((resolve) => {
      socket.on("close", () => {
        this.#closed = true;
        this.#slots.length = 0;
        this.#onClose(this);
        resolve();
      });
    });
  }

  /** Requests read and not yet answered (answers waiting behind earlier requests included). */
  get inFlight(): number {
    return this.#slots.length;
  }

  /** True while the socket is not being read, because of the in-flight limit or backpressure. */
  get paused(): boolean {
    return this.#readPaused;
  }

  /** Bytes received on this connection so far. */
  get bytesRead(): number {
    return this.#socket.bytesRead;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Request bytes being handled plus response bytes waiting in the socket. */
  get bytesInFlight(): number {
    return this.#requestBytes + this.#socket.writableLength;
  }

  /** Changes the largest request accepted from now on (a SASL listener starts low). */
  setMaxFrameBytes(max: number): void {
    this.#decoder.setMaxFrameBytes(max);
  }

  /** Closes the connection at once; unanswered requests are dropped (the client sees EOF). */
  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  /** Starts handlers for buffered requests while there is room, and pauses reading when not. */
  #dispatch(): void {
    const slots = this.#slots;
    // At least one request always runs, however large: the frame limit bounds it.
    while (
      !this.#closed &&
      !this.#writeBlocked &&
      slots.length < this.maxInFlight &&
      (slots.length === 0 || this.bytesInFlight < this.maxBytesInFlight)
    ) {
      let payload: Buffer | undefined;
      try {
        payload = this.#decoder.next();
      } catch (e) {
        this.#abort(e);
        return;
      }
      if (payload === undefined) break;
      const slot: Slot = { done: false, response: null, requestBytes: payload.length };
      slots.push(slot);
      this.#requestBytes += payload.length;
      let pending: Promise<ResponseFrame | null>;
      try {
        pending = this.#handler(payload, this);
      } catch (e) {
        this.#abort(e);
        return;
      }
      pending.then(
        (response) => this.#complete(slot, response),
        (e: unknown) => this.#abort(e),
      );
    }
    if (this.#closed) return;
    const mustPause =
      this.#writeBlocked ||
      slots.length >= this.maxInFlight ||
      (slots.length > 0 && this.bytesInFlight >= this.maxBytesInFlight);
    if (mustPause !== this.#readPaused) {
      this.#readPaused = mustPause;
      if (mustPause) this.#socket.pause();
      else this.#socket.resume();
    }
  }

  #complete(slot: Slot, response: ResponseFrame | null): void {
    if (this.#closed) return;
    slot.done = true;
    slot.response = response;
    const slots = this.#slots;
    if (slots[0] !== slot) return; // an earlier request is still running; it will flush this one
    const socket = this.#socket;
    socket.cork(); // responses ready together leave in one syscall
    for (let head = slots[0]; head !== undefined && head.done; head = slots[0]) {
      slots.shift();
      this.#requestBytes -= head.requestBytes;
      const r = head.response;
      if (r !== null && !writeResponse(socket, r)) this.#writeBlocked = true;
    }
    socket.uncork();
    this.#dispatch();
  }

  /** A handler or framing failure: report it and drop the connection, never the process. */
  #abort(error: unknown): void {
    // Reported even when the connection is already gone: a failing handler is a bug either way.
    if (!this.#closed) {
      this.#closed = true;
      this.#socket.destroy();
    }
    const reported =
      error instanceof Error ? error : new Error(`request handler failed with ${String(error)}`);
    this.#onError(reported, this);
  }
}

/** Writes a response frame; false when the socket asks the writer to wait for 'drain'. */
function writeResponse(socket: Socket, r: ResponseFrame): boolean {
  if (Buffer.isBuffer(r)) return socket.write(r);
  if (isTracked(r)) {
    // A write that fails (the socket was destroyed) leaves the buffers to the garbage collector.
    return writeChunks(socket, r.chunks, (e) => {
      if (e === undefined || e === null) r.written();
    });
  }
  return writeChunks(socket, r);
}

function isTracked(r: readonly Buffer[] | TrackedResponse): r is TrackedResponse {
  return !Array.isArray(r);
}
