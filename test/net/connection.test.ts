// The client connection against real sockets: a fake broker built on src/net/server.ts, a
// broker in a child process that gets killed, and bare sockets that misbehave on purpose.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import type { Server } from "node:net";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { connectTcp, openConnection } from "../../src/net/connection.ts";
import type { Connection, OpenConnectionOptions } from "../../src/net/connection.ts";
import { ConnectionError, FrameSizeError, RequestTimeoutError } from "../../src/net/errors.ts";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { UnsupportedVersionError } from "../../src/protocol/errors.ts";
import { decodeRequest, peekRequestHeader } from "../../src/protocol/messages.ts";
import { listen } from "../../src/net/server.ts";
import type { Listener } from "../../src/net/server.ts";
import { FAKE_CLUSTER_ID, FAKE_TOPIC, fakeBrokerHandler, startFakeBroker } from "./fake-broker.ts";
import { closedPort, rawResponse, waitFor } from "./wire.ts";

const METADATA_VERSION = 12;

/** The topic names a Metadata request asked for (the fake broker echoes them). */
function requestedTopic(payload: Buffer): string | undefined {
  const { body } = decodeRequest(payload);
  const topics = (body as { topics: Array<{ name: string | null }> | null }).topics;
  return topics?.[0]?.name ?? undefined;
}

function metadataFor(topic: string): { topics: Array<{ name: string }> } {
  return { topics: [{ name: topic }] };
}

async function open(
  listener: { port: number },
  options: Partial<OpenConnectionOptions> = {},
): Promise<Connection> {
  return openConnection({ host: "127.0.0.1", port: listener.port, ...options });
}

async function brokerWithCleanup(
  t: { after: (fn: () => Promise<void>) => void },
  ...args: Parameters<typeof startFakeBroker>
): Promise<Listener> {
  const listener = await startFakeBroker(...args);
  t.after(() => listener.close());
  return listener;
}

test("a request round-trips over TCP and resolves with the decoded response body", async (t) => {
  const broker = await brokerWithCleanup(t);
  const connection = await open(broker);
  t.after(() => connection.close());
  const versions = await connection.send(ApiKey.ApiVersions, 3, {
    clientSoftwareName: "ferry-test",
    clientSoftwareVersion: "0",
  });
  assert.equal(versions.errorCode, 0);
  assert.deepEqual(
    versions.apiKeys.map((k) => k.apiKey),
    [ApiKey.ApiVersions, ApiKey.Metadata],
  );
  const metadata = await connection.send(ApiKey.Metadata, METADATA_VERSION, { topics: null });
  assert.equal(metadata.clusterId, FAKE_CLUSTER_ID);
  assert.deepEqual(metadata.brokers[0], { nodeId: 1, host: "127.0.0.1", port: broker.port, rack: null });
  assert.equal(metadata.topics[0]?.name, FAKE_TOPIC);
});

/** A fake broker whose handler records how many requests run at once and the order they finish. */
async function recordingBroker(
  t: { after: (fn: () => Promise<void>) => void },
  delayMs: () => number,
  maxInFlightPerConnection?: number,
): Promise<{ listener: Listener; finished: string[]; maxRunning: () => number }> {
  const inner = fakeBrokerHandler({ advertised: { host: "127.0.0.1", port: 0 }, delayMs });
  const finished: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const listener = await listen({
    host: "127.0.0.1",
    port: 0,
    maxInFlightPerConnection,
    handler: async (payload, conn) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      const response = await inner(payload, conn);
      running--;
      finished.push(requestedTopic(payload) ?? "");
      return response;
    },
  });
  t.after(() => listener.close());
  return { listener, finished, maxRunning: () => maxRunning };
}

test("100 pipelined requests each get their own response though the handler finishes them out of order", async (t) => {
  const broker = await recordingBroker(t, () => Math.floor(Math.random() * 15), 1000);
  const connection = await open(broker.listener, { maxInFlight: 100 });
  t.after(() => connection.close());
  const names = Array.from({ length: 100 }, (_, i) => `topic-${i}`);
  const sends = names.map((name) => connection.send(ApiKey.Metadata, METADATA_VERSION, metadataFor(name)));
  assert.equal(connection.inFlightCount, 100, "all 100 should be on the wire at once");
  const responses = await Promise.all(sends);
  assert.deepEqual(
    responses.map((response) => response.topics[0]?.name),
    names,
  );
  // Only meaningful if the server really finished them out of order.
  assert.notDeepEqual(broker.finished, names, "the random delays should have reordered completions");
});

