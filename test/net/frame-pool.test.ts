// The frame pool hands out exact-size buffers, reuses a given-back buffer for the next frame of
// its size class, and refuses what it cannot safely reuse.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FramePool } from "../../src/net/frame-pool.ts";

test("a given-back buffer is reused for the next frame of its class, and only once", () => {
  const pool = new FramePool();
  const a = pool.take(300_000);
  assert.equal(a.length, 300_000);
  a.fill(7);
  pool.give(a.subarray(10, 20)); // any view of it will do
  pool.give(a); // a second return is ignored
  const b = pool.take(400_000); // the same 512 KiB class
  assert.equal(b.length, 400_000);
  assert.equal(b.buffer, a.buffer, "reused");
  const c = pool.take(400_000);
  assert.notEqual(c.buffer, a.buffer, "a buffer in use is never handed out twice");
  assert.deepEqual(pool.stats, { taken: 3, reused: 1, freeBytes: 0 });
});

test("buffers the pool did not make are ignored, and free bytes stay under the bound", () => {
  const pool = new FramePool(1024 * 1024);
  pool.give(Buffer.allocUnsafe(300_000));
  assert.equal(pool.stats.freeBytes, 0);
  const big = pool.take(900_000); // 1 MiB class
  const small = pool.take(262_144); // the 256 KiB class
  pool.give(big);
  // Over the bound: the largest free buffer makes room for the one given back now.
  pool.give(small);
  assert.equal(pool.stats.freeBytes, 256 * 1024);
  assert.equal(pool.take(262_144).buffer, small.buffer);
  assert.notEqual(pool.take(600_000).buffer, big.buffer);
});

test("a free buffer of a class up to four times larger serves a smaller frame", () => {
  const pool = new FramePool();
  const large = pool.take(900_000); // 1 MiB
  pool.give(large);
  const smaller = pool.take(262_144); // 256 KiB class: 1 MiB is four times that
  assert.equal(smaller.buffer, large.buffer);
  assert.equal(smaller.length, 262_144);
  const huge = pool.take(5_000_000); // 8 MiB
  pool.give(huge);
  assert.notEqual(pool.take(262_144).buffer, huge.buffer, "not more than four times larger");
});

test("takeFree hands out only a buffer that already exists", () => {
  const pool = new FramePool();
  assert.equal(pool.takeFree(300_000), undefined, "nothing free: nothing allocated");
  const a = pool.take(300_000);
  pool.give(a);
  const b = pool.takeFree(400_000);
  assert.equal(b?.buffer, a.buffer);
  assert.equal(b?.length, 400_000);
  assert.equal(pool.takeFree(300_000), undefined);
});

test("sizes under the smallest class are not pooled: fresh memory of their size, ignored when given back", () => {
  const pool = new FramePool(1024 * 1024, 16 * 1024);
  const small = pool.take(16 * 1024 - 1);
  assert.equal(small.length, 16 * 1024 - 1);
  assert.equal(small.buffer.byteLength < 16 * 1024 || small.byteOffset > 0, true, "not a class buffer");
  pool.give(small);
  assert.equal(pool.stats.freeBytes, 0, "not the pool's");
  assert.equal(pool.takeFree(12 * 1024), undefined);
  const medium = pool.take(20 * 1024); // the 32 KiB class
  pool.give(medium);
  assert.equal(pool.stats.freeBytes, 32 * 1024);
  assert.equal(pool.take(17 * 1024).buffer, medium.buffer);
});
