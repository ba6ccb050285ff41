// The frame decoder cuts a stream into Kafka frames wherever the socket happens to split it,
// and refuses hostile size prefixes before allocating anything for them.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  MEDIUM_DIRECT_MIN_BYTES,
} from "../../src/net/frame-decoder.ts";
import { FrameSizeError } from "../../src/net/errors.ts";
import { ErrorCode } from "../../src/protocol/error-codes.ts";

/** A frame size well inside the direct-read range. */
const LARGE = 256 * 1024;

function frame(payload: Buffer): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out.writeInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

function sizePrefix(size: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32BE(size, 0);
  return out;
}

function drain(decoder: FrameDecoder): Buffer[] {
  const out: Buffer[] = [];
  for (let f = decoder.next(); f !== undefined; f = decoder.next()) out.push(Buffer.from(f));
  return out;
}

// Payloads of assorted sizes, including empty and one longer than a typical small chunk.
const PAYLOADS = [
  Buffer.from("a"),
  Buffer.alloc(0),
  Buffer.from("hello kafka"),
  Buffer.alloc(300, 7),
  Buffer.from([0, 0, 0, 0, 255]),
];
const STREAM = Buffer.concat(PAYLOADS.map(frame));

test("a frame inside one chunk is handed out as a view of that chunk, not a copy", () => {
  const decoder = new FrameDecoder();
  const chunk = Buffer.concat([frame(Buffer.from("abc")), Buffer.from([0, 0])]);
  decoder.push(chunk);
  const payload = decoder.next();
  assert.ok(payload);
  assert.equal(payload.toString(), "abc");
  assert.equal(payload.buffer, chunk.buffer);
  assert.equal(payload.byteOffset, chunk.byteOffset + 4);
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.bufferedBytes, 2);
});

test("many frames in one chunk come out one by one, in order", () => {
  const decoder = new FrameDecoder();
  decoder.push(STREAM);
  assert.deepEqual(drain(decoder), PAYLOADS);
  assert.equal(decoder.bufferedBytes, 0);
});

test("a stream split into two chunks at every byte boundary yields the same frames", () => {
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const decoder = new FrameDecoder();
    decoder.push(STREAM.subarray(0, cut));
    const frames = drain(decoder);
    decoder.push(STREAM.subarray(cut));
    frames.push(...drain(decoder));
    assert.deepEqual(frames, PAYLOADS, `split at byte ${cut}`);
    assert.equal(decoder.bufferedBytes, 0);
  }
});

test("a stream fed one byte at a time yields the same frames", () => {
  const decoder = new FrameDecoder();
  const frames: Buffer[] = [];
  for (let i = 0; i < STREAM.length; i++) {
    decoder.push(STREAM.subarray(i, i + 1));
    frames.push(...drain(decoder));
  }
  assert.deepEqual(frames, PAYLOADS);
});

test("a stream cut at three random points per run yields the same frames", () => {
  let seed = 42;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let run = 0; run < 500; run++) {
    const cuts = [random(STREAM.length), random(STREAM.length), random(STREAM.length)].sort((a, b) => a - b);
    const decoder = new FrameDecoder();
    const frames: Buffer[] = [];
    let from = 0;
    for (const to of [...cuts, STREAM.length]) {
      decoder.push(STREAM.subarray(from, to));
      frames.push(...drain(decoder));
      from = to;
    }
    assert.deepEqual(frames, PAYLOADS, `cuts ${cuts.join(",")}`);
  }
});

test("a frame of exactly maxFrameBytes is accepted", () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 5 });
  decoder.push(frame(Buffer.from("12345")));
  assert.equal(decoder.next()?.toString(), "12345");
});

test("a size prefix over the limit fails as soon as its 4 bytes arrive, with MESSAGE_TOO_LARGE", () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 5 });
  decoder.push(sizePrefix(6).subarray(0, 3));
  assert.equal(decoder.next(), undefined);
  decoder.push(sizePrefix(6).subarray(3));
  assert.throws(
    () => decoder.next(),
    (e: unknown) =>
      e instanceof FrameSizeError &&
      e.code === ErrorCode.MESSAGE_TOO_LARGE &&
      e.size === 6 &&
      e.maxFrameBytes === 5,
  );
});

