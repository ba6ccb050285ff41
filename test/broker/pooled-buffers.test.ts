// The broker reuses buffers: requests read straight into pooled frames (produce requests and
// mirror appends), given back once their appends are done, and fetch responses read from files
// into pooled buffers, given back once written. A buffer reused too early would put one
// request's or response's bytes into another. Several consumers reading the
// same log at once, some slowly, must each get exactly the records produced, CRCs verified.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { connect } from "node:net";
import { Admin } from "../../src/client/admin.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { consumeBatches } from "../../src/client/consumer.ts";
import { Producer } from "../../src/client/producer.ts";
import { CompressionCodec } from "../../src/protocol/compression/index.ts";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { decodeResponseAs, encodeRequest } from "../../src/protocol/messages.ts";
import { decodeBatches } from "../../src/protocol/records/batch-codec.ts";
import { FrameDecoder } from "../../src/net/frame-decoder.ts";
import { startTestBroker } from "./broker-helpers.ts";

const PARTITIONS = 4;
const BATCHES = 240;
const PER_BATCH = 50;

function digest(b: Buffer | null): string {
  return b === null ? "null" : createHash("sha1").update(b).digest("hex");
}

test("concurrent consumers of pooled fetch buffers each read exactly what was produced", async (t) => {
  // Small segments, so most reads come from files (pooled) rather than the in-memory tail.
  const broker = await startTestBroker({ "log.segment.bytes": 1 << 20 });
  t.after(() => broker.destroy());
  const cluster = new Cluster({ bootstrap: `${broker.host}:${broker.port}` });
  t.after(() => cluster.close());
  await new Admin(cluster).createTopics([{ name: "pooled", numPartitions: PARTITIONS }]);
  const expected = Array.from({ length: PARTITIONS }, (): string[] => []);
  const producer = new Producer(cluster, { acks: -1 });
  for (let b = 0; b < BATCHES; b++) {
    const partition = b % PARTITIONS;
    const values = Array.from({ length: PER_BATCH }, () => randomBytes(1000 + (b % 7) * 100));
    await producer.send(
      "pooled",
      values.map((value) => ({ value })),
      { partition, compression: b % 2 === 0 ? CompressionCodec.NONE : CompressionCodec.LZ4 },
    );
    (expected[partition] as string[]).push(...values.map(digest));
  }
  const total = BATCHES * PER_BATCH;

  const consume = async (slow: boolean, partitionMaxBytes: number): Promise<string[][]> => {
    const client = new Cluster({ bootstrap: `${broker.host}:${broker.port}` });
    const seen = Array.from({ length: PARTITIONS }, (): string[] => []);
    let n = 0;
    try {
      for await (const batch of consumeBatches(client, "pooled", {
        maxBytes: 4 << 20,
        partitionMaxBytes,
        maxWaitMs: 50,
        checkCrcs: true,
      })) {
        for (const r of batch.records) (seen[batch.partition] as string[]).push(digest(r.value));
        n += batch.records.length;
        // A slow reader keeps responses waiting in socket buffers while others are served.
        if (slow) await new Promise((resolve) => setTimeout(resolve, 2));
        if (n >= total) break;
      }
    } finally {
      await client.close();
    }
    return seen;
  };
  const results = await Promise.all([
    consume(false, 1 << 20),
    consume(true, 1 << 20),
    consume(false, 300_000),
    consume(true, 2 << 20),
  ]);
  for (const [i, seen] of results.entries()) {
    for (let p = 0; p < PARTITIONS; p++) {
      assert.equal(seen[p]?.length, expected[p]?.length, `consumer ${i} partition ${p}: record count`);
      assert.deepEqual(seen[p], expected[p], `consumer ${i} partition ${p}: record contents`);
    }
  }
});

