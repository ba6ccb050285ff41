// A recording TCP proxy in front of a whole Kafka cluster, for capturing golden frames:
// one 127.0.0.1 listener per upstream broker, every request and response frame recorded
// exactly as its sender wrote it, and broker addresses in Metadata, FindCoordinator and
// DescribeCluster responses rewritten so that clients keep talking through the proxy.
//
// A client reaching a listener whose broker is down is accepted, then disconnected.
//
// It parses only the few response fields it rewrites, with its own small reader, so a bug
// in the codec under test cannot corrupt the captures that test it.
import { connect, createServer } from "node:net";
import type { Server, Socket } from "node:net";

const LISTEN_HOST = "127.0.0.1";
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

const API_METADATA = 3;
const API_FIND_COORDINATOR = 10;
const API_API_VERSIONS = 18;
const API_DESCRIBE_CLUSTER = 60;

/** A broker address, upstream or of the proxy. */
export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
}

/** One Kafka frame as it crossed the proxy; payload excludes the 4-byte size prefix. */
export interface RecordedFrame {
  /** Proxy connection number, starting at 1; pairs a response with its request. */
  readonly connection: number;
  /** The upstream broker this connection goes to, "host:port". */
  readonly upstream: string;
  readonly direction: "request" | "response";
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  /** Bytes exactly as the client (request) or the upstream broker (response) sent them. */
  readonly payload: Buffer;
}

export interface RecordingProxyOptions {
  /** Upstream brokers to front from the start: "host:port,..." or addresses. */
  upstreams: string | readonly BrokerAddress[];
  /** Called for every frame as it is recorded. */
  onFrame?: (frame: RecordedFrame) => void;
}

/** A response the proxy could not parse to rewrite; it was forwarded unchanged. */
export class ProxyRewriteError extends Error {
  readonly apiKey: number;
  readonly apiVersion: number;

  constructor(apiKey: number, apiVersion: number, message: string) {
    super(`cannot rewrite response apiKey=${apiKey} v${apiVersion}: ${message}`);
    this.name = "ProxyRewriteError";
    this.apiKey = apiKey;
    this.apiVersion = apiVersion;
  }
}

interface Listener {
  readonly server: Server;
  readonly port: number;
}

/** A running proxy; close() it when done. */
export class RecordingProxy {
  /** Every frame recorded so far, in the order it crossed the proxy. */
  readonly frames: RecordedFrame[] = [];
  /** Responses that could not be rewritten (forwarded unchanged); tests should expect none. */
  readonly errors: Error[] = [];
  readonly #listeners = new Map<string, Promise<Listener>>();
  readonly #sockets = new Set<Socket>();
  readonly #onFrame: ((frame: RecordedFrame) => void) | undefined;
  readonly #initial: readonly BrokerAddress[];
  #connections = 0;
  #closed = false;
  #bootstrap = "";

  private constructor(
    upstreams: readonly BrokerAddress[],
    onFrame: ((frame: RecordedFrame) => void) | undefined,
  ) {
    this.#initial = upstreams;
    this.#onFrame = onFrame;
  }

