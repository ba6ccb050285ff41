// Whole request and response frames: header version rules, size prefixes, and the
// ApiVersions fallbacks of KIP-511. The broker and the client both frame through here.
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";
import { DecodeError, EncodeError, ProtocolError, UnsupportedVersionError } from "./errors.ts";
import type { Input } from "./codec-runtime.ts";
import {
  ApiKey,
  apiCodec,
  readRequestHeader,
  readResponseHeader,
  writeRequestHeader,
  writeResponseHeader,
  type ApiCodec,
  type ApiKeyNumber,
  type ApiMessages,
  type RequestHeader,
} from "./generated/index.ts";

/** Request header version for an API version: v2 when flexible, v0 only for ControlledShutdown v0. */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  const codec = apiCodec(apiKey);
  if (codec === undefined) return 1;
  if (apiKey === ApiKey.ControlledShutdown && apiVersion === 0) return 0;
  return apiVersion >= codec.flexibleVersion ? 2 : 1;
}

/** Response header version: v1 when flexible, except ApiVersions, always v0 (KIP-511). */
export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  const codec = apiCodec(apiKey);
  if (codec === undefined || apiKey === ApiKey.ApiVersions) return 0;
  return apiVersion >= codec.flexibleVersion ? 1 : 0;
}

export interface RequestFrameHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export interface DecodedRequest<Body = object> {
  header: RequestHeader;
  body: Body;
}

/** A request whose API key or version this codec cannot read; the header is still known. */
export class UnsupportedRequestError extends UnsupportedVersionError {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;

  constructor(apiKey: number, apiVersion: number, correlationId: number) {
    super(`unsupported request: API key ${apiKey} version ${apiVersion}`);
    this.name = "UnsupportedRequestError";
    this.apiKey = apiKey;
    this.apiVersion = apiVersion;
    this.correlationId = correlationId;
  }
}

function codecFor(apiKey: number, apiVersion: number): ApiCodec {
  const codec = apiCodec(apiKey);
  if (codec === undefined || apiVersion < codec.minVersion || apiVersion > codec.maxVersion) {
    throw new UnsupportedVersionError(
      `API key ${apiKey} version ${apiVersion} is not supported by this codec`,
    );
  }
  return codec;
}

/** Runs an encoder, turning Buffer's RangeErrors (an int out of range) into typed errors. */
function encoding<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    if (e instanceof RangeError || e instanceof TypeError) throw new EncodeError(`${what}: ${e.message}`);
    throw e;
  }
}

/**
 * Reads the fixed start of a request (key, version, correlation id) without knowing the
 * API, so a server can answer even requests it cannot parse.
 */
export function peekRequestHeader(payload: Buffer): {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
} {
  if (payload.length < 8)
    throw new DecodeError(`request of ${payload.length} bytes is shorter than a header`);
  return {
    apiKey: payload.readInt16BE(0),
    apiVersion: payload.readInt16BE(2),
    correlationId: payload.readInt32BE(4),
  };
}

/**
 * Decodes a request payload (the bytes after the 4-byte size). Throws
 * UnsupportedRequestError for unknown keys or versions: except that ApiVersions at a newer
 * version decodes as far as its header, so the broker can answer it with v0 (KIP-511).
 */
export function decodeRequest(payload: Buffer): DecodedRequest {
  const { apiKey, apiVersion, correlationId } = peekRequestHeader(payload);
  const codec = apiCodec(apiKey);
  if (codec === undefined || apiVersion < codec.minVersion || apiVersion > codec.maxVersion) {
    throw new UnsupportedRequestError(apiKey, apiVersion, correlationId);
  }
  // Decoders throw only ProtocolErrors: every read is bounds-checked (the fuzz tests hold us to it).
  const r = new Reader(payload);
  const header = readRequestHeader(r, requestHeaderVersion(apiKey, apiVersion));
  const body = codec.readRequest(r, apiVersion);
  if (r.remaining !== 0) {
    throw new DecodeError(`${codec.name} v${apiVersion} request has ${r.remaining} trailing bytes`);
  }
  return { header, body };
}

/** Decodes a request body of a known API, typed. */
export function decodeRequestAs<K extends ApiKeyNumber>(
  apiKey: K,
  payload: Buffer,
): DecodedRequest<ApiMessages[K]["request"]> {
  const decoded = decodeRequest(payload);
  if (decoded.header.requestApiKey !== apiKey) {
    throw new DecodeError(`expected API key ${apiKey}, got ${decoded.header.requestApiKey}`);
  }
  return decoded;
}

export interface EncodeRequestOptions {
  correlationId: number;
  clientId: string | null;
}

/** Encodes a request frame, including its 4-byte size prefix. */
export function encodeRequest<K extends ApiKeyNumber>(
  apiKey: K,
  apiVersion: number,
  opts: EncodeRequestOptions,
  body: Input<ApiMessages[K]["request"]>,
): Buffer {
  return joinChunks(encodeRequestChunks(apiKey, apiVersion, opts, body));
}

/**
 * encodeRequest as chunks for a vectored write: record batches of 16 KiB or more are
 * referenced, not copied, so the caller must leave them unchanged until the frame is sent.
 */
