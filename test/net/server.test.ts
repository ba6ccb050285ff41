// The listener as a bare-socket client sees it: response order, flow control per connection,
// and failures that close one connection without touching the others or the process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { listen } from "../../src/net/server.ts";
import type { Listener, ListenOptions, ServerConnection } from "../../src/net/server.ts";
import { FrameSizeError } from "../../src/net/errors.ts";
import { connectRaw, collectFrames, rawFrame, rawResponse, sleep, waitFor } from "./wire.ts";

/** A handler that answers each request with its correlation id, optionally after `hold`. */
function echo(hold?: (correlationId: number) => Promise<void>): ListenOptions["handler"] {
  return async (payload) => {
    const correlationId = payload.readInt32BE(4);
    if (hold) await hold(correlationId);
    return rawResponse(correlationId);
  };
}

async function start(options: Partial<ListenOptions> & Pick<ListenOptions, "handler">): Promise<Listener> {
  return listen({ host: "127.0.0.1", port: 0, onError: () => undefined, ...options });
}

function onlyConnection(listener: Listener): ServerConnection {
  const [connection] = listener.connections;
  if (connection === undefined) throw new Error("no connection");
  return connection;
}

test("port 0 binds a free port and the listener reports it", async (t) => {
  const listener = await start({ handler: echo() });
  t.after(() => listener.close());
  assert.ok(listener.port > 0);
  assert.equal(listener.host, "127.0.0.1");
  const socket = await connectRaw(listener.port);
  socket.destroy();
});

test("listening on a port already in use rejects", async (t) => {
  const listener = await start({ handler: echo() });
  t.after(() => listener.close());
  await assert.rejects(start({ handler: echo(), port: listener.port }), /EADDRINUSE/);
});

test("responses are written in request order even when handlers finish in reverse", async (t) => {
  const gates = new Map<number, () => void>();
  const listener = await start({
    handler: echo((id) => new Promise<void>((resolve) => gates.set(id, resolve))),
  });
  t.after(() => listener.close());
  const socket = await connectRaw(listener.port);
  t.after(() => socket.destroy());
  const { frames } = collectFrames(socket);
  for (let id = 0; id < 5; id++) socket.write(rawFrame(id));
  await waitFor(() => gates.size === 5, "all five requests in the handler");
  for (let id = 4; id >= 0; id--) {
    gates.get(id)?.();
    await sleep(10);
    // Nothing can be sent until request 0 is done; then everything goes at once.
    assert.equal(frames.length, id === 0 ? 5 : 0);
  }
  await waitFor(() => frames.length === 5, "five responses");
  assert.deepEqual(
    frames.map((f) => f.readInt32BE(0)),
    [0, 1, 2, 3, 4],
  );
});

test("a null response sends nothing and the following responses keep their order", async (t) => {
  const listener = await start({
    handler: (payload) => {
      const id = payload.readInt32BE(4);
      return Promise.resolve(id % 2 === 0 ? null : rawResponse(id));
    },
  });
  t.after(() => listener.close());
  const socket = await connectRaw(listener.port);
  t.after(() => socket.destroy());
  const { frames } = collectFrames(socket);
  for (let id = 0; id < 6; id++) socket.write(rawFrame(id));
  await waitFor(() => frames.length === 3, "three responses");
  await sleep(20);
  assert.deepEqual(
    frames.map((f) => f.readInt32BE(0)),
    [1, 3, 5],
  );
});

