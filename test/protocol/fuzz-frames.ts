// Decoder fuzzing: a corpus of valid frames for every API and version (built from the
// schema, plus captured real-client fixtures), seeded mutators, and a checker that every
// decode either succeeds or throws a typed ProtocolError. Used by the test suite (small,
// seeded) and by bench/fuzz-codec.ts (millions of frames).
import fc from "fast-check";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { API_CODECS, type ApiKeyNumber } from "../../src/protocol/generated/index.ts";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../../src/protocol/messages.ts";
import { ProtocolError } from "../../src/protocol/errors.ts";
import { MESSAGES, structArb } from "./schema-arbitrary.ts";

export interface CorpusFrame {
  direction: "request" | "response";
  apiKey: number;
  apiVersion: number;
  /** Payload without the 4-byte size prefix. */
  payload: Buffer;
}

/** Valid frames: `perVersion` random requests and responses for every API at every version. */
export function schemaCorpus(perVersion: number, seed: number): CorpusFrame[] {
  const out: CorpusFrame[] = [];
  for (const msg of MESSAGES) {
    if (msg.apiKey === null || (msg.type !== "request" && msg.type !== "response")) continue;
    const key = msg.apiKey as ApiKeyNumber;
    for (let v = msg.versions[0]; v <= msg.versions[1]; v++) {
      const values = fc.sample(structArb(msg, msg.fields, v), {
        numRuns: perVersion,
        seed: seed + key * 64 + v,
      });
      for (const body of values) {
        const frame =
          msg.type === "request"
            ? encodeRequest(key, v, { correlationId: 7, clientId: "fuzz" }, body as never)
            : encodeResponse(key, v, 7, body as never);
        out.push({ direction: msg.type, apiKey: key, apiVersion: v, payload: frame.subarray(4) });
      }
    }
  }
  return out;
}

/** Frames captured from real clients and servers (test/protocol/fixtures/*.jsonl). */
export function fixtureCorpus(dir = new URL("./fixtures/", import.meta.url).pathname): CorpusFrame[] {
  if (!existsSync(dir)) return [];
  const out: CorpusFrame[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".jsonl"))) {
    for (const line of readFileSync(join(dir, f), "utf8").split("\n")) {
      if (line.trim() === "") continue;
      const rec = JSON.parse(line) as {
        direction: "request" | "response";
        apiKey: number;
        apiVersion: number;
        hex: string;
      };
      out.push({
        direction: rec.direction,
        apiKey: rec.apiKey,
        apiVersion: rec.apiVersion,
        payload: Buffer.from(rec.hex, "hex"),
      });
    }
  }
  return out;
}

/** A small fast seeded PRNG (xorshift32), so fuzz runs are reproducible. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return this.next() % n;
  }
}

const NASTY_INT32 = [0x7fffffff, 0x80000000, 0xffffffff, 0x40000000, 0x00ffffff, 0];
const NASTY_VARINT = [
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0xff, 0xff, 0xff, 0xff, 0x07],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
  [0xfe, 0xff, 0xff, 0xff, 0x07],
];

/** One mutation of a frame: bit flips, byte overwrites, hostile lengths, truncation, splices. */
export function mutate(src: Buffer, rng: Rng): Buffer {
  const b = Buffer.from(src);
  const kind = rng.below(8);
  const at = b.length === 0 ? 0 : rng.below(b.length);
  switch (kind) {
    case 0: {
      const flips = 1 + rng.below(4);
      for (let i = 0; i < flips && b.length > 0; i++) {
        const p = rng.below(b.length);
        b[p] = (b[p] as number) ^ (1 << rng.below(8));
      }
      return b;
    }
    case 1:
      if (b.length > 0) b[at] = rng.below(256);
      return b;
    case 2:
      if (at + 4 <= b.length)
        b.writeUInt32BE((NASTY_INT32[rng.below(NASTY_INT32.length)] as number) >>> 0, at);
      return b;
    case 3: {
      if (at + 2 <= b.length) b.writeInt16BE([0x7fff, -1, -2, 0x4000][rng.below(4)] as number, at);
      return b;
    }
    case 4: {
      const v = NASTY_VARINT[rng.below(NASTY_VARINT.length)] as number[];
      return Buffer.concat([b.subarray(0, at), Buffer.from(v), b.subarray(at + v.length)]);
    }
    case 5:
      return b.subarray(0, rng.below(b.length + 1));
    case 6: {
      const junk = Buffer.alloc(1 + rng.below(16));
      for (let i = 0; i < junk.length; i++) junk[i] = rng.below(256);
      return Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
    }
    default: {
      const junk = Buffer.alloc(rng.below(64));
      for (let i = 0; i < junk.length; i++) junk[i] = rng.below(256);
      // Random bytes behind a valid request prefix reach deeper than pure noise.
      return Buffer.concat([b.subarray(0, Math.min(8, b.length)), junk]);
    }
  }
}

export interface FuzzOutcome {
  decoded: number;
  rejected: number;
  /** Exceptions that were not ProtocolErrors: each one is a bug. */
  untyped: { frame: string; direction: string; apiKey: number; apiVersion: number; error: string }[];
  slowestMs: number;
}

/** Decodes `count` mutated frames from the corpus; collects any non-ProtocolError failure. */
export function fuzzDecoders(corpus: CorpusFrame[], count: number, seed: number): FuzzOutcome {
  const rng = new Rng(seed);
  const out: FuzzOutcome = { decoded: 0, rejected: 0, untyped: [], slowestMs: 0 };
  for (let i = 0; i < count; i++) {
    const base = corpus[rng.below(corpus.length)] as CorpusFrame;
    const frame = mutate(base.payload, rng);
    const t0 = performance.now();
    try {
      if (base.direction === "request") decodeRequest(frame);
      else decodeResponse(frame, base.apiKey, base.apiVersion);
      out.decoded++;
    } catch (e) {
      if (e instanceof ProtocolError) out.rejected++;
      else if (out.untyped.length < 20) {
        out.untyped.push({
          frame: frame.toString("hex"),
          direction: base.direction,
          apiKey: base.apiKey,
          apiVersion: base.apiVersion,
          error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        });
      }
    }
    const dt = performance.now() - t0;
    if (dt > out.slowestMs) out.slowestMs = dt;
  }
  return out;
}

/** Number of API keys in the registry (for reporting coverage). */
export const API_COUNT = Object.keys(API_CODECS).length;
