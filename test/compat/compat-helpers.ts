// Shared pieces of the differential codec tests against other Kafka clients: a partial
// deep match (the other client's objects carry extras we do not model), uuid spellings,
// and typed wrappers that keep each case's bodies checked against our generated types.
import assert from "node:assert/strict";
import type { Input } from "../../src/protocol/codec-runtime.ts";
import type { ApiKeyNumber, ApiMessages } from "../../src/protocol/generated/index.ts";
import { encodeResponse } from "../../src/protocol/messages.ts";

/** A response body for API `K`, as our encoder accepts it. */
export type ResponseInput<K extends ApiKeyNumber> = Input<ApiMessages[K]["response"]>;

/** The subset of a decoded request body that a case expects to find. */
export type RequestExpectation<K extends ApiKeyNumber> = Input<ApiMessages[K]["request"]>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    !(v instanceof Map)
  );
}

function describe(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (v instanceof Uint8Array) return `<bytes ${Buffer.from(v).toString("hex")}>`;
  if (typeof v === "string") return JSON.stringify(v);
  if (isPlainObject(v) || Array.isArray(v)) return "object/array";
  return String(v);
}

/**
 * Asserts that `actual` contains `expected`: every key of an expected object must match
 * (extra keys in `actual` are ignored), arrays match element by element and in length,
 * bytes match by content, and everything else by strict equality.
 */
export function assertMatches(actual: unknown, expected: unknown, path = "$"): void {
  if (expected instanceof Uint8Array) {
    assert.ok(actual instanceof Uint8Array, `${path}: expected bytes, got ${describe(actual)}`);
    assert.equal(
      Buffer.from(actual).toString("hex"),
      Buffer.from(expected).toString("hex"),
      `${path}: bytes differ`,
    );
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array, got ${describe(actual)}`);
    assert.equal(actual.length, expected.length, `${path}: array length`);
    expected.forEach((e, i) => assertMatches((actual as unknown[])[i], e, `${path}[${i}]`));
  } else if (expected instanceof Map) {
    assert.ok(actual instanceof Map, `${path}: expected a Map, got ${describe(actual)}`);
    assert.equal(actual.size, expected.size, `${path}: map size`);
    for (const [k, e] of expected) {
      assert.ok(actual.has(k), `${path}: map lacks key ${describe(k)}`);
      assertMatches(actual.get(k), e, `${path}.get(${describe(k)})`);
    }
  } else if (isPlainObject(expected)) {
    assert.ok(isPlainObject(actual), `${path}: expected an object, got ${describe(actual)}`);
    for (const [k, e] of Object.entries(expected)) {
      assert.ok(k in actual, `${path}.${k}: missing`);
      assertMatches(actual[k], e, `${path}.${k}`);
    }
  } else {
    assert.equal(actual, expected, `${path}: ${describe(actual)} !== ${describe(expected)}`);
  }
}

/** Kafka's uuid string (URL-safe base64) in the dashed hex form other clients use. */
export function uuidToHex(uuid: string): string {
  const h = Buffer.from(uuid, "base64url").toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Dashed hex uuid to Kafka's URL-safe base64 string. */
export function hexToUuid(hex: string): string {
  return Buffer.from(hex.replaceAll("-", ""), "hex").toString("base64url");
}

/** Strips a frame's 4-byte size prefix, checking that it is the frame's real size. */
export function frameBody(frame: Buffer): Buffer {
  assert.ok(frame.length >= 4, "frame shorter than its size prefix");
  assert.equal(frame.readInt32BE(0), frame.length - 4, "size prefix does not match the frame");
  return frame.subarray(4);
}

/** A response encoder for one API, with the body type checked at the call site. */
export type ResponseEncoder = (version: number, correlationId: number) => Promise<Buffer>;

/** Binds `body` to API `key`, so case tables can hold responses of every API. */
export function responseEncoder<K extends ApiKeyNumber>(
  key: K,
  body: (version: number) => ResponseInput<K> | Promise<ResponseInput<K>>,
): ResponseEncoder {
  return async (version, correlationId) => encodeResponse(key, version, correlationId, await body(version));
}

/** Versions lo..hi inclusive. */
export function versions(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let v = lo; v <= hi; v++) out.push(v);
  return out;
}
