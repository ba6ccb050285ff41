// readRange, which failback uses to keep a diverged tail in a side topic (and drills and the
// RPO age use to read records back): it returns committed data records only, so records of an
// aborted transaction are never kept as if a consumer had seen them.
import assert from "node:assert/strict";
import { test } from "node:test";
import kafkajs from "kafkajs";
import { Admin } from "../../src/client/admin.ts";
import { listOffsets, OffsetSpec } from "../../src/client/offsets.ts";
import { Producer } from "../../src/client/producer.ts";
import { readRange } from "../../src/control/failover-state.ts";
import { startTestBroker } from "../compat/broker-harness.ts";
import { clusterOf } from "../link/link-helpers.ts";

test(
  "readRange leaves out aborted and open transactions and control records, and reads past them",
  { timeout: 30_000 },
  async (t) => {
    const broker = await startTestBroker();
    t.after(() => broker.close());
    const cluster = clusterOf(broker.bootstrap);
    t.after(() => cluster.close());
    await new Admin(cluster).createTopics([{ name: "t", numPartitions: 1, replicationFactor: -1 }]);
    const plain = new Producer(cluster, { acks: -1 });
    const kafka = new kafkajs.Kafka({ brokers: [broker.bootstrap], logLevel: kafkajs.logLevel.NOTHING });
    const txProducer = kafka.producer({
      transactionalId: "read-range",
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await txProducer.connect();
    t.after(() => txProducer.disconnect());
    const inTransaction = async (values: string[], commit: boolean): Promise<void> => {
      const txn = await txProducer.transaction();
      await txn.send({ topic: "t", messages: values.map((value) => ({ value, partition: 0 })) });
      await (commit ? txn.commit() : txn.abort());
    };

    await plain.send("t", [{ value: Buffer.from("c0") }, { value: Buffer.from("c1") }], { partition: 0 });
    await inTransaction(["x0", "x1"], false);
    await plain.send("t", [{ value: Buffer.from("c2") }], { partition: 0 });
    await inTransaction(["y0"], true);
    const [end] = await listOffsets(cluster, [{ topic: "t", partition: 0, timestamp: OffsetSpec.LATEST }]);
    // c0 c1 | x0 x1 ABORT | c2 | y0 COMMIT
    assert.equal(end?.offset, 8n);

    const all = await readRange(cluster, "t", 0, 0, 8);
    assert.deepEqual(
      all.records.map((r) => [r.offset, r.value?.toString()]),
      [
        [0, "c0"],
        [1, "c1"],
        [5, "c2"],
        [6, "y0"],
      ],
    );
    assert.equal(all.uncommitted, 2, "x0 and x1");
    // A range that starts inside the aborted transaction and ends before its marker.
    assert.deepEqual(await readRange(cluster, "t", 0, 3, 4), { records: [], uncommitted: 1 });

    // An open transaction does not hide the committed records after it (read_committed would
    // stop at it); its own records are counted as uncommitted.
    const txn = await txProducer.transaction();
    await txn.send({ topic: "t", messages: [{ value: "open0", partition: 0 }] });
    await plain.send("t", [{ value: Buffer.from("c3") }, { value: Buffer.from("c4") }], { partition: 0 });
    const [end2] = await listOffsets(cluster, [{ topic: "t", partition: 0, timestamp: OffsetSpec.LATEST }]);
    assert.equal(end2?.offset, 11n);
    const tail = await readRange(cluster, "t", 0, 8, 11);
    assert.deepEqual(
      tail.records.map((r) => [r.offset, r.value?.toString()]),
      [
        [9, "c3"],
        [10, "c4"],
      ],
    );
    assert.equal(tail.uncommitted, 1, "open0");
    await txn.abort();
  },
);