test("a connection at its in-flight limit stops reading its socket until requests complete", async (t) => {
  let blocking = true;
  const waiting: Array<() => void> = [];
  let handled = 0;
  const listener = await start({
    maxInFlightPerConnection: 2,
    handler: echo(async () => {
      handled++;
      if (blocking) await new Promise<void>((resolve) => waiting.push(resolve));
    }),
  });
  t.after(() => listener.close());
  const socket = await connectRaw(listener.port);
  t.after(() => socket.destroy());
  const { frames } = collectFrames(socket);

  // 64 MiB of requests: far more than the kernel's socket buffers can absorb.
  const count = 1024;
  const request = rawFrame(7, 64 * 1024);
  for (let i = 0; i < count; i++) socket.write(request);
  await waitFor(() => listener.connections.size === 1, "the connection");
  const connection = onlyConnection(listener);
  await waitFor(() => handled === 2 && connection.paused, "two requests in the handler and reading paused");

  await sleep(200);
  const readWhilePaused = connection.bytesRead;
  await sleep(200);
  assert.equal(connection.bytesRead, readWhilePaused, "the server read more while paused");
  assert.ok(readWhilePaused < (count * request.length) / 2, `read ${readWhilePaused} bytes while paused`);
  assert.ok(socket.writableLength > 0, "the client's writes should be backed up");
  assert.equal(handled, 2);
  assert.equal(connection.inFlight, 2);

  blocking = false;
  for (const release of waiting) release();
  await waitFor(() => frames.length === count, `${count} responses`, 20_000);
  assert.equal(handled, count);
  assert.equal(connection.paused, false);
});

test("a handler rejection closes only its connection, is reported, and the process lives on", async (t) => {
  const errors: Array<{ error: Error; id: number | undefined }> = [];
  const listener = await start({
    handler: (payload) => {
      const id = payload.readInt32BE(4);
      if (id === 666) return Promise.reject(new Error("handler exploded"));
      return Promise.resolve(rawResponse(id));
    },
    onError: (error, connection) => errors.push({ error, id: connection?.id }),
  });
  t.after(() => listener.close());
  const bad = await connectRaw(listener.port);
  const good = await connectRaw(listener.port);
  t.after(() => good.destroy());
  const badSide = collectFrames(bad);
  const goodSide = collectFrames(good);

  bad.write(rawFrame(666));
  await badSide.closed;
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.error.message, "handler exploded");

  good.write(rawFrame(1));
  await waitFor(() => goodSide.frames.length === 1, "the other connection's response");
});

test("a handler that throws synchronously is treated like a rejection", async (t) => {
  const errors: Error[] = [];
  const listener = await start({
    handler: () => {
      throw new Error("thrown, not rejected");
    },
    onError: (error) => errors.push(error),
  });
  t.after(() => listener.close());
  const socket = await connectRaw(listener.port);
  const { closed } = collectFrames(socket);
  socket.write(rawFrame(1));
  await closed;
  assert.equal(errors[0]?.message, "thrown, not rejected");
});

test("an oversized request closes the connection as soon as its size prefix arrives", async (t) => {
  const errors: Error[] = [];
  let handled = 0;
  const listener = await start({
    maxFrameBytes: 1024,
    handler: () => {
      handled++;
      return Promise.resolve(null);
    },
    onError: (error) => errors.push(error),
  });
  t.after(() => listener.close());
  const socket = await connectRaw(listener.port);
  const { closed } = collectFrames(socket);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(1_000_000_000, 0);
  socket.write(prefix); // the body never comes: the server must not wait for it
  await closed;
  assert.equal(handled, 0);
  assert.ok(errors[0] instanceof FrameSizeError);
  assert.equal(errors[0].size, 1_000_000_000);
});

test("close() stops accepting connections and closes the open ones", async () => {
  const listener = await start({ handler: echo(() => new Promise<void>(() => undefined)) });
  const socket = await connectRaw(listener.port);
  const { closed } = collectFrames(socket);
  socket.write(rawFrame(1));
  await waitFor(() => onlyConnection(listener).inFlight === 1, "a request in flight");
  await listener.close();
  await closed;
  assert.equal(listener.connections.size, 0);
  await assert.rejects(connectRaw(listener.port), /ECONNREFUSED/);
});

test("onConnection sees each accepted connection with its peer address", async (t) => {
  const seen: ServerConnection[] = [];
  const listener = await start({ handler: echo(), onConnection: (c) => seen.push(c) });
  t.after(() => listener.close());
  const socket = await connectRaw(listener.port);
  t.after(() => socket.destroy());
  await waitFor(() => seen.length === 1, "the connection callback");
  assert.equal(seen[0]?.remoteAddress, "127.0.0.1");
  assert.equal(seen[0]?.remotePort, socket.localPort);
});
