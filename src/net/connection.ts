// One client-side Kafka connection: encodes requests, pipelines up to maxInFlight of them,
// and matches responses by correlation id. Anything that breaks the request/response order
// (a timeout, an unexpected correlation id, a bad frame) closes the connection, because no
// later response on it can be trusted.
import { connect as netConnect, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Input } from "../protocol/codec-runtime.ts";
import { KafkaError } from "../protocol/error-codes.ts";
import { decodeResponse, encodeRequestChunks } from "../protocol/messages.ts";
import type { ApiKeyNumber, ApiMessages } from "../protocol/generated/index.ts";
import { ConnectionError, RequestTimeoutError } from "./errors.ts";
import { DIRECT_READS, directReadOptions, feedFrameDecoder } from "./direct-reads.ts";
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder } from "./frame-decoder.ts";

/** Where to connect. */
export interface ConnectTarget {
  host: string;
  port: number;
}

/**
 * Opens the byte stream a connection runs on. It resolves once Kafka bytes may flow (after the
 * TCP connect, after a TLS handshake); `signal` aborts when the connect timeout expires.
 */
export type SocketFactory = (target: ConnectTarget, signal: AbortSignal) => Duplex | Promise<Duplex>;

export interface ConnectionOptions {
  /** Sent in every request header; default "ferry". */
  clientId?: string | null;
  /** Requests written but not yet answered; further sends queue. Default 5, as Kafka's clients. */
  maxInFlight?: number;
  /** Default per-request timeout (Kafka's `request.timeout.ms`, default 30 s). */
  requestTimeoutMs?: number;
  /** Largest response payload accepted; default 100 MiB. */
  maxFrameBytes?: number;
  /** Where large responses read straight from the socket are put (see FramePool); default fresh buffers. */
  allocateFrame?: (size: number) => Buffer;
  /** Called once when the connection closes: with the cause, or undefined after close(). */
  onClose?: (error: ConnectionError | undefined) => void;
  /** Names the connection in error messages; openConnection sets "host:port". */
  label?: string;
}

export interface OpenConnectionOptions extends ConnectionOptions, ConnectTarget {
  /** Opens the socket; default plain TCP. TLS plugs in here. */
  connect?: SocketFactory;
  /** Kafka's `socket.connection.setup.timeout.ms`, default 10 s. */
  connectTimeoutMs?: number;
}

export interface SendOptions {
  /** Overrides the connection's requestTimeoutMs; counts from the call, queueing included. */
  timeoutMs?: number;
  /**
   * False for requests the broker does not answer (Produce with acks=0): the promise resolves
   * once the frame is handed to the socket, and the request takes no in-flight slot.
   */
  expectResponse?: boolean;
}

type ResponseOf<K extends ApiKeyNumber> = ApiMessages[K]["response"];

const DEFAULT_CLIENT_ID = "ferry";
const DEFAULT_MAX_IN_FLIGHT = 5;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const MAX_CORRELATION_ID = 0x7fffffff;

// Where a request is: waiting for a slot, written (awaiting its response or its flush), settled.
const State = { queued: 0, written: 1, done: 2 } as const;
type RequestState = (typeof State)[keyof typeof State];

// Stands in for a written request's frame, so the frame's memory is released early.
const WRITTEN: readonly Buffer[] = [];

interface PendingRequest {
  apiKey: number;
  version: number;
  correlationId: number;
  /** The frame's chunks (record batches are referenced, not copied). */
  frame: readonly Buffer[];
  expectResponse: boolean;
  timeoutMs: number;
  state: RequestState;
  timer: NodeJS.Timeout | undefined;
  resolve: (body: object | undefined) => void;
  reject: (error: Error) => void;
}

