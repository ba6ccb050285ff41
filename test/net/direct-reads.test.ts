// A plain-TCP listener hands each accepted socket to one that reads into the frame decoder's
// buffers (large requests arrive uncopied). What must hold: it really does so on this Node,
// every byte arrives whatever the write boundaries, quotas and close still work.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { listen } from "../../src/net/server.ts";
import type { Listener, ListenOptions } from "../../src/net/server.ts";
import { ConnectionQuotas } from "../../src/net/connection-quotas.ts";
import { collectFrames, connectRaw, rawFrame, rawResponse, sleep, waitFor } from "./wire.ts";

async function start(options: Partial<ListenOptions> & Pick<ListenOptions, "handler">): Promise<Listener> {
  return listen({ host: "127.0.0.1", port: 0, onError: () => undefined, ...options });
}

test("plain TCP connections read into the decoder's buffers, and large and split frames arrive intact", async (t) => {
  const seen: { correlationId: number; length: number; sha: string }[] = [];
  const listener = await start({
    handler: (payload) => {
      const correlationId = payload.readInt32BE(4);
      seen.push({
        correlationId,
        length: payload.length,
        sha: createHash("sha256").update(payload).digest("hex"),
      });
      return Promise.resolve(rawResponse(correlationId));
    },
  });
  t.after(() => listener.close());
  const socket = await connectRaw(listener.port);
  const { frames } = collectFrames(socket);
  await waitFor(() => listener.connections.size === 1, "the connection");
  const [connection] = listener.connections;
  assert.equal(connection?.directReads, true, "this Node hands accepted sockets over for direct reads");

  const frames_: Buffer[] = [rawFrame(1, 8 << 20), rawFrame(2, 10), rawFrame(3, 300_000), rawFrame(4, 0)];
  for (const f of frames_) f.fill(0x5a, 12); // recognisable padding after the header
  (frames_[0] as Buffer).writeUInt32BE(0xdeadbeef, (frames_[0] as Buffer).length - 4);
  const all = Buffer.concat(frames_);
  // Odd boundaries: a size prefix split in two, a large frame in uneven pieces.
  const cuts = [2, 5, 70_000, 4_000_000, all.length - 50_000, all.length - 3];
  let from = 0;
  for (const cut of [...cuts, all.length]) {
    socket.write(all.subarray(from, cut));
    from = cut;
    await sleep(1);
  }
  await waitFor(() => frames.length === 4, "four responses", 20_000);
  assert.deepEqual(
    seen.map((s) => s.correlationId),
    [1, 2, 3, 4],
  );
  for (const [i, f] of frames_.entries()) {
    const want = createHash("sha256").update(f.subarray(4)).digest("hex");
    assert.equal(seen[i]?.length, f.length - 4, `frame ${i + 1} length`);
    assert.equal(seen[i]?.sha, want, `frame ${i + 1} bytes`);
  }
  socket.destroy();
});

test("handed-over sockets still count against quotas and close with the listener", async () => {
  const quotas = new ConnectionQuotas({ maxConnections: 1 });
  const listener = await start({ handler: (p) => Promise.resolve(rawResponse(p.readInt32BE(4))), quotas });
  const first = await connectRaw(listener.port);
  const firstFrames = collectFrames(first);
  await waitFor(() => listener.connections.size === 1, "the first connection");
  const second = await connectRaw(listener.port);
  const secondFrames = collectFrames(second);
  await secondFrames.closed; // over the quota: dropped
  first.destroy();
  await firstFrames.closed;
  await waitFor(() => listener.connections.size === 0, "the first connection to leave");
  const third = await connectRaw(listener.port);
  const thirdFrames = collectFrames(third);
  third.write(rawFrame(7));
  await waitFor(() => thirdFrames.frames.length === 1, "a response once the slot is free");
  const closing = listener.close();
  await thirdFrames.closed;
  await closing;
});

test("a size prefix alone does not make the server allocate the frame", async (t) => {
  const listener = await start({
    handler: (p) => Promise.resolve(rawResponse(p.readInt32BE(4))),
    maxFrameBytes: 200 * 1024 * 1024,
  });
  t.after(() => listener.close());
  const socket = await connectRaw(listener.port);
  t.after(() => socket.destroy());
  await waitFor(() => listener.connections.size === 1, "the connection");
  const [connection] = listener.connections;
  const before = process.memoryUsage().arrayBuffers;
  // A hostile client announces 150 MiB and sends 1,000 bytes.
  const prefix = Buffer.alloc(4 + 1000);
  prefix.writeInt32BE(150 * 1024 * 1024, 0);
  socket.write(prefix);
  await waitFor(() => (connection?.bytesRead ?? 0) >= prefix.length, "the bytes to arrive");
  await sleep(50);
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 16 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
});