test("no more than maxInFlight requests are outstanding; further sends queue", async (t) => {
  const broker = await recordingBroker(t, () => 5);
  const connection = await open(broker.listener, { maxInFlight: 5 });
  t.after(() => connection.close());
  const sends = Array.from({ length: 20 }, (_, i) =>
    connection.send(ApiKey.Metadata, METADATA_VERSION, metadataFor(`t${i}`)),
  );
  assert.equal(connection.inFlightCount, 5);
  assert.equal(connection.queuedCount, 15);
  await Promise.all(sends);
  assert.equal(broker.maxRunning(), 5);
  assert.equal(connection.inFlightCount + connection.queuedCount, 0);
});

test("a timed-out request fails with RequestTimeoutError and closes the connection, failing the rest", async (t) => {
  const broker = await brokerWithCleanup(t, {
    hold: (apiKey, payload) => apiKey === ApiKey.Metadata && requestedTopic(payload) === "stuck",
  });
  const closes: Array<ConnectionError | undefined> = [];
  const connection = await open(broker, { onClose: (e) => closes.push(e) });
  const stuck = connection.send(ApiKey.Metadata, METADATA_VERSION, metadataFor("stuck"), { timeoutMs: 100 });
  const behind = connection.send(ApiKey.Metadata, METADATA_VERSION, metadataFor("fine"));
  const queued = connection.send(ApiKey.Metadata, METADATA_VERSION, metadataFor("fine"));

  await assert.rejects(stuck, (e: unknown) => e instanceof RequestTimeoutError && e.timeoutMs === 100);
  await assert.rejects(behind, ConnectionError);
  await assert.rejects(queued, ConnectionError);
  assert.equal(connection.closed, true);
  assert.equal(closes.length, 1);
  assert.ok(closes[0] instanceof ConnectionError);
  assert.ok(closes[0].cause instanceof RequestTimeoutError);
  await assert.rejects(connection.send(ApiKey.ApiVersions, 0, {}), ConnectionError);
  await waitFor(() => broker.connections.size === 0, "the server to see the connection close");
});

test("a request that times out while still queued fails alone and the connection stays usable", async (t) => {
  const broker = await brokerWithCleanup(t, { delayMs: () => 300 });
  const connection = await open(broker, { maxInFlight: 1 });
  t.after(() => connection.close());
  const slow = connection.send(ApiKey.Metadata, METADATA_VERSION, metadataFor("slow"));
  const impatient = connection.send(ApiKey.Metadata, METADATA_VERSION, metadataFor("impatient"), {
    timeoutMs: 50,
  });
  await assert.rejects(impatient, RequestTimeoutError);
  assert.equal(connection.closed, false);
  assert.equal((await slow).topics[0]?.name, "slow");
  const after = await connection.send(ApiKey.Metadata, METADATA_VERSION, metadataFor("after"));
  assert.equal(after.topics[0]?.name, "after");
});

test("killing the server process fails the pending requests with ConnectionError", async (t) => {
  const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures", "stalling-broker.ts")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.after(() => child.kill("SIGKILL"));
  const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
  const port = Number(line);
  const closes: Array<ConnectionError | undefined> = [];
  const connection = await open({ port }, { onClose: (e) => closes.push(e) });

  assert.equal((await connection.send(ApiKey.ApiVersions, 3, {})).errorCode, 0);
  const pending = [1, 2, 3].map((i) =>
    connection.send(ApiKey.Metadata, METADATA_VERSION, metadataFor(`t${i}`)),
  );
  await waitFor(() => connection.inFlightCount === 3, "three requests on the wire");
  child.kill("SIGKILL");
  for (const request of pending) await assert.rejects(request, ConnectionError);
  assert.equal(closes.length, 1);
  assert.ok(closes[0] instanceof ConnectionError);
});

test("close() fails pending requests with ConnectionError and resolves once the socket is closed", async (t) => {
  const broker = await brokerWithCleanup(t, { hold: (apiKey) => apiKey === ApiKey.Metadata });
  const closes: Array<ConnectionError | undefined> = [];
  const connection = await open(broker, { maxInFlight: 1, onClose: (e) => closes.push(e) });
  const inFlight = assert.rejects(
    connection.send(ApiKey.Metadata, METADATA_VERSION, metadataFor("a")),
    (e: unknown) => e instanceof ConnectionError && /closed by the client/.test(e.message),
  );
  const queued = assert.rejects(
    connection.send(ApiKey.Metadata, METADATA_VERSION, metadataFor("b")),
    ConnectionError,
  );
  await waitFor(() => connection.inFlightCount === 1 && broker.connections.size === 1, "a request in flight");
  await connection.close();
  await inFlight;
  await queued;
  assert.deepEqual(closes, [undefined]);
  await waitFor(() => broker.connections.size === 0, "the server to see the connection close");
});