test("a negative size prefix is an error with CORRUPT_MESSAGE", () => {
  const decoder = new FrameDecoder();
  decoder.push(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
  assert.throws(
    () => decoder.next(),
    (e: unknown) => e instanceof FrameSizeError && e.code === ErrorCode.CORRUPT_MESSAGE && e.size === -2,
  );
});

test("after a size error the decoder keeps failing instead of reading garbage as frames", () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 10 });
  decoder.push(sizePrefix(11));
  assert.throws(() => decoder.next(), FrameSizeError);
  decoder.push(frame(Buffer.from("ok")));
  assert.throws(() => decoder.next(), FrameSizeError);
});

test("a hostile 2 GiB size prefix is refused without allocating for it", () => {
  const before = process.memoryUsage().arrayBuffers;
  const decoder = new FrameDecoder();
  decoder.push(sizePrefix(0x7fffffff));
  assert.throws(
    () => decoder.next(),
    (e: unknown) => e instanceof FrameSizeError && e.size === 0x7fffffff,
  );
  assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024);
});

test("a size prefix under the limit allocates nothing until the whole frame has arrived", () => {
  const claimed = DEFAULT_MAX_FRAME_BYTES - 1;
  const before = process.memoryUsage().arrayBuffers;
  const decoder = new FrameDecoder();
  decoder.push(sizePrefix(claimed));
  decoder.push(Buffer.from("only a few bytes"));
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.next(), undefined);
  assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024);
});

test("a large frame arriving in many small chunks is assembled intact", () => {
  const payload = Buffer.alloc(1_000_000);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  const bytes = Buffer.concat([frame(payload), frame(Buffer.from("next"))]);
  const decoder = new FrameDecoder();
  const frames: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 1000) {
    decoder.push(bytes.subarray(i, i + 1000));
    frames.push(...drain(decoder));
  }
  assert.equal(frames.length, 2);
  assert.ok(frames[0]?.equals(payload));
  assert.equal(frames[1]?.toString(), "next");
});

test("maxFrameBytes must be a non-negative int32", () => {
  assert.throws(() => new FrameDecoder({ maxFrameBytes: -1 }), RangeError);
  assert.throws(() => new FrameDecoder({ maxFrameBytes: 2 ** 31 }), RangeError);
});

/** Feeds `stream` the way a socket with supplied read buffers does: at most `step` bytes per read. */
function readThroughBuffers(decoder: FrameDecoder, stream: Buffer, step: number): Buffer[] {
  const frames: Buffer[] = [];
  let pos = 0;
  while (pos < stream.length) {
    const target = decoder.readBuffer();
    const n = Math.min(step, target.length, stream.length - pos);
    stream.copy(target, 0, pos, pos + n);
    pos += n;
    decoder.received(n, target);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) frames.push(Buffer.from(f));
  }
  return frames;
}

test("a large frame is read straight into its own buffer; small frames around it come out as usual", () => {
  const big = Buffer.alloc(LARGE * 3 + 5, 9);
  for (let i = 0; i < big.length; i += 997) big[i] = i % 251;
  const payloads = [
    Buffer.from("small-1"),
    big,
    Buffer.from("small-2"),
    big.subarray(0, LARGE),
    Buffer.from("x"),
  ];
  const stream = Buffer.concat(payloads.map(frame));
  for (const step of [1000, 65536, 300_000]) {
    const decoder = new FrameDecoder();
    const frames = readThroughBuffers(decoder, stream, step);
    assert.deepEqual(frames, payloads, `reads of ${step} bytes`);
    assert.equal(decoder.bufferedBytes, 0);
  }
});

test("the frame a direct read fills is the buffer handed out, with no copy after the first read", () => {
  const big = Buffer.alloc(LARGE * 2, 3);
  const decoder = new FrameDecoder();
  const stream = frame(big);
  let first = decoder.readBuffer();
  stream.copy(first, 0, 0, 1000); // prefix and the start of the payload arrive in an ordinary read
  decoder.received(1000, first);
  assert.equal(decoder.next(), undefined);
  let pos = 1000;
  let target = decoder.readBuffer();
  assert.equal(target.length, big.length - (1000 - 4), "the rest of the frame, exactly");
  const backing = target.buffer;
  while (pos < stream.length) {
    const n = Math.min(100_000, stream.length - pos);
    stream.copy(target, 0, pos, pos + n);
    decoder.received(n, target);
    pos += n;
    if (pos < stream.length) {
      assert.equal(decoder.next(), undefined);
      target = decoder.readBuffer();
      assert.equal(target.buffer, backing, "later reads go on in the same frame buffer");
    }
  }
  const out = decoder.next();
  assert.ok(out !== undefined);
  assert.equal(out.buffer, backing);
  assert.deepEqual(out, big);
  first = decoder.readBuffer();
  assert.equal(first.length, 64 * 1024, "back to ordinary reads after the frame");
});

