// The client's data path against the Ferry broker: raw batches go through untouched, records
// round trip, idempotent sequences, acks=0, typed errors and bootstrap fallbacks.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { Admin } from "../../src/client/admin.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { consume, fetchRaw, type ConsumedRecord } from "../../src/client/consumer.ts";
import { PartitionError } from "../../src/client/errors.ts";
import { Producer } from "../../src/client/producer.ts";
import { ErrorCode } from "../../src/protocol/error-codes.ts";
import { CompressionCodec } from "../../src/protocol/compression/index.ts";
import { decodeBatches, encodeBatch } from "../../src/protocol/records/batch-codec.ts";
import { readBatchHeader } from "../../src/protocol/records/batch-header.ts";
import { startTestBroker, type TestBroker } from "../broker/broker-helpers.ts";

let broker: TestBroker;
let cluster: Cluster;

before(async () => {
  broker = await startTestBroker();
  cluster = new Cluster({ bootstrap: `${broker.host}:${broker.port}`, allowAutoTopicCreation: true });
});

after(async () => {
  await cluster.close();
  await broker.destroy();
});

async function readAll(topic: string): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  for await (const r of consume(cluster, topic, { untilEnd: true, maxWaitMs: 10 })) out.push(r);
  return out;
}

test("produceRaw stores a compressed batch whose payload comes back byte for byte", async () => {
  const batch = encodeBatch({
    records: [{ value: Buffer.from("one") }, { key: Buffer.from("k"), value: Buffer.from("two") }],
    compression: CompressionCodec.LZ4,
  });
  const producer = new Producer(cluster);
  const result = await producer.produceRaw("raw-lz4", 0, Buffer.from(batch));
  assert.equal(result.baseOffset, 0n);
  const [fetched] = await fetchRaw(cluster, [{ topic: "raw-lz4", partition: 0, offset: 0n }], {
    maxWaitMs: 10,
  });
  assert.ok(fetched);
  assert.equal(fetched.error, undefined);
  assert.equal(fetched.highWatermark, 2n);
  // Everything after baseOffset and partitionLeaderEpoch (the broker's to set) is unchanged.
  assert.deepEqual(fetched.records.subarray(17), batch.subarray(17));
});

test("send and consume round trip records in order", async () => {
  const producer = new Producer(cluster);
  const values = Array.from({ length: 20 }, (_, i) => `v${i}`);
  for (const chunk of [values.slice(0, 7), values.slice(7)]) {
    await producer.send(
      "round-trip",
      chunk.map((v) => ({ value: Buffer.from(v) })),
      { partition: 0 },
    );
  }
  const read = await readAll("round-trip");
  assert.deepEqual(
    read.map((r) => String(r.value)),
    values,
  );
  assert.deepEqual(
    read.map((r) => r.offset),
    values.map((_, i) => BigInt(i)),
  );
});

test("an idempotent producer stamps its producer id and consecutive sequences", async () => {
  const producer = new Producer(cluster, { idempotent: true });
  const { producerId } = await producer.producerIdentity();
  for (let i = 0; i < 3; i++) {
    await producer.send("idempotent", [{ value: Buffer.from("a") }, { value: Buffer.from("b") }], {
      partition: 0,
    });
  }
  const [fetched] = await fetchRaw(cluster, [{ topic: "idempotent", partition: 0, offset: 0n }], {
    maxWaitMs: 10,
  });
  assert.ok(fetched);
  const headers = decodeBatches(fetched.records).map((b) => b.header);
  assert.deepEqual(
    headers.map((h) => h.baseSequence),
    [0, 2, 4],
  );
  for (const h of headers) assert.equal(h.producerId, producerId);
});

