// Isolation levels through the client against the Ferry broker: fetchRaw reports aborted
// transactions and the last stable offset, and the convenience consumer drops aborted records
// under read_committed and keeps them under read_uncommitted.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Admin } from "../../src/client/admin.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { consume, fetchRaw, IsolationLevel } from "../../src/client/consumer.ts";
import { Producer } from "../../src/client/producer.ts";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { encodeBatch } from "../../src/protocol/records/batch-codec.ts";
import { startTestBroker, type TestBroker } from "../broker/broker-helpers.ts";

let broker: TestBroker;
let cluster: Cluster;

before(async () => {
  broker = await startTestBroker();
  cluster = new Cluster({ bootstrap: `${broker.host}:${broker.port}` });
});

after(async () => {
  await cluster.close();
  await broker.destroy();
});

/** Writes `values` in a transaction of a fresh transactional id, then commits or aborts it. */
async function transaction(topic: string, values: string[], commit: boolean | null): Promise<bigint> {
  const b = await cluster.anyBroker();
  const txnId = `txn-${topic}-${values.join("")}`;
  const init = await b.send(ApiKey.InitProducerId, () => ({
    transactionalId: txnId,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
  }));
  assert.equal(init.body.errorCode, 0);
  const { producerId, producerEpoch } = init.body;
  const add = await b.send(
    ApiKey.AddPartitionsToTxn,
    () => ({
      v3AndBelowTransactionalId: txnId,
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: topic, partitions: [0] }],
    }),
    { maxVersion: 3 }, // v4+ is the brokers' batched form
  );
  assert.equal(add.body.resultsByTopicV3AndBelow[0]?.resultsByPartition[0]?.partitionErrorCode, 0);
  const batch = encodeBatch({
    records: values.map((v) => ({ value: Buffer.from(v) })),
    producerId,
    producerEpoch,
    baseSequence: 0,
    transactional: true,
  });
  const produced = await b.send(ApiKey.Produce, () => ({
    transactionalId: txnId,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
  }));
  assert.equal(produced.body.responses[0]?.partitionResponses[0]?.errorCode, 0);
  if (commit !== null) {
    const end = await b.send(ApiKey.EndTxn, () => ({
      transactionalId: txnId,
      producerId,
      producerEpoch,
      committed: commit,
    }));
    assert.equal(end.body.errorCode, 0);
  }
  return producerId;
}

async function values(topic: string, isolationLevel: number): Promise<string[]> {
  const out: string[] = [];
  for await (const r of consume(cluster, topic, { untilEnd: true, maxWaitMs: 10, isolationLevel })) {
    out.push(String(r.value));
  }
  return out;
}

test("read_committed leaves out an aborted transaction; read_uncommitted keeps it", async () => {
  await new Admin(cluster).createTopics([{ name: "isolated", numPartitions: 1 }]);
  await new Producer(cluster).send("isolated", [{ value: Buffer.from("plain") }], { partition: 0 });
  const aborter = await transaction("isolated", ["a1", "a2"], false);
  await transaction("isolated", ["c1"], true);
  const [committed] = await fetchRaw(cluster, [{ topic: "isolated", partition: 0, offset: 0n }], {
    maxWaitMs: 10,
    isolationLevel: IsolationLevel.READ_COMMITTED,
  });
  assert.deepEqual(committed?.abortedTransactions, [{ producerId: aborter, firstOffset: 1n }]);
  assert.deepEqual(await values("isolated", IsolationLevel.READ_COMMITTED), ["plain", "c1"]);
  assert.deepEqual(await values("isolated", IsolationLevel.READ_UNCOMMITTED), ["plain", "a1", "a2", "c1"]);
});

test("an open transaction holds the last stable offset below the high watermark", async () => {
  await new Admin(cluster).createTopics([{ name: "open-txn", numPartitions: 1 }]);
  await new Producer(cluster).send("open-txn", [{ value: Buffer.from("before") }], { partition: 0 });
  await transaction("open-txn", ["pending"], null);
  const [f] = await fetchRaw(cluster, [{ topic: "open-txn", partition: 0, offset: 0n }], {
    maxWaitMs: 10,
    isolationLevel: IsolationLevel.READ_COMMITTED,
  });
  assert.equal(f?.highWatermark, 2n);
  assert.equal(f?.lastStableOffset, 1n);
  assert.deepEqual(await values("open-txn", IsolationLevel.READ_COMMITTED), ["before"]);
});
