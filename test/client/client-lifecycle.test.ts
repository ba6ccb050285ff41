// The client's connections over their lifetime, against the Ferry broker: reconnecting after a
// connection breaks in the middle of pipelined sends, the socket and authentication hooks
// (where TLS and SASL plug in), timeouts, clean close; and the read side's offsets by
// timestamp and batch-wise consumption.
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { Admin, OffsetSpec } from "../../src/client/admin.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { consume, consumeBatches } from "../../src/client/consumer.ts";
import { ClientClosedError } from "../../src/client/errors.ts";
import { Producer } from "../../src/client/producer.ts";
import { connectTcp, type SocketFactory } from "../../src/net/connection.ts";
import { RequestTimeoutError } from "../../src/net/errors.ts";
import { ErrorCode } from "../../src/protocol/error-codes.ts";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { encodeBatch } from "../../src/protocol/records/batch-codec.ts";
import { startTestBroker, type TestBroker } from "../broker/broker-helpers.ts";

let broker: TestBroker;
let cluster: Cluster;
let bootstrap: string;

before(async () => {
  broker = await startTestBroker();
  bootstrap = `${broker.host}:${broker.port}`;
  cluster = new Cluster({ bootstrap, allowAutoTopicCreation: true });
});

after(async () => {
  await cluster.close();
  await broker.destroy();
});

async function readValues(c: Cluster, topic: string): Promise<string[]> {
  const out: string[] = [];
  for await (const r of consume(c, topic, { untilEnd: true, maxWaitMs: 10 })) out.push(String(r.value));
  return out;
}

/** A socket factory that destroys the first connection right after its nth Produce request. */
function breakAfterProduce(n: number): { connect: SocketFactory; opened: () => number } {
  let opened = 0;
  const connect: SocketFactory = async (target, signal) => {
    const socket = (await connectTcp(target, signal)) as Socket;
    opened++;
    if (opened > 2) return socket; // the bootstrap connection and the first broker connection
    let produced = 0;
    socket.on("data", () => undefined);
    const write = socket.write.bind(socket) as (chunk: Buffer, cb?: (e?: Error | null) => void) => boolean;
    Object.assign(socket, {
      write: (chunk: Buffer, cb?: (e?: Error | null) => void): boolean => {
        const ok = write(chunk, cb);
        if (chunk.length >= 6 && chunk.readInt16BE(4) === ApiKey.Produce && ++produced === n) {
          setImmediate(() => socket.destroy());
        }
        return ok;
      },
    });
    return socket;
  };
  return { connect, opened: () => opened };
}

test("a connection broken under pipelined idempotent sends is reopened, and every batch lands once, in order", async () => {
  const hook = breakAfterProduce(3);
  const c = new Cluster({ bootstrap, connect: hook.connect, retryBackoffMs: 10 });
  try {
    await new Admin(c).createTopics([{ name: "broken", numPartitions: 1 }]);
    const producer = new Producer(c, { idempotent: true });
    const values = Array.from({ length: 10 }, (_, i) => `v${i}`);
    const batches = Buffer.concat(values.map((v) => encodeBatch({ records: [{ value: Buffer.from(v) }] })));
    await producer.produceRaw("broken", 0, batches);
    assert.ok(hook.opened() >= 3, "a new connection was opened");
    assert.deepEqual(await readValues(c, "broken"), values);
  } finally {
    await c.close();
  }
});

test("the authenticate hook runs once per new connection, after ApiVersions and before other requests", async () => {
  const seen: { nodeId: number; metadataVersion: number }[] = [];
  const c = new Cluster({
    bootstrap,
    authenticate: ({ broker: b, versions }) => {
      seen.push({ nodeId: b.nodeId, metadataVersion: versions.version(ApiKey.Metadata) });
      return Promise.resolve();
    },
  });
  try {
    await c.refreshMetadata([]);
    await c.refreshMetadata([]);
    await new Admin(c).describeCluster();
    assert.equal(seen.length, 2, "bootstrap connection, then the broker's own");
    assert.equal(seen[0]?.nodeId, -1);
    assert.ok((seen[0]?.metadataVersion ?? -1) >= 0);
  } finally {
    await c.close();
  }
});