test("acks=0 sends without waiting for an answer, and the records arrive", async () => {
  const producer = new Producer(cluster, { acks: 0 });
  await new Producer(cluster).send("acks0", [{ value: Buffer.from("first") }], { partition: 0 });
  const result = await producer.send("acks0", [{ value: Buffer.from("second") }], { partition: 0 });
  assert.equal(result[0]?.baseOffset, -1n);
  let read: ConsumedRecord[] = [];
  for (let i = 0; i < 50 && read.length < 2; i++) {
    read = await readAll("acks0");
    if (read.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.deepEqual(
    read.map((r) => String(r.value)),
    ["first", "second"],
  );
});

test("fetching a partition that does not exist fails with a PartitionError naming it", async () => {
  await new Producer(cluster).send("one-partition", [{ value: Buffer.from("x") }], { partition: 0 });
  const producer = new Producer(cluster);
  await assert.rejects(
    producer.produceRaw("one-partition", 7, encodeBatch({ records: [{ value: Buffer.from("x") }] })),
    (e: unknown) =>
      e instanceof PartitionError &&
      e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION &&
      e.topic === "one-partition" &&
      e.partition === 7,
  );
});

test("an out-of-range fetch offset comes back as a typed error for that partition", async () => {
  await new Producer(cluster).send("range", [{ value: Buffer.from("x") }], { partition: 0 });
  const [fetched] = await fetchRaw(cluster, [{ topic: "range", partition: 0, offset: 100n }], {
    maxWaitMs: 10,
  });
  assert.ok(fetched?.error instanceof PartitionError);
  assert.equal(fetched.error.code, ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.equal(fetched.error.topic, "range");
  assert.equal(fetched.error.partition, 0);
  assert.equal(fetched.error.broker, [...cluster.cachedMetadata.brokers.keys()][0]);
});

test("bootstrap skips an address that refuses connections", async () => {
  const other = new Cluster({ bootstrap: `127.0.0.1:1,${broker.host}:${broker.port}`, retries: 2 });
  try {
    const metadata = await other.refreshMetadata([]);
    assert.equal(metadata.brokers.size, 1);
  } finally {
    await other.close();
  }
});

test("the batch header of an idempotent produceRaw is rewritten with a valid CRC", async () => {
  const producer = new Producer(cluster, { idempotent: true });
  const batch = encodeBatch({ records: [{ value: Buffer.from("z") }], compression: CompressionCodec.GZIP });
  await producer.produceRaw("rewrite", 0, batch);
  const header = readBatchHeader(batch, 0);
  assert.equal(header.baseSequence, 0);
  assert.equal(header.producerId, (await producer.producerIdentity()).producerId);
  const [fetched] = await fetchRaw(cluster, [{ topic: "rewrite", partition: 0, offset: 0n }], {
    maxWaitMs: 10,
  });
  assert.ok(fetched);
  assert.equal(String(decodeBatches(fetched.records)[0]?.records[0]?.value), "z");
});

test("send reuses a batch's memory only once the broker acknowledged it: many concurrent sends read back intact", async () => {
  const topic = "pooled-batches";
  const partitions = 4;
  await new Admin(cluster).createTopics([{ name: topic, numPartitions: partitions, replicationFactor: 1 }]);
  const producer = new Producer(cluster);
  // Distinct 30 KiB payloads per send, so each batch is big enough to come from the pool.
  const sends = Array.from({ length: 240 }, (_, i) =>
    Array.from({ length: 30 }, (_, j) => `${i}:${j}:${randomBytes(510).toString("hex")}`),
  );
  let next = 0;
  const laneCount = 16;
  await Promise.all(
    Array.from({ length: laneCount }, async () => {
      while (next < sends.length) {
        const i = next++;
        await producer.send(
          topic,
          (sends[i] as string[]).map((v) => ({ value: Buffer.from(v) })),
          {
            partition: i % partitions,
            compression: i % 3 === 0 ? CompressionCodec.NONE : CompressionCodec.LZ4,
          },
        );
      }
    }),
  );
  const read = await readAll(topic);
  const byPartition = new Map<number, string[]>();
  for (const r of read) {
    const list = byPartition.get(r.partition) ?? [];
    list.push(String(r.value));
    byPartition.set(r.partition, list);
  }
  for (let p = 0; p < partitions; p++) {
    const want = new Set(sends.filter((_, i) => i % partitions === p).flat());
    const got = byPartition.get(p) ?? [];
    assert.equal(got.length, want.size, `partition ${p} has every record once`);
    assert.ok(
      got.every((v) => want.has(v)),
      `partition ${p} holds only the values sent to it`,
    );
  }
});
