// Fetch long polls: a fetch waiting for MinBytes is read again only once the partitions may hold
// enough (judged by the bytes appended to them, within its size limits), not for every small
// append, and it still answers at once when a commit makes data it waits for visible, when its
// topic is deleted, and when bytes arrived while it was reading.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import kafkajs from "kafkajs";
import { Admin } from "../../../src/client/admin.ts";
import { Cluster } from "../../../src/client/cluster.ts";
import { fetchRaw } from "../../../src/client/consumer.ts";
import { Producer } from "../../../src/client/producer.ts";
import type { PartitionLog } from "../../../src/broker/log/partition-log.ts";
import { startTestBroker, type TestBroker } from "../broker-helpers.ts";

/** A broker in this process with one topic, a client for producing and one for the long poll. */
async function setup(
  t: TestContext,
  topic: string,
  partitions: number,
): Promise<{ broker: TestBroker; bootstrap: string; admin: Admin; producer: Producer; consumer: Cluster }> {
  const broker = await startTestBroker();
  t.after(() => broker.destroy());
  const bootstrap = `${broker.host}:${broker.port}`;
  const cluster = new Cluster({ bootstrap });
  const consumer = new Cluster({ bootstrap });
  t.after(() => Promise.all([cluster.close(), consumer.close()]));
  const admin = new Admin(cluster);
  await admin.createTopics([{ name: topic, numPartitions: partitions }]);
  return { broker, bootstrap, admin, producer: new Producer(cluster, { acks: 1 }), consumer };
}

/** Counts the reads of a partition's log (the broker runs in this process). */
function countReads(log: PartitionLog): { reads: number } {
  const counter = { reads: 0 };
  const read = log.read.bind(log);
  log.read = (...args) => {
    counter.reads++;
    return read(...args);
  };
  return counter;
}

for (const isolationLevel of [0, 1]) {
  test(`a long poll (isolation level ${isolationLevel}) is read again once enough bytes may be there, not for every small append`, async (t) => {
    const { broker, producer, consumer } = await setup(t, "poll", 1);
    const partition = broker.context.topics.partition("poll", 0);
    assert.ok(partition !== undefined);
    const counter = countReads(partition.log);
    const minBytes = 64 * 1024;
    let answered = false;
    const fetching = fetchRaw(consumer, [{ topic: "poll", partition: 0, offset: 0n }], {
      maxWaitMs: 20_000,
      minBytes,
      isolationLevel,
    }).then((r) => {
      answered = true;
      return r;
    });
    let appends = 0;
    while (!answered && appends < 2000) {
      await producer.send("poll", [{ value: Buffer.alloc(300, appends % 256) }], { partition: 0 });
      appends++;
    }
    const [fetched] = await fetching;
    assert.ok(fetched !== undefined && fetched.error === undefined);
    assert.ok(fetched.records.length >= minBytes, `answered with ${fetched.records.length} bytes`);
    assert.ok(appends >= 150, `${appends} appends of about 370 bytes were needed`);
    // A read when the poll starts, and about one more per time the appends since could suffice.
    assert.ok(counter.reads <= 5, `${counter.reads} reads for ${appends} appends`);
  });
}

