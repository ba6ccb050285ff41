// CRC-32C: published check values, agreement of the pure and native paths, and the
// algebra (combine, shift) that header rewrites rely on.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  crc32c,
  crc32cCombine,
  crc32cNative,
  crc32cPure,
  crc32cShift,
  crc32cUpdate,
} from "../../src/protocol/crc32c.ts";

const ascending = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

// The check value of the CRC catalogue and the iSCSI test patterns of RFC 3720 B.4.
const VECTORS: [string, Buffer, number][] = [
  ["empty", Buffer.alloc(0), 0x00000000],
  ['"123456789"', Buffer.from("123456789"), 0xe3069283],
  ["32 zero bytes", Buffer.alloc(32, 0), 0x8a9136aa],
  ["32 0xff bytes", Buffer.alloc(32, 0xff), 0x62a8ab43],
  ["32 ascending bytes", ascending, 0x46dd794e],
  ["32 descending bytes", Buffer.from(ascending).reverse(), 0x113fdb5c],
];

for (const [name, data, expected] of VECTORS) {
  test(`crc32c of ${name} is 0x${expected.toString(16)}`, () => {
    assert.equal(crc32c(data), expected);
    assert.equal(crc32cPure(data), expected);
  });
}

test("crc32c over a range equals crc32c of that slice, on either side of the native threshold", () => {
  const big = Buffer.alloc(5000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 131 + 7) & 0xff;
  for (const [start, end] of [
    [3, 12],
    [1, 300],
    [17, 4999],
    [0, 5000],
  ] as const) {
    const expected = crc32cPure(Buffer.from(big.subarray(start, end)));
    assert.equal(crc32c(big, start, end), expected);
    assert.equal(crc32cPure(big, start, end), expected);
  }
});

test("the pure and native implementations agree on random data", { skip: crc32cNative === null }, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
      assert.equal(crc32cPure(data), (crc32cNative as (b: Uint8Array) => number)(data) >>> 0);
    }),
    { numRuns: 300 },
  );
});

test("crc32c rejects a range outside the buffer", () => {
  assert.throws(() => crc32c(Buffer.alloc(4), 2, 5), RangeError);
  assert.throws(() => crc32c(Buffer.alloc(4), 3, 2), RangeError);
});

test("crc32cCombine gives the CRC of a concatenation", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 600 }), (a, b) => {
      const whole = Buffer.concat([a, b]);
      assert.equal(crc32cCombine(crc32c(a), crc32c(b), b.length), crc32c(whole));
    }),
    { numRuns: 200 },
  );
});

test("changing bytes changes the CRC by the shifted raw CRC of the difference", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.uint8Array({ maxLength: 3000 }),
      fc.uint8Array({ minLength: 64, maxLength: 64 }),
      (head, tail, noise) => {
        const before = Buffer.concat([head, tail]);
        const after = Buffer.from(before);
        const diff = Buffer.alloc(head.length);
        for (let i = 0; i < head.length; i++) {
          after[i] = (head[i] as number) ^ (noise[i] as number);
          diff[i] = noise[i] as number;
        }
        const delta = crc32cShift(crc32cUpdate(0, diff, 0, diff.length), tail.length);
        assert.equal((crc32c(before) ^ delta) >>> 0, crc32c(after));
      },
    ),
    { numRuns: 200 },
  );
});
