// Every generated message at every valid version: random values survive write -> read
// unchanged, and re-encoding what was read gives the same bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as generated from "../../src/protocol/generated/index.ts";
import { Reader } from "../../src/protocol/reader.ts";
import { Writer } from "../../src/protocol/writer.ts";
import { expectedStruct, MESSAGES, structArb, unknownTaggedFieldsArb } from "./schema-arbitrary.ts";

type ReadFn = (r: Reader, version: number) => Record<string, unknown>;
type WriteFn = (w: Writer, version: number, m: Record<string, unknown>) => void;
const codecs = generated as unknown as Record<string, ReadFn | WriteFn | undefined>;

const RUNS = Number(process.env.FERRY_ROUNDTRIP_RUNS ?? 12);

function encode(write: WriteFn, version: number, m: Record<string, unknown>): Buffer {
  const w = new Writer(64);
  write(w, version, m);
  return Buffer.from(w.finish());
}

for (const msg of MESSAGES) {
  test(`${msg.name} round-trips at versions ${msg.versions[0]}-${msg.versions[1]}`, () => {
    const read = codecs[`read${msg.name}`] as ReadFn;
    const write = codecs[`write${msg.name}`] as WriteFn;
    assert.equal(typeof read, "function");
    assert.equal(typeof write, "function");
    for (let version = msg.versions[0]; version <= msg.versions[1]; version++) {
      const flexible = msg.flexible !== null && version >= msg.flexible[0];
      const arb = structArb(msg, msg.fields, version).chain((m) =>
        flexible
          ? fc
              .option(unknownTaggedFieldsArb, { nil: undefined })
              .map((u) => (u === undefined ? m : { ...m, _unknownTaggedFields: u }))
          : fc.constant(m),
      );
      fc.assert(
        fc.property(arb, (input) => {
          const bytes = encode(write, version, input);
          const r = new Reader(bytes);
          const decoded = read(r, version);
          assert.equal(r.remaining, 0, `v${version}: ${r.remaining} bytes left after reading`);
          assert.deepStrictEqual(
            decoded,
            expectedStruct(msg, msg.fields, input),
            `v${version}: decoded value differs`,
          );
          assert.deepStrictEqual(encode(write, version, decoded), bytes, `v${version}: re-encoding differs`);
        }),
        { numRuns: RUNS, seed: 42 + version },
      );
    }
  });
}