  /** Opens one listener per upstream broker. */
  static async start(options: RecordingProxyOptions): Promise<RecordingProxy> {
    const upstreams =
      typeof options.upstreams === "string" ? parseAddresses(options.upstreams) : options.upstreams;
    if (upstreams.length === 0) throw new Error("the recording proxy needs at least one upstream broker");
    const proxy = new RecordingProxy(upstreams, options.onFrame);
    const ports = await Promise.all(upstreams.map((upstream) => proxy.#listenFor(upstream)));
    proxy.#bootstrap = ports.map((port) => `${LISTEN_HOST}:${port}`).join(",");
    return proxy;
  }

  /** The proxy's addresses for the upstreams given at start, as a bootstrap.servers list. */
  get bootstrap(): string {
    return this.#bootstrap;
  }

  /** The upstream brokers given at start. */
  get upstreams(): readonly BrokerAddress[] {
    return this.#initial;
  }

  /** Returns the frames recorded so far and starts a fresh recording. */
  takeFrames(): RecordedFrame[] {
    return this.frames.splice(0);
  }

  /** Stops listening and cuts every connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const socket of this.#sockets) socket.destroy();
    const listeners = await Promise.allSettled(this.#listeners.values());
    await Promise.all(
      listeners.map((settled) =>
        settled.status === "fulfilled"
          ? new Promise<void>((done) => settled.value.server.close(() => done()))
          : Promise.resolve(),
      ),
    );
  }

  /** The proxy port fronting an upstream broker, opening a listener the first time. */
  async #listenFor(upstream: BrokerAddress): Promise<number> {
    const key = `${upstream.host}:${upstream.port}`;
    let listener = this.#listeners.get(key);
    if (listener === undefined) {
      listener = this.#openListener(upstream, key);
      this.#listeners.set(key, listener);
    }
    return (await listener).port;
  }

  #openListener(upstream: BrokerAddress, key: string): Promise<Listener> {
    const server = createServer((client) => this.#relay(client, upstream, key));
    return new Promise<Listener>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, LISTEN_HOST, () => {
        const address = server.address();
        if (address === null || typeof address === "string") {
          reject(new Error("listener has no TCP address"));
          return;
        }
        resolve({ server, port: address.port });
      });
    });
  }

  #relay(client: Socket, upstream: BrokerAddress, key: string): void {
    if (this.#closed) {
      client.destroy();
      return;
    }
    const connection = ++this.#connections;
    const server = connect(upstream.port, upstream.host);
    const inFlight = new Map<number, { apiKey: number; apiVersion: number }>();
    const requests = new FrameSplitter();
    const responses = new FrameSplitter();
    let chain = Promise.resolve();
    this.#sockets.add(client);
    this.#sockets.add(server);
    client.setNoDelay(true);
    server.setNoDelay(true);

    client.on("data", (chunk: Buffer) => {
      // Requests go upstream untouched; they are only split to be recorded.
      server.write(chunk);
      for (const payload of requests.push(chunk)) {
        if (payload.length < 8) continue;
        const apiKey = payload.readInt16BE(0);
        const apiVersion = payload.readInt16BE(2);
        const correlationId = payload.readInt32BE(4);
        inFlight.set(correlationId, { apiKey, apiVersion });
        this.#record({
          connection,
          upstream: key,
          direction: "request",
          apiKey,
          apiVersion,
          correlationId,
          payload,
        });
      }
    });

    server.on("data", (chunk: Buffer) => {
      for (const payload of responses.push(chunk)) {
        if (payload.length < 4) continue;
        const correlationId = payload.readInt32BE(0);
        const request = inFlight.get(correlationId);
        inFlight.delete(correlationId);
        const apiKey = request?.apiKey ?? -1;
        const apiVersion = request?.apiVersion ?? -1;
        this.#record({
          connection,
          upstream: key,
          direction: "response",
          apiKey,
          apiVersion,
          correlationId,
          payload,
        });
        chain = chain
          .then(async () => {
            client.write(frame(await this.#rewrite(payload, apiKey, apiVersion)));
          })
          .catch((error: unknown) => {
            this.errors.push(error instanceof Error ? error : new Error(String(error)));
            client.destroy();
          });
      }
    });

    const stop = (): void => {
      void chain.finally(() => {
        client.end();
        server.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(server);
      });
    };
    const fail = (error: Error): void => {
      // A client or broker going away is normal; a splitter refusing a frame is not.
      if (error instanceof FrameError) this.errors.push(error);
      client.destroy();
      server.destroy();
    };
    client.on("close", () => {
      server.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(server);
    });
    server.on("close", stop);
    client.on("error", fail);
    server.on("error", fail);
    requests.onError = fail;
    responses.onError = fail;
  }

  #record(frame: RecordedFrame): void {
    this.frames.push(frame);
    this.#onFrame?.(frame);
  }

  /** Returns the response with upstream broker addresses replaced by the proxy's. */
  async #rewrite(payload: Buffer, apiKey: number, apiVersion: number): Promise<Buffer> {
    let spots: AddressSpot[];
    try {
      spots = findAddresses(payload, apiKey, apiVersion);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.errors.push(new ProxyRewriteError(apiKey, apiVersion, message));
      return payload;
    }
    if (spots.length === 0) return payload;
    const parts: Buffer[] = [];
    let at = 0;
    for (const spot of spots) {
      const port = await this.#listenFor({ host: spot.host, port: spot.port });
      parts.push(payload.subarray(at, spot.hostStart));
      parts.push(encodeString(LISTEN_HOST, spot.compact));
      parts.push(payload.subarray(spot.hostEnd, spot.portStart));
      const portBytes = Buffer.alloc(4);
      portBytes.writeInt32BE(port);
      parts.push(portBytes);
      at = spot.portStart + 4;
    }
    parts.push(payload.subarray(at));
    return Buffer.concat(parts);
  }
}

