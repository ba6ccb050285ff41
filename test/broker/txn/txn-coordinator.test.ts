// The transaction coordinator's state machine, on an in-memory store with a recording marker
// writer and a hand-moved clock: epochs and fencing, the transitions and their errors,
// markers, timeouts, restarts from the store, and the __transaction_state record layout.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import {
  TxnCoordinator,
  type TxnCoordinatorConfig,
  type TxnMarkerWriter,
} from "../../../src/broker/txn/txn-coordinator.ts";
import { canTransition, TXN_STATES, type TopicPartition } from "../../../src/broker/txn/txn-metadata.ts";
import { MemoryTxnStore, decodeTxnRecord, encodeTxnRecord } from "../../../src/broker/txn/txn-records.ts";

interface WrittenMarker {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  partitions: string[];
}

class RecordingMarkers implements TxnMarkerWriter {
  readonly written: WrittenMarker[] = [];
  failures = 0;

  writeMarkers(m: {
    producerId: number;
    producerEpoch: number;
    commit: boolean;
    partitions: readonly TopicPartition[];
  }): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error("partition offline"));
    }
    this.written.push({
      producerId: m.producerId,
      producerEpoch: m.producerEpoch,
      commit: m.commit,
      partitions: m.partitions.map((p) => `${p.topic}-${p.partition}`).sort(),
    });
    return Promise.resolve();
  }
}

interface Harness {
  txns: TxnCoordinator;
  store: MemoryTxnStore;
  markers: RecordingMarkers;
  clock: { t: number };
  restart(): Promise<TxnCoordinator>;
}

async function harness(
  config: Partial<TxnCoordinatorConfig> = {},
  store = new MemoryTxnStore(),
): Promise<Harness> {
  const markers = new RecordingMarkers();
  const clock = { t: 1_000_000 };
  let nextPid = 100;
  const make = async (): Promise<TxnCoordinator> => {
    const c = new TxnCoordinator({
      store,
      markers,
      allocateProducerId: () => Promise.resolve(nextPid++),
      offsetsPartitionFor: () => ({ topic: "__consumer_offsets", partition: 0 }),
      config: { markerRetryBackoffMs: 10, ...config },
      now: () => clock.t,
      timers: false,
    });
    await c.start();
    return c;
  };
  const txns = await make();
  return { txns, store, markers, clock, restart: make };
}

const T1: TopicPartition = { topic: "t", partition: 1 };
const T2: TopicPartition = { topic: "t", partition: 2 };

test("the state machine allows Kafka's transitions and no others", () => {
  assert.ok(canTransition("Empty", "Ongoing"));
  assert.ok(canTransition("Ongoing", "PrepareCommit"));
  assert.ok(canTransition("PrepareCommit", "CompleteCommit"));
  assert.ok(canTransition("PrepareEpochFence", "PrepareAbort"));
  assert.ok(canTransition("CompleteAbort", "Empty"));
  assert.ok(!canTransition("Empty", "PrepareCommit"));
  assert.ok(!canTransition("PrepareCommit", "PrepareAbort"));
  assert.ok(!canTransition("Ongoing", "CompleteCommit"));
  assert.ok(!canTransition("Dead", "Empty"));
  assert.equal(TXN_STATES.length, 8);
});

test("a new transactional id gets a producer id at epoch 0; each InitProducerId bumps the epoch", async () => {
  const { txns } = await harness();
  const a = await txns.initProducerId("tx", 60_000, null);
  assert.deepEqual(a, { errorCode: 0, producerId: 100, producerEpoch: 0 });
  const b = await txns.initProducerId("tx", 60_000, null);
  assert.deepEqual(b, { errorCode: 0, producerId: 100, producerEpoch: 1 });
  assert.equal(txns.transaction("tx")?.state, "Empty");
});

