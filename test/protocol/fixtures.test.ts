// Golden frames captured from real clients (kcat/librdkafka, confluent-kafka-python,
// kafka-python, kafkajs) and a server nobody here wrote (librdkafka's mock cluster): each
// decodes, and re-encodes to the same bytes. See fixtures/README.md for how they were made.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import {
  decodeRequest,
  decodeResponse,
  encodeDecodedRequest,
  encodeResponse,
  type DecodedResponse,
} from "../../src/protocol/messages.ts";
import type { ApiKeyNumber } from "../../src/protocol/generated/index.ts";

interface Fixture {
  peer: string;
  direction: "request" | "response";
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  hex: string;
}

const dir = new URL("./fixtures/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".jsonl"));

function load(file: string): Fixture[] {
  return readFileSync(new URL(file, dir), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Fixture);
}

/**
 * librdkafka 2.0.2's mock answers ApiVersions v3 with UNSUPPORTED_VERSION in a body that is
 * neither v0 nor v3 (a one-byte compact count, then an entry anyway). It cannot round-trip;
 * the decoder must still surface the error code so a client retries at v0.
 */
function isMockMalformedApiVersions(f: Fixture, bytes: Buffer): boolean {
  return (
    f.direction === "response" &&
    f.apiKey === ApiKey.ApiVersions &&
    f.apiVersion >= 3 &&
    bytes.readInt16BE(4) === 35
  );
}

test("fixtures cover every captured peer", () => {
  assert.ok(files.length >= 4, `expected fixture files, found ${files.join(", ")}`);
  const peers = new Set(files.flatMap((f) => load(f).map((x) => x.peer)));
  for (const p of ["kcat", "kafkajs"]) assert.ok(peers.has(p), `no frames from ${p}`);
});

for (const file of files) {
  test(`${file}: every frame decodes and re-encodes byte for byte`, () => {
    const frames = load(file);
    assert.ok(frames.length > 0);
    for (const f of frames) {
      const bytes = Buffer.from(f.hex, "hex");
      const what = `${f.peer} ${f.direction} key=${f.apiKey} v${f.apiVersion} corr=${f.correlationId}`;
      if (f.direction === "request") {
        const req = decodeRequest(bytes);
        assert.equal(req.header.requestApiKey, f.apiKey, what);
        assert.equal(req.header.correlationId, f.correlationId, what);
        assert.deepEqual(encodeDecodedRequest(req).subarray(4), bytes, `${what}: re-encoded request differs`);
      } else {
        const res: DecodedResponse = decodeResponse(bytes, f.apiKey, f.apiVersion);
        assert.equal(res.correlationId, f.correlationId, what);
        if (isMockMalformedApiVersions(f, bytes)) {
          assert.equal((res.body as { errorCode: number }).errorCode, 35, what);
          continue;
        }
        const again = encodeResponse(
          f.apiKey as ApiKeyNumber,
          res.version,
          res.correlationId,
          res.body as never,
        );
        assert.deepEqual(again.subarray(4), bytes, `${what}: re-encoded response differs`);
      }
    }
  });
}