export function encodeRequestChunks<K extends ApiKeyNumber>(
  apiKey: K,
  apiVersion: number,
  opts: EncodeRequestOptions,
  body: Input<ApiMessages[K]["request"]>,
): Buffer[] {
  const codec = codecFor(apiKey, apiVersion) as ApiCodec<ApiMessages[K]["request"]>;
  return encoding(`${codec.name} v${apiVersion} request`, () => {
    const w = Writer.gathering(128);
    w.int32(0);
    writeRequestHeader(w, requestHeaderVersion(apiKey, apiVersion), {
      requestApiKey: apiKey,
      requestApiVersion: apiVersion,
      correlationId: opts.correlationId,
      clientId: opts.clientId,
    });
    codec.writeRequest(w, apiVersion, body);
    return sizedChunks(w);
  });
}

/** The chunks of a gathering writer whose first four bytes are the frame's size prefix, filled in. */
function sizedChunks(w: Writer): Buffer[] {
  const chunks = w.finishChunks();
  (chunks[0] as Buffer).writeInt32BE(w.length - 4, 0);
  return chunks;
}

/** One buffer of a frame's chunks (no copy when there is one chunk). */
export function joinChunks(chunks: readonly Buffer[]): Buffer {
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/** Encodes a request from a decoded header and body (the header's tagged fields kept). */
export function encodeDecodedRequest(req: DecodedRequest): Buffer {
  const { requestApiKey: apiKey, requestApiVersion: apiVersion } = req.header;
  const codec = codecFor(apiKey, apiVersion);
  return encoding(`${codec.name} v${apiVersion} request`, () => {
    const w = new Writer(128);
    w.int32(0);
    writeRequestHeader(w, requestHeaderVersion(apiKey, apiVersion), req.header);
    codec.writeRequest(w, apiVersion, req.body);
    w.int32At(0, w.pos - 4);
    return w.finish();
  });
}

export interface DecodedResponse<Body = object> {
  correlationId: number;
  body: Body;
  /** The version the body was decoded at (ApiVersions may fall back to 0). */
  version: number;
}

/**
 * Decodes a response payload for the request's API key and version. An ApiVersions
 * response that does not parse at the requested version is retried as v0: a broker that
 * does not support the version answers in v0 with UNSUPPORTED_VERSION (KIP-511).
 */
export function decodeResponse(payload: Buffer, apiKey: number, apiVersion: number): DecodedResponse {
  const codec = codecFor(apiKey, apiVersion);
  const parse = (version: number): DecodedResponse => {
    const r = new Reader(payload);
    r.lenientNulls = true;
    const header = readResponseHeader(r, responseHeaderVersion(apiKey, version));
    const body = codec.readResponse(r, version);
    if (r.remaining !== 0) {
      throw new DecodeError(`${codec.name} v${version} response has ${r.remaining} trailing bytes`);
    }
    return { correlationId: header.correlationId, body, version };
  };
  if (apiKey !== ApiKey.ApiVersions || apiVersion === 0) return parse(apiVersion);
  try {
    const res = parse(apiVersion);
    if ((res.body as ApiMessages[18]["response"]).errorCode !== 35) return res;
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
  try {
    return parse(0);
  } catch (e) {
    // Some servers (librdkafka 2.0's mock cluster) send an UNSUPPORTED_VERSION body that is
    // neither v0 nor the requested version. The error code leads the body either way, and
    // it is all a client needs to retry at v0.
    if (e instanceof DecodeError && payload.length >= 6 && payload.readInt16BE(4) === 35) {
      return {
        correlationId: payload.readInt32BE(0),
        body: { errorCode: 35, apiKeys: [], throttleTimeMs: 0 },
        version: 0,
      };
    }
    throw e;
  }
}

/** Decodes a response of a known API, typed. */
export function decodeResponseAs<K extends ApiKeyNumber>(
  apiKey: K,
  apiVersion: number,
  payload: Buffer,
): DecodedResponse<ApiMessages[K]["response"]> {
  return decodeResponse(payload, apiKey, apiVersion) as DecodedResponse<ApiMessages[K]["response"]>;
}

/** Encodes a response frame, including its 4-byte size prefix. */
export function encodeResponse<K extends ApiKeyNumber>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: Input<ApiMessages[K]["response"]>,
): Buffer {
  return joinChunks(encodeResponseChunks(apiKey, apiVersion, correlationId, body));
}

/** encodeResponse as chunks for a vectored write; large record batches are referenced, not copied. */
export function encodeResponseChunks<K extends ApiKeyNumber>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: Input<ApiMessages[K]["response"]>,
): Buffer[] {
  const codec = codecFor(apiKey, apiVersion) as ApiCodec<object, ApiMessages[K]["response"]>;
  return encoding(`${codec.name} v${apiVersion} response`, () => {
    const w = Writer.gathering(128);
    w.int32(0);
    writeResponseHeader(w, responseHeaderVersion(apiKey, apiVersion), { correlationId });
    codec.writeResponse(w, apiVersion, body);
    return sizedChunks(w);
  });
}

/**
 * The answer to an ApiVersions request at a version this side does not support: a v0
 * body with UNSUPPORTED_VERSION and our ApiVersions range, so the client can retry lower.
 */
export function encodeApiVersionsUnsupported(
  correlationId: number,
  minVersion: number,
  maxVersion: number,
): Buffer {
  return encodeResponse(ApiKey.ApiVersions, 0, correlationId, {
    errorCode: 35,
    apiKeys: [{ apiKey: ApiKey.ApiVersions, minVersion, maxVersion }],
  });
}