test("InitProducerId refuses an empty id and timeouts outside (0, transaction.max.timeout.ms]", async () => {
  const { txns } = await harness({ maxTimeoutMs: 1000 });
  assert.equal((await txns.initProducerId("", 100, null)).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal(
    (await txns.initProducerId("tx", 1001, null)).errorCode,
    ErrorCode.INVALID_TRANSACTION_TIMEOUT,
  );
  assert.equal((await txns.initProducerId("tx", 0, null)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
  assert.equal((await txns.initProducerId("tx", 1000, null)).errorCode, ErrorCode.NONE);
});

test("a commit writes COMMIT markers to every partition of the transaction and ends CompleteCommit", async () => {
  const { txns, markers } = await harness();
  const { producerId: pid, producerEpoch: epoch } = await txns.initProducerId("tx", 60_000, null);
  assert.equal(await txns.addPartitions("tx", pid, epoch, [T1]), ErrorCode.NONE);
  assert.equal(txns.transaction("tx")?.state, "Ongoing");
  assert.equal(await txns.addPartitions("tx", pid, epoch, [T1, T2]), ErrorCode.NONE);
  assert.equal(await txns.addOffsets("tx", pid, epoch, "group"), ErrorCode.NONE);
  assert.equal(txns.verifyPartition("tx", pid, epoch, "t", 2), ErrorCode.NONE);
  assert.equal(txns.verifyPartition("tx", pid, epoch, "t", 3), ErrorCode.INVALID_TXN_STATE);
  assert.equal(txns.verifyOffsetCommit("tx", pid, epoch, "group"), ErrorCode.NONE);
  assert.equal(await txns.endTxn("tx", pid, epoch, true), ErrorCode.NONE);
  assert.deepEqual(markers.written, [
    {
      producerId: pid,
      producerEpoch: epoch,
      commit: true,
      partitions: ["__consumer_offsets-0", "t-1", "t-2"],
    },
  ]);
  assert.equal(txns.transaction("tx")?.state, "CompleteCommit");
  assert.equal(txns.transaction("tx")?.partitions.size, 0);
  // A retried commit succeeds; an abort now is a state error; writes are refused.
  assert.equal(await txns.endTxn("tx", pid, epoch, true), ErrorCode.NONE);
  assert.equal(await txns.endTxn("tx", pid, epoch, false), ErrorCode.INVALID_TXN_STATE);
  assert.equal(txns.verifyPartition("tx", pid, epoch, "t", 1), ErrorCode.INVALID_TXN_STATE);
});

test("EndTxn and AddPartitions check the producer id and epoch", async () => {
  const { txns } = await harness();
  const { producerId: pid, producerEpoch: epoch } = await txns.initProducerId("tx", 60_000, null);
  assert.equal(await txns.endTxn("tx", pid, epoch, false), ErrorCode.INVALID_TXN_STATE, "nothing open");
  assert.equal(await txns.addPartitions("tx", pid + 1, epoch, [T1]), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  assert.equal(await txns.addPartitions("nope", pid, epoch, [T1]), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  assert.equal(await txns.addPartitions("tx", pid, epoch + 1, [T1]), ErrorCode.PRODUCER_FENCED);
  assert.equal(txns.verifyPartition("tx", pid, epoch - 1, "t", 1), ErrorCode.PRODUCER_FENCED);
});

test("a new producer instance fences the old one: its open transaction is aborted with a bumped epoch", async () => {
  const { txns, markers } = await harness();
  const old = await txns.initProducerId("tx", 60_000, null);
  await txns.addPartitions("tx", old.producerId, old.producerEpoch, [T1]);
  const fresh = await txns.initProducerId("tx", 60_000, null);
  assert.equal(fresh.errorCode, ErrorCode.NONE);
  assert.equal(
    fresh.producerEpoch,
    old.producerEpoch + 2,
    "one bump to fence and abort, one for the new instance",
  );
  assert.deepEqual(markers.written, [
    { producerId: old.producerId, producerEpoch: old.producerEpoch + 1, commit: false, partitions: ["t-1"] },
  ]);
  assert.equal(await txns.endTxn("tx", old.producerId, old.producerEpoch, true), ErrorCode.PRODUCER_FENCED);
  assert.equal(
    txns.verifyPartition("tx", old.producerId, old.producerEpoch, "t", 1),
    ErrorCode.PRODUCER_FENCED,
  );
  // The zombie cannot take the id back by presenting its old epoch (KIP-360).
  const back = await txns.initProducerId("tx", 60_000, {
    producerId: old.producerId,
    producerEpoch: old.producerEpoch,
  });
  assert.equal(back.errorCode, ErrorCode.PRODUCER_FENCED);
  // The live producer retrying with its current epoch gets the next one.
  const retry = await txns.initProducerId("tx", 60_000, {
    producerId: fresh.producerId,
    producerEpoch: fresh.producerEpoch,
  });
  assert.equal(retry.producerEpoch, fresh.producerEpoch + 1);
});

test("a transaction older than its timeout is aborted with an epoch bump that fences its producer", async () => {
  const { txns, markers, clock } = await harness();
  const p = await txns.initProducerId("tx", 5_000, null);
  await txns.addPartitions("tx", p.producerId, p.producerEpoch, [T1]);
  clock.t += 4_000;
  assert.equal(await txns.abortTimedOut(), 0);
  clock.t += 2_000;
  assert.equal(await txns.abortTimedOut(), 1);
  assert.equal(txns.transaction("tx")?.state, "CompleteAbort");
  assert.deepEqual(markers.written, [
    { producerId: p.producerId, producerEpoch: p.producerEpoch + 1, commit: false, partitions: ["t-1"] },
  ]);
  assert.equal(await txns.endTxn("tx", p.producerId, p.producerEpoch, true), ErrorCode.PRODUCER_FENCED);
});

test("markers that fail are retried; the transaction stays PrepareCommit until they are written", async () => {
  const { txns, markers } = await harness();
  const p = await txns.initProducerId("tx", 60_000, null);
  await txns.addPartitions("tx", p.producerId, p.producerEpoch, [T1]);
  markers.failures = 2;
  assert.equal(await txns.endTxn("tx", p.producerId, p.producerEpoch, true), ErrorCode.NONE);
  assert.equal(txns.transaction("tx")?.state, "PrepareCommit");
  assert.equal(
    await txns.addPartitions("tx", p.producerId, p.producerEpoch, [T2]),
    ErrorCode.CONCURRENT_TRANSACTIONS,
  );
  assert.equal(
    await txns.endTxn("tx", p.producerId, p.producerEpoch, true),
    ErrorCode.CONCURRENT_TRANSACTIONS,
  );
  for (let i = 0; i < 50 && txns.transaction("tx")?.state !== "CompleteCommit"; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(txns.transaction("tx")?.state, "CompleteCommit");
  assert.equal(markers.written.length, 1);
  await txns.close();
});

test("a restart restores every id; PrepareCommit is completed and Ongoing resumes its timeout", async () => {
  const h = await harness();
  const a = await h.txns.initProducerId("a", 5_000, null);
  await h.txns.addPartitions("a", a.producerId, a.producerEpoch, [T1]);
  const b = await h.txns.initProducerId("b", 60_000, null);
  await h.txns.addPartitions("b", b.producerId, b.producerEpoch, [T2]);
  // The broker stopped after writing b's decision but before its markers.
  h.store.records.push(
    encodeTxnRecord("b", {
      producerId: b.producerId,
      producerEpoch: b.producerEpoch,
      lastProducerId: -1,
      lastProducerEpoch: -1,
      timeoutMs: 60_000,
      state: "PrepareCommit",
      partitions: [T2],
      lastUpdateTimestamp: h.clock.t,
      startTimestamp: h.clock.t,
    }),
  );
  await h.txns.close();
  const restarted = await h.restart();
  for (let i = 0; i < 50 && restarted.transaction("b")?.state !== "CompleteCommit"; i++)
    await new Promise((r) => setTimeout(r, 5));
  assert.equal(restarted.transaction("b")?.state, "CompleteCommit");
  assert.deepEqual(h.markers.written, [
    { producerId: b.producerId, producerEpoch: b.producerEpoch, commit: true, partitions: ["t-2"] },
  ]);
  const ongoing = restarted.transaction("a");
  assert.equal(ongoing?.state, "Ongoing");
  assert.deepEqual(ongoing?.partitionList(), [T1]);
  h.clock.t += 6_000;
  assert.equal(await restarted.abortTimedOut(), 1);
  assert.equal(restarted.transaction("a")?.state, "CompleteAbort");
  // The epoch survives too: the next InitProducerId continues from it.
  const again = await restarted.initProducerId("b", 60_000, null);
  assert.equal(again.producerEpoch, b.producerEpoch + 1);
  await restarted.close();
});

test("an exhausted epoch moves the transactional id to a new producer id", async () => {
  const store = new MemoryTxnStore();
  store.records.push(
    encodeTxnRecord("tx", {
      producerId: 7,
      producerEpoch: 32766,
      lastProducerId: -1,
      lastProducerEpoch: -1,
      timeoutMs: 60_000,
      state: "CompleteCommit",
      partitions: [],
      lastUpdateTimestamp: 0,
      startTimestamp: -1,
    }),
  );
  const { txns } = await harness({}, store);
  const r = await txns.initProducerId("tx", 60_000, null);
  assert.deepEqual(r, { errorCode: 0, producerId: 100, producerEpoch: 0 });
});

test("DescribeTransactions and ListTransactions report ids, states and partitions", async () => {
  const { txns, clock } = await harness();
  const a = await txns.initProducerId("a", 60_000, null);
  await txns.addPartitions("a", a.producerId, a.producerEpoch, [T1, T2]);
  await txns.initProducerId("b", 30_000, null);
  const [da, missing] = txns.describe(["a", "zzz"]);
  assert.equal(da?.state, "Ongoing");
  assert.equal(da?.timeoutMs, 60_000);
  assert.equal(da?.startTimestamp, clock.t);
  assert.deepEqual(da?.partitions, [T1, T2]);
  assert.equal(missing?.errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  const all = txns.list([], [], -1);
  assert.deepEqual(all.transactions.map((t) => t.transactionalId).sort(), ["a", "b"]);
  const ongoing = txns.list(["Ongoing", "Bogus"], [], -1);
  assert.deepEqual(
    ongoing.transactions.map((t) => t.transactionalId),
    ["a"],
  );
  assert.deepEqual(ongoing.unknownStateFilters, ["Bogus"]);
  assert.deepEqual(
    txns.list([], [a.producerId], -1).transactions.map((t) => t.transactionalId),
    ["a"],
  );
  clock.t += 1000;
  assert.deepEqual(
    txns.list([], [], 500).transactions.map((t) => t.transactionalId),
    ["a"],
  );
  assert.deepEqual(txns.list([], [], 5000).transactions, []);
});

test("idle transactional ids expire after transactional.id.expiration.ms with a tombstone", async () => {
  const h = await harness({ idExpirationMs: 10_000 });
  const { txns, clock, store } = h;
  await txns.initProducerId("idle", 60_000, null);
  const busy = await txns.initProducerId("busy", 60_000, null);
  await txns.addPartitions("busy", busy.producerId, busy.producerEpoch, [T1]);
  clock.t += 20_000;
  assert.equal(await txns.expireTransactionalIds(), 1);
  assert.equal(txns.transaction("idle"), undefined);
  assert.equal(store.records.at(-1)?.value, null);
  const again = await h.restart();
  assert.equal(again.transaction("idle"), undefined);
  assert.equal(again.transaction("busy")?.state, "Ongoing");
});

test("__transaction_state records use Kafka's TransactionLogKey/Value v0 layout", () => {
  const rec = encodeTxnRecord("tx", {
    producerId: 5,
    producerEpoch: 2,
    lastProducerId: -1,
    lastProducerEpoch: -1,
    timeoutMs: 60_000,
    state: "Ongoing",
    partitions: [T1, T2],
    lastUpdateTimestamp: 1000,
    startTimestamp: 900,
  });
  assert.equal(rec.key.toString("hex"), "0000" + "0002" + Buffer.from("tx").toString("hex"));
  const v = rec.value ?? Buffer.alloc(0);
  const expected = Buffer.concat([
    Buffer.from([0, 0]), // version
    Buffer.from("0000000000000005", "hex"), // producer id
    Buffer.from([0, 2]), // epoch
    Buffer.from("0000ea60", "hex"), // timeout 60000
    Buffer.from([1]), // Ongoing
    Buffer.from("00000001" + "0001" + "74" + "00000002" + "00000001" + "00000002", "hex"),
    Buffer.from("00000000000003e8", "hex"),
    Buffer.from("0000000000000384", "hex"),
  ]);
  assert.equal(v.toString("hex"), expected.toString("hex"));
  const back = decodeTxnRecord(rec);
  assert.equal(back.transactionalId, "tx");
  assert.equal(back.value?.state, "Ongoing");
  assert.deepEqual(back.value?.partitions, [T1, T2]);
});
