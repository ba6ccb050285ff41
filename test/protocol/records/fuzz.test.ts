// Seeded fuzzing of every batch decoder: mutated headers, records and compressed payloads
// must only ever fail with a ProtocolError (never a RangeError, a hang or a huge allocation).
import { test } from "node:test";
import assert from "node:assert/strict";
import { compress, codecName } from "../../../src/protocol/compression/index.ts";
import { decodeBatch, decodeBatches, encodeBatch } from "../../../src/protocol/records/batch-codec.ts";
import {
  ATTRIBUTES_OFFSET,
  CRC_OFFSET,
  RECORDS_OFFSET,
  computeBatchCrc,
  iterateBatches,
  readBatchHeader,
  verifyBatchCrc,
} from "../../../src/protocol/records/batch-header.ts";
import { rewriteBatchHeader } from "../../../src/protocol/records/batch-rewrite.ts";
import { ProtocolError } from "../../../src/protocol/errors.ts";

const ROUNDS = 3000;
const LIMIT = { maxDecompressedBytes: 1 << 20 };

// mulberry32: deterministic, so a failure names a replayable seed and round.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sampleBatch(compression: number, seed: number): Buffer {
  const rand = prng(seed);
  return encodeBatch({
    compression,
    timestamp: 1_700_000_000_000,
    producerId: 7n,
    producerEpoch: 1,
    baseSequence: 0,
    records: Array.from({ length: 1 + Math.floor(rand() * 12) }, (_, i) => ({
      key: rand() < 0.3 ? null : Buffer.from(`key-${i}`),
      value: Buffer.from("v".repeat(Math.floor(rand() * 60))),
      headers: rand() < 0.5 ? [{ key: "h", value: rand() < 0.5 ? null : Buffer.from([i]) }] : [],
      timestamp: 1_700_000_000_000 + Math.floor(rand() * 1e9) - 5e8,
    })),
  });
}

function mutate(base: Buffer, rand: () => number, from = 0): Buffer {
  const b = Buffer.from(base);
  const pick = (n: number): number => Math.floor(rand() * n);
  const at = (): number => from + pick(Math.max(1, b.length - from));
  switch (pick(6)) {
    case 0:
      for (let k = 1 + pick(3); k > 0; k--) {
        const i = at();
        b[i] = (b[i] as number) ^ (1 << pick(8));
      }
      return b;
    case 1:
      for (let k = 1 + pick(3); k > 0; k--) b[at()] = pick(256);
      return b;
    case 2:
      return b.subarray(0, from + pick(b.length - from + 1));
    case 3:
      return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + pick(16) }, () => pick(256)))]);
    case 4: // a varint-looking run of continuation bytes
      for (let k = 0, p = at(); k < 1 + pick(10) && p + k < b.length; k++) b[p + k] = 0x80 | pick(128);
      return b;
    default: // a large int32 anywhere, e.g. over a length or a count
      if (b.length - from >= 4) b.writeInt32BE((rand() * 0x100000000) | 0, from + pick(b.length - from - 3));
      return b;
  }
}

function expectTyped(what: string, round: number, fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ProtocolError)) assert.fail(`${what}, round ${round}: ${String(e)}`);
  }
}

// Rebuilds a batch around a payload, with a valid CRC, so decoding gets past the checksum.
function withPayload(header: Buffer, payload: Buffer): Buffer {
  const b = Buffer.concat([header.subarray(0, RECORDS_OFFSET), payload]);
  b.writeInt32BE(b.length - 12, 8);
  b.writeUInt32BE(computeBatchCrc(b), CRC_OFFSET);
  return b;
}

for (const codec of [0, 1, 2, 3, 4]) {
  test(`mutated ${codecName(codec)} batches only ever fail with ProtocolErrors`, () => {
    const rand = prng(1000 + codec);
    const samples = [1, 2, 3].map((s) => sampleBatch(codec, s));
    for (let i = 0; i < ROUNDS; i++) {
      const base = samples[i % samples.length] as Buffer;
      const m = mutate(base, rand);
      expectTyped("decodeBatch", i, () => decodeBatch(m, 0, LIMIT));
      expectTyped("decodeBatch without CRC", i, () => decodeBatch(m, 0, { ...LIMIT, verifyCrc: false }));
      expectTyped("readBatchHeader", i, () => readBatchHeader(m));
      expectTyped("verifyBatchCrc", i, () => verifyBatchCrc(m));
      expectTyped("iterateBatches", i, () => [...iterateBatches(m)]);
      expectTyped("decodeBatches", i, () => decodeBatches(Buffer.concat([base, m]), LIMIT));
      expectTyped("rewriteBatchHeader", i, () => rewriteBatchHeader(m, 0, { producerId: 1n }));
    }
  });

  test(`corrupt records inside validly ${codecName(codec)}-compressed batches only fail with ProtocolErrors`, () => {
    const rand = prng(2000 + codec);
    const plain = [4, 5, 6].map((s) => sampleBatch(0, s));
    for (let i = 0; i < ROUNDS / 3; i++) {
      const base = plain[i % plain.length] as Buffer;
      const records = mutate(base, rand, RECORDS_OFFSET).subarray(RECORDS_OFFSET);
      const header = Buffer.from(base.subarray(0, RECORDS_OFFSET));
      header.writeInt16BE(codec, ATTRIBUTES_OFFSET);
      const b = withPayload(header, compress(codec, records));
      expectTyped("decodeBatch", i, () => decodeBatch(b, 0, LIMIT));
    }
  });
}