/** Starts a recording proxy; shorthand for RecordingProxy.start. */
export function startRecordingProxy(options: RecordingProxyOptions): Promise<RecordingProxy> {
  return RecordingProxy.start(options);
}

/** Parses "host:port,host:port". */
export function parseAddresses(list: string): BrokerAddress[] {
  return list
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const colon = entry.lastIndexOf(":");
      const port = Number(entry.slice(colon + 1));
      if (colon < 1 || !Number.isInteger(port) || port <= 0) throw new Error(`bad broker address ${entry}`);
      return { host: entry.slice(0, colon), port };
    });
}

function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

/** Cuts a byte stream into Kafka frames (4-byte big-endian size, then payload). */
class FrameSplitter {
  onError: (error: Error) => void = () => {};
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const out: Buffer[] = [];
    let at = 0;
    while (this.#pending.length - at >= 4) {
      const size = this.#pending.readInt32BE(at);
      if (size < 0 || size > MAX_FRAME_BYTES) {
        this.onError(new FrameError(`impossible frame size ${size}`));
        this.#pending = Buffer.alloc(0);
        return out;
      }
      if (this.#pending.length - at - 4 < size) break;
      out.push(Buffer.from(this.#pending.subarray(at + 4, at + 4 + size)));
      at += 4 + size;
    }
    this.#pending = this.#pending.subarray(at);
    return out;
  }
}

/** Where one advertised broker address sits in a response payload. */
export interface AddressSpot {
  readonly host: string;
  readonly port: number;
  readonly hostStart: number;
  readonly hostEnd: number;
  readonly portStart: number;
  readonly compact: boolean;
}

/** A bounds-checked reader of just the primitives the rewritten responses use. */
class Cursor {
  readonly buf: Buffer;
  pos: number;

  constructor(buf: Buffer, pos: number) {
    this.buf = buf;
    this.pos = pos;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new Error(`truncated at offset ${this.pos}`);
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      this.need(1);
      const byte = this.buf[this.pos++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new Error(`varint too long at offset ${this.pos}`);
  }

  /** A string or nullable string; compact strings have a uvarint length plus one. */
  string(compact: boolean): string | null {
    const length = compact ? this.uvarint() - 1 : this.int16();
    if (length < 0) return null;
    this.need(length);
    const text = this.buf.toString("utf8", this.pos, this.pos + length);
    this.pos += length;
    return text;
  }

  arrayLength(compact: boolean): number {
    const length = compact ? this.uvarint() - 1 : this.int32();
    return Math.max(length, 0);
  }

  taggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      const size = this.uvarint();
      this.need(size);
      this.pos += size;
    }
  }

  /** Reads host then port, noting where they sit. */
  address(compact: boolean): AddressSpot | undefined {
    const hostStart = this.pos;
    const host = this.string(compact);
    const hostEnd = this.pos;
    const portStart = this.pos;
    const port = this.int32();
    // Error answers carry an empty host and port -1: nothing to rewrite.
    if (host === null || host === "" || port <= 0) return undefined;
    return { host, port, hostStart, hostEnd, portStart, compact };
  }
}

function encodeString(text: string, compact: boolean): Buffer {
  const bytes = Buffer.from(text, "utf8");
  if (!compact) {
    const length = Buffer.alloc(2);
    length.writeInt16BE(bytes.length);
    return Buffer.concat([length, bytes]);
  }
  const prefix: number[] = [];
  let n = bytes.length + 1;
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  prefix.push(n);
  return Buffer.concat([Buffer.from(prefix), bytes]);
}

/** Finds the broker addresses a response advertises; none for APIs that carry none. */
export function findAddresses(payload: Buffer, apiKey: number, apiVersion: number): AddressSpot[] {
  switch (apiKey) {
    case API_METADATA:
      return metadataAddresses(payload, apiVersion);
    case API_FIND_COORDINATOR:
      return findCoordinatorAddresses(payload, apiVersion);
    case API_DESCRIBE_CLUSTER:
      return describeClusterAddresses(payload, apiVersion);
    default:
      return [];
  }
}

/** Skips the response header: correlation id, plus tagged fields when flexible. */
function afterHeader(payload: Buffer, apiKey: number, flexible: boolean): Cursor {
  const cursor = new Cursor(payload, 4);
  // ApiVersions responses keep header v0 even in flexible versions, so old clients can read them.
  if (flexible && apiKey !== API_API_VERSIONS) cursor.taggedFields();
  return cursor;
}

// Metadata Response: [v3+ throttle_time_ms] brokers [node_id host port [v1+ rack]
// [v9+ TAG_BUFFER]] ... (flexible from v9)
function metadataAddresses(payload: Buffer, version: number): AddressSpot[] {
  const compact = version >= 9;
  const cursor = afterHeader(payload, API_METADATA, compact);
  if (version >= 3) cursor.int32();
  const spots: AddressSpot[] = [];
  const count = cursor.arrayLength(compact);
  for (let i = 0; i < count; i++) {
    cursor.int32();
    const spot = cursor.address(compact);
    if (spot) spots.push(spot);
    if (version >= 1) cursor.string(compact);
    if (compact) cursor.taggedFields();
  }
  return spots;
}

// FindCoordinator Response v0: error_code node_id host port; v1-v3: throttle_time_ms
// error_code error_message node_id host port; v4+: throttle_time_ms coordinators [key
// node_id host port error_code error_message TAG_BUFFER] (flexible from v3)
function findCoordinatorAddresses(payload: Buffer, version: number): AddressSpot[] {
  const compact = version >= 3;
  const cursor = afterHeader(payload, API_FIND_COORDINATOR, compact);
  if (version === 0) {
    cursor.int16();
    cursor.int32();
    const spot = cursor.address(false);
    return spot ? [spot] : [];
  }
  cursor.int32();
  if (version < 4) {
    cursor.int16();
    cursor.string(compact);
    cursor.int32();
    const spot = cursor.address(compact);
    return spot ? [spot] : [];
  }
  const spots: AddressSpot[] = [];
  const count = cursor.arrayLength(true);
  for (let i = 0; i < count; i++) {
    cursor.string(true);
    cursor.int32();
    const spot = cursor.address(true);
    if (spot) spots.push(spot);
    cursor.int16();
    cursor.string(true);
    cursor.taggedFields();
  }
  return spots;
}

// DescribeCluster Response (flexible from v0): throttle_time_ms error_code error_message
// [v1+ endpoint_type] cluster_id controller_id brokers [broker_id host port rack TAG_BUFFER] ...
function describeClusterAddresses(payload: Buffer, version: number): AddressSpot[] {
  const cursor = afterHeader(payload, API_DESCRIBE_CLUSTER, true);
  cursor.int32();
  cursor.int16();
  cursor.string(true);
  if (version >= 1) cursor.int8();
  cursor.string(true);
  cursor.int32();
  const spots: AddressSpot[] = [];
  const count = cursor.arrayLength(true);
  for (let i = 0; i < count; i++) {
    cursor.int32();
    const spot = cursor.address(true);
    if (spot) spots.push(spot);
    cursor.string(true);
    cursor.taggedFields();
  }
  return spots;
}