test("a request without a response resolves once written and keeps the stream in step", async (t) => {
  const seen: number[] = [];
  const inner = fakeBrokerHandler({ advertised: { host: "127.0.0.1", port: 0 } });
  const listener = await listen({
    host: "127.0.0.1",
    port: 0,
    handler: (payload, conn) => {
      seen.push(peekRequestHeader(payload).apiKey);
      return inner(payload, conn);
    },
  });
  t.after(() => listener.close());
  const connection = await open(listener);
  t.after(() => connection.close());
  const produced = await connection.send(
    ApiKey.Produce,
    9,
    { acks: 0, timeoutMs: 1000, topicData: [] },
    { expectResponse: false },
  );
  assert.equal(produced, undefined);
  assert.equal(connection.inFlightCount, 0);
  const versions = await connection.send(ApiKey.ApiVersions, 3, {});
  assert.equal(versions.errorCode, 0);
  assert.deepEqual(seen, [ApiKey.Produce, ApiKey.ApiVersions]);
});

/** A bare server that answers every request with `reply(correlationId)`. */
async function misbehavingServer(reply: (correlationId: number) => Buffer): Promise<Server> {
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => socket.write(reply(chunk.readInt32BE(8))));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

test("a response with an unexpected correlation id is fatal to the connection", async (t) => {
  const server = await misbehavingServer((id) => rawResponse(id + 1));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const closes: Array<ConnectionError | undefined> = [];
  const connection = await open({ port: portOf(server) }, { onClose: (e) => closes.push(e) });
  await assert.rejects(
    connection.send(ApiKey.ApiVersions, 0, {}),
    (e: unknown) => e instanceof ConnectionError && /correlation id 1, expected 0/.test(e.message),
  );
  assert.equal(connection.closed, true);
  assert.equal(closes.length, 1);
});

test("a response larger than maxFrameBytes closes the connection", async (t) => {
  const broker = await brokerWithCleanup(t);
  const connection = await open(broker, { maxFrameBytes: 16 });
  await assert.rejects(
    connection.send(ApiKey.Metadata, METADATA_VERSION, { topics: null }),
    (e: unknown) => e instanceof ConnectionError && e.cause instanceof FrameSizeError,
  );
  assert.equal(connection.closed, true);
});

test("a request the codec cannot encode fails alone and the connection stays usable", async (t) => {
  const broker = await brokerWithCleanup(t);
  const connection = await open(broker);
  t.after(() => connection.close());
  await assert.rejects(connection.send(ApiKey.ApiVersions, 99, {}), UnsupportedVersionError);
  assert.equal((await connection.send(ApiKey.ApiVersions, 3, {})).errorCode, 0);
});

test("connecting to a port nobody listens on rejects with ConnectionError", async () => {
  const port = await closedPort();
  await assert.rejects(
    openConnection({ host: "127.0.0.1", port }),
    (e: unknown) => e instanceof ConnectionError && /ECONNREFUSED/.test(e.message),
  );
});

test("a connect function that never finishes is cut off by connectTimeoutMs", async () => {
  let aborted = false;
  await assert.rejects(
    openConnection({
      host: "10.255.255.1",
      port: 9092,
      connectTimeoutMs: 50,
      connect: (_target, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener("abort", () => {
            aborted = true;
            reject(new Error("aborted"));
          });
        }),
    }),
    (e: unknown) => e instanceof ConnectionError && /timed out after 50 ms/.test(e.message),
  );
  assert.equal(aborted, true);
});

test("a custom connect function supplies the socket the connection runs on", async (t) => {
  const broker = await brokerWithCleanup(t);
  const targets: string[] = [];
  const connection = await openConnection({
    host: "127.0.0.1",
    port: broker.port,
    connect: (target, signal) => {
      targets.push(`${target.host}:${target.port}`);
      return connectTcp(target, signal);
    },
  });
  t.after(() => connection.close());
  assert.deepEqual(targets, [`127.0.0.1:${broker.port}`]);
  assert.equal((await connection.send(ApiKey.ApiVersions, 3, {})).errorCode, 0);
});

test("correlation ids run in send order on one connection", async (t) => {
  const ids: number[] = [];
  const listener = await listen({
    host: "127.0.0.1",
    port: 0,
    handler: (payload) => {
      const { correlationId } = peekRequestHeader(payload);
      ids.push(correlationId);
      return Promise.resolve(rawResponseForApiVersions(correlationId));
    },
  });
  t.after(() => listener.close());
  const connection = await open(listener);
  t.after(() => connection.close());
  await Promise.all([0, 1, 2, 3].map(() => connection.send(ApiKey.ApiVersions, 0, {})));
  assert.deepEqual(ids, [0, 1, 2, 3]);
});

/** An ApiVersions v0 response with no keys: error code 0, empty array. */
function rawResponseForApiVersions(correlationId: number): Buffer {
  const frame = Buffer.alloc(4 + 4 + 2 + 4);
  frame.writeInt32BE(10, 0);
  frame.writeInt32BE(correlationId, 4);
  return frame;
}