test("a large frame queued behind one being handled is read directly once its prefix is in", () => {
  // A busy server connection pulls the next frame only after it has answered the previous one;
  // the frames behind it must not pile up in ordinary reads (copied twice) meanwhile.
  const small = Buffer.from("being-handled");
  const big = Buffer.alloc(LARGE * 2, 5);
  const stream = Buffer.concat([frame(small), frame(big)]);
  const decoder = new FrameDecoder();
  const first = decoder.readBuffer();
  const head = 4 + small.length + 4 + 100; // the small frame, the big one's prefix and 100 bytes
  stream.copy(first, 0, 0, head);
  decoder.received(head, first);
  assert.deepEqual(decoder.next(), small, "pulled, and being handled: next() is not called again for now");
  const target = decoder.readBuffer();
  assert.equal(target.length, big.length - 100, "the rest of the big frame, before it is pulled");
  stream.copy(target, 0, head);
  decoder.received(stream.length - head, target);
  const out = decoder.next();
  assert.ok(out !== undefined);
  assert.equal(out.buffer, target.buffer, "handed out in the buffer the read filled");
  assert.deepEqual(out, big);
});

test("a prefix over the limit read ahead is left for next() to judge under the limit in force then", () => {
  // A broker raises the limit once a SASL client has authenticated, after answering the request
  // that did it; a larger frame already behind that request must be judged by the new limit.
  const small = Buffer.from("authenticate");
  const big = Buffer.alloc(LARGE * 2, 6);
  const stream = Buffer.concat([frame(small), frame(big)]);
  const decoder = new FrameDecoder({ maxFrameBytes: 1000 });
  let target = decoder.readBuffer();
  stream.copy(target, 0, 0, 64);
  decoder.received(64, target);
  target = decoder.readBuffer();
  assert.equal(
    target.length,
    64 * 1024,
    "an ordinary read: the big prefix is not taken under the small limit",
  );
  assert.deepEqual(decoder.next(), small);
  decoder.setMaxFrameBytes(DEFAULT_MAX_FRAME_BYTES);
  let pos = 64;
  while (pos < stream.length) {
    target = decoder.readBuffer();
    const n = Math.min(target.length, stream.length - pos);
    stream.copy(target, 0, pos, pos + n);
    decoder.received(n, target);
    pos += n;
  }
  assert.deepEqual(decoder.next(), big);
});

test("a medium frame (16-256 KiB) is read into a buffer of its exact size; untrusted, once half has come", () => {
  const medium = Buffer.alloc(MEDIUM_DIRECT_MIN_BYTES * 3, 4);
  const stream = Buffer.concat([frame(Buffer.from("small")), frame(medium)]);
  for (const [trustSizePrefix, before] of [
    [true, 10],
    [false, medium.length / 2],
  ] as const) {
    const decoder = new FrameDecoder({ trustSizePrefix });
    const first = decoder.readBuffer();
    const head = 4 + 5 + 4 + before;
    stream.copy(first, 0, 0, head);
    decoder.received(head, first);
    assert.deepEqual(decoder.next(), Buffer.from("small"));
    const target = decoder.readBuffer();
    assert.equal(
      target.length,
      medium.length - before,
      `the rest of the frame, exactly (trusted: ${trustSizePrefix})`,
    );
    stream.copy(target, 0, head);
    decoder.received(stream.length - head, target);
    const out = decoder.next();
    assert.ok(out !== undefined);
    assert.equal(out.buffer, target.buffer, "no copy after the first read");
    assert.deepEqual(out, medium);
  }
});

test("an untrusted medium prefix alone allocates nothing for its frame", () => {
  const decoder = new FrameDecoder({ trustSizePrefix: false });
  const first = decoder.readBuffer();
  sizePrefix(LARGE - 1).copy(first);
  decoder.received(4, first);
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.readBuffer(), first, "still the shared read buffer");
});