test("an authenticate hook that fails fails the request with its error", async () => {
  const c = new Cluster({
    bootstrap,
    retries: 0,
    authenticate: () => Promise.reject(new Error("SASL authentication failed")),
  });
  try {
    await assert.rejects(c.refreshMetadata([]), /SASL authentication failed/);
  } finally {
    await c.close();
  }
});

test("a broker that never answers fails the request with a typed timeout", async (t) => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const address = silent.address();
  assert.ok(address !== null && typeof address === "object");
  const c = new Cluster({ bootstrap: `127.0.0.1:${address.port}`, requestTimeoutMs: 200, retries: 0 });
  try {
    await assert.rejects(
      c.refreshMetadata([]),
      (e: unknown) => e instanceof RequestTimeoutError && e.code === ErrorCode.REQUEST_TIMED_OUT,
    );
  } finally {
    await c.close();
  }
});

test("close rejects requests under way and every later call with ClientClosedError", async (t) => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const address = silent.address();
  assert.ok(address !== null && typeof address === "object");
  const c = new Cluster({ bootstrap: `127.0.0.1:${address.port}` });
  const pending = c.refreshMetadata([]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await c.close();
  await assert.rejects(pending, (e: unknown) => e instanceof ClientClosedError);
  await assert.rejects(c.refreshMetadata([]), (e: unknown) => e instanceof ClientClosedError);
  await assert.rejects(new Producer(c).send("any", [{ value: null }], { partition: 0 }), ClientClosedError);
});

test("Producer.close waits for sends under way, then refuses new ones", async () => {
  const producer = new Producer(cluster);
  const sent = producer.send("closing", [{ value: Buffer.from("x") }], { partition: 0 });
  await producer.close();
  const [result] = await sent;
  assert.equal(result?.baseOffset, 0n);
  await assert.rejects(
    producer.send("closing", [{ value: Buffer.from("y") }], { partition: 0 }),
    ClientClosedError,
  );
});

test("listOffsets by timestamp finds the first record at or after it, and -1 past the last", async () => {
  const t0 = 1_700_000_000_000;
  const producer = new Producer(cluster);
  for (const d of [0, 1000, 2000]) {
    await producer.send("timed", [{ value: Buffer.from(String(d)), timestamp: t0 + d }], { partition: 0 });
  }
  const admin = new Admin(cluster);
  const [at, between, past, earliest] = await admin.listOffsets([
    { topic: "timed", partition: 0, timestamp: BigInt(t0 + 1000) },
    { topic: "timed", partition: 0, timestamp: BigInt(t0 + 1500) },
    { topic: "timed", partition: 0, timestamp: BigInt(t0 + 5000) },
    { topic: "timed", partition: 0, timestamp: OffsetSpec.EARLIEST },
  ]);
  assert.equal(at?.offset, 1n);
  assert.equal(at?.timestamp, BigInt(t0 + 1000));
  assert.equal(between?.offset, 2n);
  assert.equal(past?.offset, -1n);
  assert.equal(earliest?.offset, 0n);
});

test("consumeBatches yields decoded records per partition with the offset to continue from", async () => {
  await new Admin(cluster).createTopics([{ name: "batched", numPartitions: 2 }]);
  const producer = new Producer(cluster);
  for (const p of [0, 1]) {
    await producer.send(
      "batched",
      [0, 1, 2].map((i) => ({ value: Buffer.from(`${p}-${i}`) })),
      { partition: p },
    );
  }
  const seen = new Map<number, { values: string[]; next: bigint }>();
  for await (const b of consumeBatches(cluster, "batched", { untilEnd: true, maxWaitMs: 10, from: 1n })) {
    const entry = seen.get(b.partition) ?? { values: [], next: -1n };
    entry.values.push(...b.records.map((r) => String(r.value)));
    entry.next = b.nextOffset;
    seen.set(b.partition, entry);
  }
  assert.deepEqual(seen.get(0), { values: ["0-1", "0-2"], next: 3n });
  assert.deepEqual(seen.get(1), { values: ["1-1", "1-2"], next: 3n });
});