/** Opens a socket (plain TCP unless `connect` says otherwise) and wraps it in a Connection. */
export async function openConnection(options: OpenConnectionOptions): Promise<Connection> {
  const { host, port } = options;
  const factory = options.connect ?? connectTcp;
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ConnectionError(`connecting to ${host}:${port} timed out after ${timeoutMs} ms`);
      abort.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const opening = Promise.resolve().then(() => factory({ host, port }, abort.signal));
  let socket: Duplex;
  try {
    socket = await Promise.race([opening, timedOut]);
  } catch (e) {
    // A factory that resolves after the timeout must not leak its socket.
    opening.then(
      (late) => late.destroy(),
      () => undefined,
    );
    // A factory's own typed errors (a TLS certificate that does not verify) pass through.
    if (e instanceof KafkaError) throw e;
    throw new ConnectionError(`cannot connect to ${host}:${port}: ${describe(e)}`, e);
  } finally {
    clearTimeout(timer);
  }
  try {
    return new Connection(socket, { ...options, label: `${host}:${port}` });
  } catch (e) {
    socket.destroy(); // invalid options: do not leave the socket open behind the error
    throw e;
  }
}

/**
 * The default SocketFactory: a plain TCP socket with Nagle off (requests are latency-bound)
 * that reads into buffers the connection supplies, so large responses (fetches) land in their
 * own buffer instead of being copied together from 64 KiB chunks.
 */
