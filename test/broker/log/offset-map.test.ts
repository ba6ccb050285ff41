// The cleaner's bounded key → offset map.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OFFSET_MAP_SLOT_BYTES, OffsetMap } from "../../../src/broker/log/offset-map.ts";

const key = (i: number): Buffer => Buffer.from(`key-${i}`);

test("the map keeps the latest offset put for each key and answers -1 for unknown keys", () => {
  const map = new OffsetMap(64 * 1024);
  for (let i = 0; i < 1000; i++) assert.ok(map.put(key(i % 100), i));
  assert.equal(map.size, 100);
  for (let k = 0; k < 100; k++) assert.equal(map.get(key(k)), 900 + k);
  assert.equal(map.get(Buffer.from("never")), -1);
  assert.equal(map.latestOffset, 999);
});

test("the map uses at most its memory and refuses new keys beyond the load factor, but still updates known ones", () => {
  const map = new OffsetMap(1024 * OFFSET_MAP_SLOT_BYTES, 0.5);
  assert.equal(map.slots, 1024);
  let stored = 0;
  while (map.put(key(stored), stored)) stored++;
  assert.equal(stored, 512);
  assert.ok(map.isFull);
  assert.ok(map.put(key(3), 10_000), "a known key is updated in place");
  assert.equal(map.get(key(3)), 10_000);
  assert.equal(map.get(key(600)), -1);
});

test("clear forgets every key", () => {
  const map = new OffsetMap(64 * 1024);
  map.put(key(1), 5);
  map.clear();
  assert.equal(map.get(key(1)), -1);
  assert.equal(map.size, 0);
  assert.equal(map.latestOffset, -1);
});

test("an empty key and binary keys are keys like any other", () => {
  const map = new OffsetMap(64 * 1024);
  map.put(Buffer.alloc(0), 1);
  map.put(Buffer.from([0, 255, 0]), 2);
  assert.equal(map.get(Buffer.alloc(0)), 1);
  assert.equal(map.get(Buffer.from([0, 255, 0])), 2);
  assert.equal(map.get(Buffer.from([0, 255])), -1);
});