test("produce requests from concurrent connections, read into reused buffers, land intact", async (t) => {
  // Each request's buffer goes back to the pool once its appends are done; one given back too
  // early would be overwritten by the next request while the log still writes from it. A sync
  // per append keeps each partition's writer busy, so appends queue behind one another.
  const broker = await startTestBroker({ "log.flush.interval.messages": 1 });
  t.after(() => broker.destroy());
  const bootstrap = `${broker.host}:${broker.port}`;
  const admin = new Cluster({ bootstrap });
  t.after(() => admin.close());
  await new Admin(admin).createTopics([{ name: "pooled-produce", numPartitions: PARTITIONS }]);
  const PRODUCERS = 4;
  const SENDS = 60;
  const sent = Array.from({ length: PARTITIONS }, (): string[] => []);
  await Promise.all(
    Array.from({ length: PRODUCERS }, async (_, id) => {
      const cluster = new Cluster({ bootstrap, maxInFlight: 8 });
      const producer = new Producer(cluster, { acks: id % 2 === 0 ? -1 : 1 });
      try {
        // Eight sends in flight per connection; 20-40 KiB batches (medium frames) and some of
        // 700 KB, which the log writes straight from the request's buffer once a queued group
        // of them outgrows the in-memory tail.
        let next = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (next < SENDS) {
              const b = next++;
              const partition = (id + b) % PARTITIONS;
              const count = b % 4 === 3 ? 700 : 20 + (b % 3) * 10;
              const values = Array.from({ length: count }, () => randomBytes(1000));
              await producer.send(
                "pooled-produce",
                values.map((value) => ({ value })),
                { partition, compression: b % 2 === 0 ? CompressionCodec.NONE : CompressionCodec.LZ4 },
              );
              (sent[partition] as string[]).push(...values.map(digest));
            }
          }),
        );
      } finally {
        await cluster.close();
      }
    }),
  );
  const seen = Array.from({ length: PARTITIONS }, (): string[] => []);
  const total = sent.reduce((n, list) => n + list.length, 0);
  let n = 0;
  for await (const batch of consumeBatches(admin, "pooled-produce", {
    maxWaitMs: 50,
    checkCrcs: true,
  })) {
    for (const r of batch.records) (seen[batch.partition] as string[]).push(digest(r.value));
    n += batch.records.length;
    if (n >= total) break;
  }
  for (let p = 0; p < PARTITIONS; p++) {
    // Producers interleave on a partition, so compare as sorted lists.
    assert.deepEqual([...(seen[p] as string[])].sort(), [...(sent[p] as string[])].sort(), `partition ${p}`);
  }
});

test("a fetch answer stuck behind a full socket keeps its bytes while the tail's arenas are reused", async (t) => {
  // Reads copy batches out of a log's in-memory tail, because its arenas are reused (by any
  // log) once they fall out of the cache. An answer that still pointed into an arena would
  // change under a client that has not read it yet: here one that stops reading its socket.
  const broker = await startTestBroker();
  t.after(() => broker.destroy());
  const bootstrap = `${broker.host}:${broker.port}`;
  const cluster = new Cluster({ bootstrap });
  t.after(() => cluster.close());
  const topic = "stuck-answer";
  const parts = 16;
  await new Admin(cluster).createTopics([{ name: topic, numPartitions: parts }]);
  const producer = new Producer(cluster);
  const produceRound = async (batches: number): Promise<string[][]> => {
    const digests = Array.from({ length: parts }, (): string[] => []);
    await Promise.all(
      Array.from({ length: parts }, async (_, p) => {
        for (let b = 0; b < batches; b++) {
          const values = Array.from({ length: 100 }, () => randomBytes(1000));
          await producer.send(
            topic,
            values.map((value) => ({ value })),
            { partition: p },
          );
          (digests[p] as string[]).push(...values.map(digest));
        }
      }),
    );
    return digests;
  };
  // About 900 KB per partition: all of it in each partition's current arena.
  const expected = await produceRound(9);

  const socket = connect(broker.port, broker.host);
  await once(socket, "connect");
  socket.pause(); // read nothing: the 14 MB answer fills the socket buffers and then waits
  const version = 11;
  socket.write(
    encodeRequest(
      ApiKey.Fetch,
      version,
      { correlationId: 7, clientId: "stuck" },
      {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 64 << 20,
        isolationLevel: 0,
        topics: [
          {
            topic,
            partitions: Array.from({ length: parts }, (_, p) => ({
              partition: p,
              fetchOffset: 0n,
              partitionMaxBytes: 2 << 20,
            })),
          },
        ],
      },
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  // Every partition moves on by three arenas, so the ones the answer was read from are reused.
  await produceRound(30);
  const decoder = new FrameDecoder();
  socket.on("data", (chunk: Buffer) => decoder.push(chunk));
  socket.resume();
  let frame: Buffer | undefined;
  while ((frame = decoder.next()) === undefined) await once(socket, "data");
  socket.destroy();
  const { body } = decodeResponseAs(ApiKey.Fetch, version, frame);
  const answered = body.responses[0]?.partitions ?? [];
  assert.equal(answered.length, parts);
  for (const part of answered) {
    assert.equal(part.errorCode, 0);
    const values = decodeBatches(part.records ?? Buffer.alloc(0), { verifyCrc: true }).flatMap((b) =>
      b.records.map((r) => digest(r.value)),
    );
    assert.deepEqual(values, expected[part.partitionIndex], `partition ${part.partitionIndex}`);
  }
});
