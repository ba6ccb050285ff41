// Fetch long polls: a fetch waiting for MinBytes is read again only once the partitions may hold
// enough (judged by the bytes appended to them), not for every small append, and it still
// answers at once when a transaction's commit makes data it was waiting for visible.
import assert from "node:assert/strict";
import { test } from "node:test";
import kafkajs from "kafkajs";
import { Admin } from "../../../src/client/admin.ts";
import { Cluster } from "../../../src/client/cluster.ts";
import { fetchRaw } from "../../../src/client/consumer.ts";
import { Producer } from "../../../src/client/producer.ts";
import type { PartitionLog } from "../../../src/broker/log/partition-log.ts";
import { startTestBroker } from "../broker-helpers.ts";

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

test("a long poll is read again once enough bytes may be there, not for every small append", async (t) => {
  const broker = await startTestBroker();
  t.after(() => broker.destroy());
  const cluster = new Cluster({ bootstrap: `${broker.host}:${broker.port}` });
  t.after(() => cluster.close());
  await new Admin(cluster).createTopics([{ name: "poll", numPartitions: 1 }]);
  const partition = broker.context.topics.partition("poll", 0);
  assert.ok(partition !== undefined);
  const counter = countReads(partition.log);
  const consumer = new Cluster({ bootstrap: `${broker.host}:${broker.port}` });
  t.after(() => consumer.close());
  const minBytes = 64 * 1024;
  let answered = false;
  const fetching = fetchRaw(consumer, [{ topic: "poll", partition: 0, offset: 0n }], {
    maxWaitMs: 20_000,
    minBytes,
  }).then((r) => {
    answered = true;
    return r;
  });
  const producer = new Producer(cluster, { acks: 1 });
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

test("a read_committed long poll answers when a commit makes the data it waits for visible", async (t) => {
  const broker = await startTestBroker();
  t.after(() => broker.destroy());
  const bootstrap = `${broker.host}:${broker.port}`;
  const cluster = new Cluster({ bootstrap });
  t.after(() => cluster.close());
  await new Admin(cluster).createTopics([{ name: "txn-poll", numPartitions: 1 }]);
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
  const fetching = fetchRaw(cluster, [{ topic: "txn-poll", partition: 0, offset: 0n }], {
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