test("a read_committed long poll answers when a commit makes the data it waits for visible", async (t) => {
  const { bootstrap, consumer } = await setup(t, "txn-poll", 1);
  const kafka = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer({ transactionalId: "txn-poll", maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  t.after(() => producer.disconnect());
  const txn = await producer.transaction();
  // 100 KB appended before the fetch waits, invisible to read_committed until the commit.
  await txn.send({
    topic: "txn-poll",
    messages: Array.from({ length: 100 }, (_, i) => ({ value: Buffer.alloc(1000, i), partition: 0 })),
  });
  const started = Date.now();
  const fetching = fetchRaw(consumer, [{ topic: "txn-poll", partition: 0, offset: 0n }], {
    maxWaitMs: 15_000,
    minBytes: 50 * 1024,
    isolationLevel: 1,
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await txn.commit(); // appends a marker of a few dozen bytes
  const [fetched] = await fetching;
  const waited = Date.now() - started;
  assert.ok(fetched !== undefined && fetched.error === undefined);
  assert.ok(fetched.records.length >= 50 * 1024, `answered with ${fetched.records.length} bytes`);
  assert.ok(waited < 5000, `answered ${waited} ms after the poll began, not at its 15 s deadline`);
});

test("a long poll ends at once when its topic is deleted, even after an append that was not enough", async (t) => {
  const { admin, producer, consumer } = await setup(t, "doomed", 1);
  const started = Date.now();
  const fetching = fetchRaw(consumer, [{ topic: "doomed", partition: 0, offset: 0n }], {
    maxWaitMs: 15_000,
    minBytes: 1 << 20,
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  await producer.send("doomed", [{ value: Buffer.alloc(100) }], { partition: 0 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  await admin.deleteTopics(["doomed"]);
  const [fetched] = await fetching;
  const waited = Date.now() - started;
  assert.ok(fetched?.error !== undefined, "the answer carries an error for the deleted partition");
  assert.ok(waited < 5000, `answered ${waited} ms after the poll began, not at its 15 s deadline`);
});

test("bytes appended to a partition while the others are being read count toward MinBytes", async (t) => {
  const { broker, producer, consumer } = await setup(t, "during", 2);
  await producer.send("during", [{ value: Buffer.alloc(1000) }], { partition: 0 });
  // The first read of partition 1 is held until partition 0 (already read) has grown.
  const p1 = broker.context.topics.partition("during", 1);
  assert.ok(p1 !== undefined);
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let reads = 0;
  const read = p1.log.read.bind(p1.log);
  p1.log.read = async (...args) => {
    if (reads++ === 0) await held;
    return read(...args);
  };
  // partition 1 has no data, so its read happens only if asked from an offset with data: give it one.
  await producer.send("during", [{ value: Buffer.alloc(10) }], { partition: 1 });
  const started = Date.now();
  const fetching = fetchRaw(
    consumer,
    [
      { topic: "during", partition: 0, offset: 0n },
      { topic: "during", partition: 1, offset: 0n },
    ],
    { maxWaitMs: 15_000, minBytes: 11_000 },
  );
  while (reads === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await producer.send("during", [{ value: Buffer.alloc(9500) }], { partition: 0 });
  release();
  await new Promise((resolve) => setTimeout(resolve, 100));
  await producer.send("during", [{ value: Buffer.alloc(600) }], { partition: 0 });
  const fetched = await fetching;
  const waited = Date.now() - started;
  const bytes = fetched.reduce((n, f) => n + f.records.length, 0);
  assert.ok(bytes >= 11_000, `answered with ${bytes} bytes`);
  assert.ok(waited < 5000, `answered ${waited} ms after the poll began, not at its 15 s deadline`);
});

test("a long poll that its size limits keep below MinBytes waits out its time without reading for every append", async (t) => {
  const { broker, producer, consumer } = await setup(t, "capped", 1);
  const partition = broker.context.topics.partition("capped", 0);
  assert.ok(partition !== undefined);
  // More than the partition limit is there from the start.
  for (let i = 0; i < 200; i++) {
    await producer.send("capped", [{ value: Buffer.alloc(170, i) }], { partition: 0 });
  }
  const counter = countReads(partition.log);
  let answered = false;
  const fetching = fetchRaw(consumer, [{ topic: "capped", partition: 0, offset: 0n }], {
    maxWaitMs: 1500,
    minBytes: 30_000,
    partitionMaxBytes: 29_000,
  }).then((r) => {
    answered = true;
    return r;
  });
  let appends = 0;
  while (!answered) {
    await producer.send("capped", [{ value: Buffer.alloc(170) }], { partition: 0 });
    appends++;
  }
  const [fetched] = await fetching;
  assert.ok(fetched !== undefined && fetched.records.length <= 29_000);
  assert.ok(appends > 50, `${appends} appends during the poll`);
  assert.ok(counter.reads <= 3, `${counter.reads} reads for ${appends} appends`);
});
