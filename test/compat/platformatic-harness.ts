// Drives @platformatic/kafka's API functions without a socket: a stand-in connection records
// the payload, header flags and parser an API hands to Connection.send, and the framing and
// response parsing below follow what platformatic's Connection does with them.
import assert from "node:assert/strict";
import * as platformatic from "@platformatic/kafka";
import { Reader, Writer } from "@platformatic/kafka";
import { frameBody } from "./compat-helpers.ts";

type Parser = (correlationId: number, apiKey: number, apiVersion: number, reader: Reader) => unknown;

/** What an API function hands its connection: the payload and how to frame and parse. */
export interface Captured {
  apiKey: number;
  apiVersion: number;
  payload: Writer;
  requestHeaderTaggedFields: boolean;
  responseHeaderTaggedFields: boolean;
  parse: Parser;
}

/** platformatic's API functions take (connection, ...args, callback) and call connection.send. */
type LooseApi = ((connection: unknown, ...args: unknown[]) => void) & { key: number; version: number };

function isLooseApi(v: unknown): v is LooseApi {
  return typeof v === "function" && "key" in v && "version" in v;
}

/** The API function platformatic exports as `<name>V<version>.api`. */
export function platformaticApi(name: string, version: number): LooseApi {
  const namespace: unknown = (platformatic as Record<string, unknown>)[`${name}V${version}`];
  const api: unknown =
    typeof namespace === "object" && namespace !== null ? Reflect.get(namespace, "api") : undefined;
  assert.ok(isLooseApi(api), `@platformatic/kafka has no ${name}V${version}.api`);
  return api;
}

/** Calls an API function with a stand-in connection that records what it was asked to send. */
export function capture(api: LooseApi, args: unknown[]): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const connection = {
      send(
        apiKey: number,
        apiVersion: number,
        createPayload: () => Writer | Promise<Writer>,
        parse: Parser,
        requestHeaderTaggedFields: boolean,
        responseHeaderTaggedFields: boolean,
      ): void {
        Promise.resolve()
          .then(createPayload)
          .then(
            (payload) =>
              resolve({
                apiKey,
                apiVersion,
                payload,
                requestHeaderTaggedFields,
                responseHeaderTaggedFields,
                parse,
              }),
            reject,
          );
      },
    };
    api(connection, ...args, () => undefined);
  });
}

/** The request frame platformatic's Connection.send builds around a payload. */
export function frameRequest(c: Captured, correlationId: number, clientId: string | null): Buffer {
  const w = Writer.create()
    .appendInt16(c.apiKey)
    .appendInt16(c.apiVersion)
    .appendInt32(correlationId)
    .appendString(clientId, false);
  if (c.requestHeaderTaggedFields) w.appendTaggedFields();
  return w.appendFrom(c.payload).prependLength().buffer;
}

function responseOf(e: unknown): unknown {
  if (e instanceof platformatic.ResponseError) return Reflect.get(e, "response");
  throw e;
}

/**
 * Parses a response frame the way platformatic's Connection does: correlation id, then one
 * byte skipped for the header's tag buffer when the API declares one, then the parser.
 * Parsers throw ResponseError for non-zero error codes; the parsed response rides on it.
 */
export async function parseResponseFrame(
  c: Captured,
  frame: Buffer,
  correlationId: number,
  { readsAll = true } = {},
): Promise<unknown> {
  const body = frameBody(frame);
  assert.equal(body.readInt32BE(0), correlationId, "correlation id");
  let offset = 4;
  if (c.responseHeaderTaggedFields) {
    assert.equal(body[4], 0, "response header tag buffer");
    offset = 5;
  }
  const reader = Reader.from(body.subarray(offset));
  let parsed: unknown;
  try {
    parsed = await c.parse(correlationId, c.apiKey, c.apiVersion, reader);
  } catch (e) {
    parsed = responseOf(e);
  }
  if (readsAll) assert.equal(reader.remaining, 0, "platformatic left bytes of our response unread");
  return parsed;
}
