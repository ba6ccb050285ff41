// The offset and time indexes on their own: lookups, growth, and the checks that keep an
// index read from disk from ever pointing past the valid log.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OffsetIndex } from "../../../src/broker/log/offset-index.ts";
import { TimeIndex } from "../../../src/broker/log/time-index.ts";

test("positionFor answers the entry with the largest offset at or below the target, else 0", () => {
  const index = new OffsetIndex(100, 1000);
  index.append(105, 400);
  index.append(110, 900);
  index.append(130, 2000);
  assert.equal(index.positionFor(100), 0);
  assert.equal(index.positionFor(104), 0);
  assert.equal(index.positionFor(105), 400);
  assert.equal(index.positionFor(129), 900);
  assert.equal(index.positionFor(10_000), 2000);
});

test("an index grows past its initial capacity, also when loaded empty from a file", () => {
  for (const index of [
    new OffsetIndex(0, 10_000),
    OffsetIndex.fromBytes(0, 10_000, Buffer.alloc(0), 1e9, 1e9),
  ]) {
    assert.ok(index !== null);
    for (let i = 1; i <= 1000; i++) index.append(i * 2, i * 100);
    assert.equal(index.entries, 1000);
    assert.equal(index.positionFor(1001), 50_000);
  }
  const time = TimeIndex.fromBytes(0, 10_000, Buffer.alloc(0), 1e9);
  assert.ok(time !== null);
  for (let i = 1; i <= 1000; i++) time.maybeAppend(1000 + i, i);
  assert.equal(time.entries, 1000);
});

test("offset index entries must increase", () => {
  const index = new OffsetIndex(0, 10);
  index.append(5, 100);
  assert.throws(() => index.append(5, 200), RangeError);
  assert.throws(() => index.append(6, 100), RangeError);
  assert.throws(() => index.append(2 ** 31, 300), RangeError);
});

test("an index file is refused when an entry points past the log, goes back, or is cut", () => {
  const entries = (pairs: [number, number][]): Buffer => {
    const b = Buffer.alloc(pairs.length * 8);
    pairs.forEach(([o, p], i) => {
      b.writeInt32BE(o, i * 8);
      b.writeInt32BE(p, i * 8 + 4);
    });
    return b;
  };
  assert.ok(
    OffsetIndex.fromBytes(
      0,
      100,
      entries([
        [1, 10],
        [5, 90],
      ]),
      100,
      10,
    ) !== null,
  );
  assert.equal(
    OffsetIndex.fromBytes(
      0,
      100,
      entries([
        [1, 10],
        [5, 100],
      ]),
      100,
      10,
    ),
    null,
    "position at the end of the log",
  );
  assert.equal(
    OffsetIndex.fromBytes(
      0,
      100,
      entries([
        [1, 10],
        [10, 90],
      ]),
      100,
      10,
    ),
    null,
    "offset beyond the segment",
  );
  assert.equal(
    OffsetIndex.fromBytes(
      0,
      100,
      entries([
        [5, 10],
        [3, 90],
      ]),
      100,
      10,
    ),
    null,
    "offsets going back",
  );
  assert.equal(
    OffsetIndex.fromBytes(
      0,
      100,
      entries([
        [1, 50],
        [5, 40],
      ]),
      100,
      10,
    ),
    null,
    "positions going back",
  );
  assert.equal(OffsetIndex.fromBytes(0, 100, entries([[1, 10]]).subarray(0, 5), 100, 10), null, "cut entry");
});

test("the time index keeps only increasing timestamps and finds where a search starts", () => {
  const index = new TimeIndex(0, 100);
  assert.equal(index.maybeAppend(100, 3), true);
  assert.equal(index.maybeAppend(100, 5), false);
  assert.equal(index.maybeAppend(90, 6), false);
  assert.equal(index.maybeAppend(200, 9), true);
  assert.equal(index.lastTimestamp(), 200);
  assert.equal(index.lastOffset(), 9);
  assert.equal(index.searchStartFor(50), 0);
  assert.equal(index.searchStartFor(100), 0, "a record at 100 may sit before offset 3");
  assert.equal(index.searchStartFor(101), 3);
  assert.equal(index.searchStartFor(500), 9);
  const bytes = Buffer.from(index.bytes());
  assert.ok(TimeIndex.fromBytes(0, 100, bytes, 10) !== null);
  assert.equal(TimeIndex.fromBytes(0, 100, bytes, 9), null, "offset beyond the segment");
  bytes.writeUInt32BE(50, 16);
  bytes.writeInt32BE(0, 12);
  assert.equal(TimeIndex.fromBytes(0, 100, bytes, 10), null, "timestamps going back");
});