export function connectTcp(target: ConnectTarget, signal: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    // Bytes read before a connection attaches are kept for it (none in practice: Kafka brokers
    // speak when asked).
    const { onread, port } = directReadOptions();
    const socket = netConnect({ host: target.host, port: target.port, noDelay: true, onread });
    Object.defineProperty(socket, DIRECT_READS, { value: port });
    const onAbort = (): void => {
      socket.destroy();
      const reason: unknown = signal.reason;
      reject(
        reason instanceof Error
          ? reason
          : new ConnectionError(`connecting to ${target.host}:${target.port} aborted`),
      );
    };
    socket.once("connect", () => {
      socket.off("error", reject);
      signal.removeEventListener("abort", onAbort);
      resolve(socket);
    });
    socket.once("error", reject);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** A Kafka connection over an open byte stream; see openConnection for dialling. */
export class Connection {
  /** host:port (or what the creator passed as label), for error messages. */
  readonly label: string;
  readonly clientId: string | null;
  readonly maxInFlight: number;
  readonly requestTimeoutMs: number;
  readonly #socket: Duplex;
  readonly #decoder: FrameDecoder;
  readonly #onClose: ((error: ConnectionError | undefined) => void) | undefined;
  // Written and awaiting responses, oldest first: Kafka answers in request order.
  readonly #inFlight: PendingRequest[] = [];
  readonly #queued: PendingRequest[] = [];
  // Written requests that expect no response, until the socket reports them flushed.
  readonly #flushing: PendingRequest[] = [];
  #nextCorrelationId = 0;
  #writeBlocked = false;
  #closeError: ConnectionError | undefined;
  #closed = false;
  readonly #socketClosed: Promise<void>;

  constructor(socket: Duplex, options: ConnectionOptions = {}) {
    this.#socket = socket;
    this.label = options.label ?? "kafka connection";
    this.clientId = options.clientId === undefined ? DEFAULT_CLIENT_ID : options.clientId;
    this.maxInFlight = positiveInt("maxInFlight", options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.requestTimeoutMs = positiveInt(
      "requestTimeoutMs",
      options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    );
    this.#decoder = new FrameDecoder({
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      ...(options.allocateFrame === undefined ? {} : { allocate: options.allocateFrame }),
    });
    this.#onClose = options.onClose;
    if (socket instanceof Socket) socket.setNoDelay(true);

    this.#socketClosed = socket.closed
      ? Promise.resolve()
      : new Promise((resolve) => socket.once("close", () => resolve()));
    feedFrameDecoder(
      socket,
      this.#decoder,
      () => this.#drainFrames(),
      () => this.#closed,
    );
    socket.on("drain", () => {
      this.#writeBlocked = false;
      this.#pump();
    });
    socket.on("error", (e: Error) => this.#fail(new ConnectionError(`${this.label}: ${e.message}`, e)));
    socket.on("end", () => this.#fail(new ConnectionError(`${this.label}: closed by the peer`)));
    socket.on("close", () => this.#fail(new ConnectionError(`${this.label}: connection closed`)));
    if (socket.destroyed) this.#fail(new ConnectionError(`${this.label}: socket already closed`));
  }

  /** True once the connection has failed or been closed; every send then rejects. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Requests written and awaiting a response. */
  get inFlightCount(): number {
    return this.#inFlight.length;
  }

  /** Requests waiting for an in-flight slot (or for the socket to drain). */
  get queuedCount(): number {
    return this.#queued.length;
  }

  /**
   * Sends a request and resolves with the decoded response body. Rejects with
   * RequestTimeoutError, ConnectionError, or the codec's errors (for this request only).
   */
  send<K extends ApiKeyNumber>(
    apiKey: K,
    version: number,
    body: Input<ApiMessages[K]["request"]>,
    options: SendOptions & { expectResponse: false },
  ): Promise<undefined>;
  send<K extends ApiKeyNumber>(
    apiKey: K,
    version: number,
    body: Input<ApiMessages[K]["request"]>,
    options?: SendOptions,
  ): Promise<ResponseOf<K>>;
  send<K extends ApiKeyNumber>(
    apiKey: K,
    version: number,
    body: Input<ApiMessages[K]["request"]>,
    options: SendOptions = {},
  ): Promise<ResponseOf<K> | undefined> {
    if (this.#closed) {
      return Promise.reject(this.#closeError ?? new ConnectionError(`${this.label}: connection closed`));
    }
    const correlationId = this.#nextCorrelationId;
    this.#nextCorrelationId = correlationId === MAX_CORRELATION_ID ? 0 : correlationId + 1;
    let frame: Buffer[];
    try {
      frame = encodeRequestChunks(apiKey, version, { correlationId, clientId: this.clientId }, body);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    return new Promise<ResponseOf<K> | undefined>((resolve, reject) => {
      const request: PendingRequest = {
        apiKey,
        version,
        correlationId,
        frame,
        expectResponse: options.expectResponse ?? true,
        timeoutMs,
        state: State.queued,
        timer: undefined,
        resolve: resolve as (body: object | undefined) => void,
        reject,
      };
      request.timer = setTimeout(() => this.#onTimeout(request), timeoutMs);
      this.#queued.push(request);
      this.#pump();
    });
  }

  /**
   * Closes the connection at once: every pending request (unflushed acks=0 sends included)
   * rejects with ConnectionError, and the promise resolves once the socket is closed. Nothing
   * is flushed afterwards, so a request reported as failed was not half-delivered by us.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#shutdown(new ConnectionError(`${this.label}: connection closed by the client`), undefined);
      this.#socket.destroy();
    }
    return this.#socketClosed;
  }

  /** Writes queued requests while in-flight slots are free and the socket is not backed up. */
  #pump(): void {
    const queued = this.#queued;
    if (queued.length === 0 || this.#writeBlocked || this.#closed) return;
    const socket = this.#socket;
    socket.cork(); // several frames written now leave in one syscall
    try {
      while (queued.length > 0 && !this.#writeBlocked && this.#inFlight.length < this.maxInFlight) {
        const request = queued.shift();
        if (request === undefined) break;
        const frame = request.frame;
        request.frame = WRITTEN;
        request.state = State.written;
        if (request.expectResponse) {
          this.#inFlight.push(request);
          this.#writeBlocked = !writeChunks(socket, frame);
        } else {
          // Resolves once the bytes are handed to the OS, so an acks=0 producer feels backpressure.
          this.#flushing.push(request);
          this.#writeBlocked = !writeChunks(socket, frame, (e) => this.#onFlushed(e));
        }
      }
    } finally {
      socket.uncork();
    }
  }

  #onFlushed(error: Error | null | undefined): void {
    // Write callbacks run in write order.
    const request = this.#flushing.shift();
    if (request === undefined || request.state === State.done) return;
    if (error) {
      this.#settle(request).reject(new ConnectionError(`${this.label}: ${error.message}`, error));
    } else {
      this.#settle(request).resolve(undefined);
    }
  }

  /** Handles every complete frame the decoder holds, then writes what may go next. */
  #drainFrames(): void {
    const decoder = this.#decoder;
    try {
      for (let payload = decoder.next(); payload !== undefined; payload = decoder.next()) {
        this.#onFrame(payload);
        if (this.#closed) return;
      }
    } catch (e) {
      this.#fail(new ConnectionError(`${this.label}: ${describe(e)}`, e));
    }
    this.#pump();
  }

  #onFrame(payload: Buffer): void {
    if (payload.length < 4) {
      this.#fail(new ConnectionError(`${this.label}: response of ${payload.length} bytes has no header`));
      return;
    }
    const correlationId = payload.readInt32BE(0);
    const request = this.#inFlight[0];
    if (request === undefined || request.correlationId !== correlationId) {
      const expected = request === undefined ? "none" : String(request.correlationId);
      this.#fail(
        new ConnectionError(
          `${this.label}: response with correlation id ${correlationId}, expected ${expected}`,
        ),
      );
      return;
    }
    this.#inFlight.shift();
    this.#settle(request);
    let body: object;
    try {
      // The frame was well delimited and in order, so a body that does not decode fails only
      // this request: the stream itself is still in step.
      body = decodeResponse(payload, request.apiKey, request.version).body;
    } catch (e) {
      request.reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    request.resolve(body);
  }

  #onTimeout(request: PendingRequest): void {
    if (request.state === State.done) return;
    request.timer = undefined;
    const error = new RequestTimeoutError(
      `${this.label}: request (API key ${request.apiKey}, correlation id ${request.correlationId}) ` +
        `timed out after ${request.timeoutMs} ms`,
      request.timeoutMs,
    );
    if (request.state === State.queued) {
      // Never written, so the stream is unaffected: drop it and keep the connection.
      const index = this.#queued.indexOf(request);
      if (index >= 0) this.#queued.splice(index, 1);
      this.#settle(request).reject(error);
      return;
    }
    if (!request.expectResponse) {
      // Written but not yet flushed: no answer will come, so the stream stays in step.
      this.#settle(request).reject(error);
      return;
    }
    // Its response may still arrive and would then be read as the next request's: give up the
    // connection, as Kafka's clients do.
    this.#settle(request).reject(error);
    this.#fail(new ConnectionError(`${this.label}: closed after a request timed out`, error));
  }

  /** Marks a request finished (its promise is about to settle) and stops its timer. */
  #settle(request: PendingRequest): PendingRequest {
    request.state = State.done;
    request.frame = WRITTEN;
    if (request.timer !== undefined) {
      clearTimeout(request.timer);
      request.timer = undefined;
    }
    return request;
  }

  /** The connection broke: fail everything, destroy the socket, tell the owner. */
  #fail(error: ConnectionError): void {
    if (this.#closed) return;
    this.#shutdown(error, error);
    this.#socket.destroy();
  }

  #shutdown(pendingError: ConnectionError, reported: ConnectionError | undefined): void {
    this.#closed = true;
    this.#closeError = pendingError;
    const pending = [...this.#inFlight, ...this.#flushing, ...this.#queued];
    this.#inFlight.length = 0;
    this.#flushing.length = 0;
    this.#queued.length = 0;
    for (const request of pending) {
      if (request.state !== State.done) this.#settle(request).reject(pendingError);
    }
    this.#onClose?.(reported);
  }
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Writes a frame's chunks in order (under the caller's cork); false when the socket is backed up. */
export function writeChunks(
  socket: { write(chunk: Buffer, cb?: (e?: Error | null) => void): boolean },
  chunks: readonly Buffer[],
  onFlushed?: (e?: Error | null) => void,
): boolean {
  let ok = true;
  const last = chunks.length - 1;
  for (let i = 0; i < last; i++) ok = socket.write(chunks[i] as Buffer) && ok;
  if (last >= 0)
    ok =
      (onFlushed === undefined
        ? socket.write(chunks[last] as Buffer)
        : socket.write(chunks[last] as Buffer, onFlushed)) && ok;
  else onFlushed?.();
  return ok;
}
