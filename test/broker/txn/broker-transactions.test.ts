// Transactions through the broker's wire protocol, with Ferry's own connection: the request
// sequence a transactional client sends, what Produce refuses, read_committed fetches and
// ListOffsets, transactional offset commits, version-specific error codes, and restarts that
// find a decided-but-unmarked or an abandoned transaction.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { ApiKey } from "../../../src/protocol/generated/index.ts";
import { decodeBatches, encodeBatch } from "../../../src/protocol/records/batch-codec.ts";
import { isControl, isTransactional } from "../../../src/protocol/records/batch-header.ts";
import { TRANSACTION_STATE } from "../../../src/broker/txn-state.ts";
import { encodeTxnRecord } from "../../../src/broker/txn/txn-records.ts";
import type { Connection } from "../../../src/net/connection.ts";
import { startTestBroker, type TestBroker } from "../broker-helpers.ts";

const READ_COMMITTED = 1;

interface Producer {
  txnId: string;
  producerId: bigint;
  producerEpoch: number;
  seq: Map<string, number>;
}

async function createTopic(conn: Connection, name: string, partitions = 1): Promise<void> {
  const r = await conn.send(ApiKey.CreateTopics, 7, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1 }],
    timeoutMs: 5000,
  });
  assert.equal(r.topics[0]?.errorCode, 0);
}

async function initProducer(conn: Connection, txnId: string, timeoutMs = 60_000): Promise<Producer> {
  const r = await conn.send(ApiKey.InitProducerId, 4, {
    transactionalId: txnId,
    transactionTimeoutMs: timeoutMs,
    producerId: -1n,
    producerEpoch: -1,
  });
  assert.equal(r.errorCode, 0);
  return { txnId, producerId: r.producerId, producerEpoch: r.producerEpoch, seq: new Map() };
}

async function addPartitions(
  conn: Connection,
  p: Producer,
  topic: string,
  partitions: number[],
): Promise<number[]> {
  const r = await conn.send(ApiKey.AddPartitionsToTxn, 3, {
    v3AndBelowTransactionalId: p.txnId,
    v3AndBelowProducerId: p.producerId,
    v3AndBelowProducerEpoch: p.producerEpoch,
    v3AndBelowTopics: [{ name: topic, partitions }],
  });
  return (r.resultsByTopicV3AndBelow[0]?.resultsByPartition ?? []).map((x) => x.partitionErrorCode);
}

async function produce(
  conn: Connection,
  p: Producer | null,
  topic: string,
  values: string[],
  opts: { partition?: number; transactionalId?: string | null; epoch?: number } = {},
): Promise<{ errorCode: number; baseOffset: bigint }> {
  const partition = opts.partition ?? 0;
  const key = `${topic}-${partition}`;
  const seq = p?.seq.get(key) ?? 0;
  const batch = encodeBatch({
    records: values.map((v) => ({ value: Buffer.from(v) })),
    ...(p === null
      ? {}
      : {
          producerId: p.producerId,
          producerEpoch: opts.epoch ?? p.producerEpoch,
          baseSequence: seq,
          transactional: true,
        }),
  });
  const r = await conn.send(ApiKey.Produce, 9, {
    transactionalId: opts.transactionalId !== undefined ? opts.transactionalId : (p?.txnId ?? null),
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  });
  const res = r.responses[0]?.partitionResponses[0];
  if (p !== null && res?.errorCode === 0) p.seq.set(key, seq + values.length);
  return { errorCode: res?.errorCode ?? -1, baseOffset: res?.baseOffset ?? -1n };
}

async function endTxn(
  conn: Connection,
  p: Producer,
  commit: boolean,
  version = 3,
  epoch?: number,
): Promise<number> {
  const r = await conn.send(ApiKey.EndTxn, version, {
    transactionalId: p.txnId,
    producerId: p.producerId,
    producerEpoch: epoch ?? p.producerEpoch,
    committed: commit,
  });
  return r.errorCode;
}

interface FetchResult {
  values: string[];
  highWatermark: bigint;
  lastStableOffset: bigint;
  aborted: { producerId: bigint; firstOffset: bigint }[] | null;
}

async function fetchAll(
  conn: Connection,
  topic: string,
  isolationLevel: number,
  partition = 0,
): Promise<FetchResult> {
  const f = await conn.send(ApiKey.Fetch, 11, {
    maxWaitMs: 0,
    maxBytes: 1 << 20,
    isolationLevel,
    topics: [{ topic, partitions: [{ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
  });
  const p = f.responses[0]?.partitions[0];
  assert.equal(p?.errorCode, 0);
  // What a read_committed consumer keeps: producers enter the aborted set at their first
  // offset and leave it at their ABORT marker; their transactional batches in between are dropped.
  const pending = [...(p.abortedTransactions ?? [])].sort((a, b) => Number(a.firstOffset - b.firstOffset));
  const aborting = new Set<bigint>();
  const values: string[] = [];
  for (const b of decodeBatches(p.records ?? Buffer.alloc(0))) {
    while (pending.length > 0 && (pending[0]?.firstOffset ?? 0n) <= b.header.baseOffset) {
      aborting.add(pending.shift()?.producerId ?? -1n);
    }
    if (isControl(b.header.attributes)) {
      aborting.delete(b.header.producerId);
      continue;
    }
    if (isTransactional(b.header.attributes) && aborting.has(b.header.producerId)) continue;
    for (const r of b.records) values.push(r.value?.toString() ?? "");
  }
  return {
    values,
    highWatermark: p.highWatermark,
    lastStableOffset: p.lastStableOffset,
    aborted: p.abortedTransactions,
  };
}

async function latest(conn: Connection, topic: string, isolationLevel: number): Promise<bigint> {
  const r = await conn.send(ApiKey.ListOffsets, 5, {
    replicaId: -1,
    isolationLevel,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
  });
  return r.topics[0]?.partitions[0]?.offset ?? -99n;
}

async function withBroker(
  fn: (b: TestBroker, conn: Connection) => Promise<void>,
  settings: Record<string, number> = {},
): Promise<void> {
  const b = await startTestBroker(settings);
  const conn = await b.connect();
  try {
    await fn(b, conn);
  } finally {
    await conn.close();
    await b.destroy();
  }
}

test("FindCoordinator answers for transactional ids with this broker", async () => {
  await withBroker(async (b, conn) => {
    const r = await conn.send(ApiKey.FindCoordinator, 4, { keyType: 1, coordinatorKeys: ["tx"] });
    assert.equal(r.coordinators[0]?.errorCode, 0);
    assert.equal(r.coordinators[0]?.port, b.port);
  });
});

test("read_committed sees a transaction's records only after its commit, and never an aborted one's", async () => {
  await withBroker(async (_b, conn) => {
    await createTopic(conn, "t");
    const p = await initProducer(conn, "tx-1");
    assert.deepEqual(await addPartitions(conn, p, "t", [0]), [0]);
    assert.equal((await produce(conn, p, "t", ["c0", "c1"])).errorCode, 0);
    let rc = await fetchAll(conn, "t", READ_COMMITTED);
    assert.deepEqual(rc.values, [], "nothing is stable yet");
    assert.equal(rc.lastStableOffset, 0n);
    assert.equal(rc.highWatermark, 2n);
    assert.equal(await latest(conn, "t", READ_COMMITTED), 0n);
    assert.equal(await latest(conn, "t", 0), 2n);
    assert.equal(await endTxn(conn, p, true), 0);
    rc = await fetchAll(conn, "t", READ_COMMITTED);
    assert.deepEqual(rc.values, ["c0", "c1"]);
    assert.deepEqual(rc.aborted, []);
    assert.equal(rc.lastStableOffset, 3n, "after the COMMIT marker at offset 2");

    assert.deepEqual(await addPartitions(conn, p, "t", [0]), [0]);
    await produce(conn, p, "t", ["a0"]); // offset 3
    assert.equal(await endTxn(conn, p, false), 0); // marker at 4
    rc = await fetchAll(conn, "t", READ_COMMITTED);
    assert.deepEqual(rc.aborted, [{ producerId: p.producerId, firstOffset: 3n }]);
    assert.equal(await latest(conn, "t", READ_COMMITTED), 5n);
    const ru = await fetchAll(conn, "t", 0);
    assert.deepEqual(ru.values, ["c0", "c1", "a0"]);
    assert.equal(ru.aborted, null, "read_uncommitted gets no aborted list");
  });
});

test("Produce refuses transactional batches outside the producer's open transaction", async () => {
  await withBroker(async (_b, conn) => {
    await createTopic(conn, "t", 2);
    const p = await initProducer(conn, "tx-2");
    assert.equal((await produce(conn, p, "t", ["x"])).errorCode, ErrorCode.INVALID_TXN_STATE, "not added");
    assert.deepEqual(await addPartitions(conn, p, "t", [0]), [0]);
    assert.equal(
      (await produce(conn, p, "t", ["x"], { partition: 1 })).errorCode,
      ErrorCode.INVALID_TXN_STATE,
      "another partition",
    );
    assert.equal(
      (await produce(conn, p, "t", ["x"], { transactionalId: null })).errorCode,
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    );
    assert.equal(
      (await produce(conn, p, "t", ["x"], { epoch: p.producerEpoch - 1 })).errorCode,
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    assert.equal((await produce(conn, p, "t", ["ok"])).errorCode, 0);
    const adds = await addPartitions(conn, p, "nope", [0]);
    assert.deepEqual(adds, [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    assert.equal(
      (await produce(conn, null, TRANSACTION_STATE, ["x"])).errorCode,
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      "the transaction log is the broker's",
    );
  });
});

test("a fenced producer gets PRODUCER_FENCED from EndTxn v2+ and INVALID_PRODUCER_EPOCH before", async () => {
  await withBroker(async (_b, conn) => {
    await createTopic(conn, "t");
    const old = await initProducer(conn, "tx-3");
    await addPartitions(conn, old, "t", [0]);
    await produce(conn, old, "t", ["zombie"]);
    const fresh = await initProducer(conn, "tx-3");
    assert.equal(fresh.producerEpoch, old.producerEpoch + 2);
    assert.equal(await endTxn(conn, old, true, 3), ErrorCode.PRODUCER_FENCED);
    assert.equal(await endTxn(conn, old, true, 1), ErrorCode.INVALID_PRODUCER_EPOCH);
    const rc = await fetchAll(conn, "t", READ_COMMITTED);
    assert.deepEqual(rc.values, [], "the zombie's record was aborted");
    assert.deepEqual(rc.aborted, [{ producerId: old.producerId, firstOffset: 0n }]);
    const v2 = await conn.send(ApiKey.InitProducerId, 2, {
      transactionalId: "tx-3",
      transactionTimeoutMs: 999_999_999,
    });
    assert.equal(v2.errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
  });
});

test("AddPartitionsToTxn v4 verifies partitions of several transactions without adding them", async () => {
  await withBroker(async (_b, conn) => {
    await createTopic(conn, "t", 2);
    const p = await initProducer(conn, "tx-4");
    await addPartitions(conn, p, "t", [0]);
    const r = await conn.send(ApiKey.AddPartitionsToTxn, 4, {
      transactions: [
        {
          transactionalId: "tx-4",
          producerId: p.producerId,
          producerEpoch: p.producerEpoch,
          verifyOnly: true,
          topics: [{ name: "t", partitions: [0, 1] }],
        },
      ],
    });
    assert.equal(r.errorCode, 0);
    assert.deepEqual(
      r.resultsByTransaction[0]?.topicResults[0]?.resultsByPartition.map((x) => x.partitionErrorCode),
      [0, ErrorCode.INVALID_TXN_STATE],
    );
  });
});

test("transactional offset commits take effect at the commit, not at an abort, and survive a restart", async () => {
  const b = await startTestBroker();
  let conn = await b.connect();
  const dataDir = b.dataDir;
  try {
    await createTopic(conn, "in");
    const p = await initProducer(conn, "tx-5");
    const commitOffsets = async (offset: bigint): Promise<number | undefined> => {
      assert.equal(
        (
          await conn.send(ApiKey.AddOffsetsToTxn, 3, {
            transactionalId: p.txnId,
            producerId: p.producerId,
            producerEpoch: p.producerEpoch,
            groupId: "g",
          })
        ).errorCode,
        0,
      );
      const r = await conn.send(ApiKey.TxnOffsetCommit, 3, {
        transactionalId: p.txnId,
        groupId: "g",
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        topics: [
          { name: "in", partitions: [{ partitionIndex: 0, committedOffset: offset, committedMetadata: "" }] },
        ],
      });
      return r.topics[0]?.partitions[0]?.errorCode;
    };
    const fetchOffset = async (requireStable: boolean) => {
      const r = await conn.send(ApiKey.OffsetFetch, 7, {
        groupId: "g",
        topics: [{ name: "in", partitionIndexes: [0] }],
        requireStable,
      });
      const x = r.topics[0]?.partitions[0];
      return { offset: x?.committedOffset, errorCode: x?.errorCode };
    };
    assert.equal(await commitOffsets(5n), 0);
    assert.deepEqual(await fetchOffset(true), { offset: -1n, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
    assert.deepEqual(await fetchOffset(false), { offset: -1n, errorCode: 0 });
    assert.equal(await endTxn(conn, p, true), 0);
    assert.deepEqual(await fetchOffset(true), { offset: 5n, errorCode: 0 });
    assert.equal(await commitOffsets(9n), 0);
    assert.equal(await endTxn(conn, p, false), 0);
    assert.deepEqual(await fetchOffset(true), { offset: 5n, errorCode: 0 }, "the aborted commit is dropped");
    // A zombie's offset commit is refused.
    const stale = await conn.send(ApiKey.TxnOffsetCommit, 3, {
      transactionalId: p.txnId,
      groupId: "g",
      producerId: p.producerId,
      producerEpoch: p.producerEpoch - 1,
      generationId: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [
        { name: "in", partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: "" }] },
      ],
    });
    assert.equal(stale.topics[0]?.partitions[0]?.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);

    await conn.close();
    await b.close();
    const again = await startTestBroker({}, dataDir);
    conn = await again.connect();
    try {
      assert.deepEqual(await fetchOffset(true), { offset: 5n, errorCode: 0 }, "replayed with its markers");
    } finally {
      await conn.close();
      await again.destroy();
    }
  } finally {
    await conn.close().catch(() => undefined);
    await b.close().catch(() => undefined);
  }
});

test("a restart completes a transaction whose commit was decided but whose markers were not written", async () => {
  const b = await startTestBroker();
  const dataDir = b.dataDir;
  let conn = await b.connect();
  try {
    await createTopic(conn, "t");
    const p = await initProducer(conn, "tx-6");
    await addPartitions(conn, p, "t", [0]);
    await produce(conn, p, "t", ["kept"]);
    // Stop right after the PrepareCommit record: write it as the coordinator would, no markers.
    const txnLog = b.context.topics.partition(TRANSACTION_STATE, 0)?.log;
    assert.ok(txnLog);
    const rec = encodeTxnRecord("tx-6", {
      producerId: Number(p.producerId),
      producerEpoch: p.producerEpoch,
      lastProducerId: -1,
      lastProducerEpoch: -1,
      timeoutMs: 60_000,
      state: "PrepareCommit",
      partitions: [{ topic: "t", partition: 0 }],
      lastUpdateTimestamp: Date.now(),
      startTimestamp: Date.now(),
    });
    await txnLog.append(encodeBatch({ records: [{ key: rec.key, value: rec.value }] }));
    await conn.close();
    await b.close();

    const again = await startTestBroker({}, dataDir);
    conn = await again.connect();
    try {
      let rc = await fetchAll(conn, "t", READ_COMMITTED);
      for (let i = 0; i < 50 && rc.values.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        rc = await fetchAll(conn, "t", READ_COMMITTED);
      }
      assert.deepEqual(rc.values, ["kept"]);
      assert.equal(rc.lastStableOffset, rc.highWatermark);
      assert.equal(again.context.txns.transaction("tx-6")?.state, "CompleteCommit");
    } finally {
      await conn.close();
      await again.destroy();
    }
  } finally {
    await b.close().catch(() => undefined);
  }
});

test("an open transaction found after a restart is aborted at its timeout and the LSO moves on", async () => {
  const settings = { "transaction.abort.timed.out.transaction.cleanup.interval.ms": 100 };
  const b = await startTestBroker(settings);
  const dataDir = b.dataDir;
  let conn = await b.connect();
  try {
    await createTopic(conn, "t");
    const p = await initProducer(conn, "tx-7", 1000);
    await addPartitions(conn, p, "t", [0]);
    await produce(conn, p, "t", ["abandoned"]);
    await conn.close();
    await b.close();
    const again = await startTestBroker(settings, dataDir);
    conn = await again.connect();
    try {
      let rc = await fetchAll(conn, "t", READ_COMMITTED);
      assert.equal(rc.lastStableOffset, 0n, "still open right after the restart");
      for (let i = 0; i < 100 && rc.lastStableOffset < rc.highWatermark; i++) {
        await new Promise((r) => setTimeout(r, 50));
        rc = await fetchAll(conn, "t", READ_COMMITTED);
      }
      assert.equal(rc.lastStableOffset, rc.highWatermark);
      assert.deepEqual(rc.values, []);
      assert.deepEqual(rc.aborted, [{ producerId: p.producerId, firstOffset: 0n }]);
      const d = await conn.send(ApiKey.DescribeTransactions, 0, { transactionalIds: ["tx-7"] });
      assert.equal(d.transactionStates[0]?.transactionState, "CompleteAbort");
      assert.equal(d.transactionStates[0]?.producerEpoch, p.producerEpoch + 1, "fenced by the bump");
      const l = await conn.send(ApiKey.ListTransactions, 1, {
        stateFilters: [],
        producerIdFilters: [],
        durationFilter: -1n,
      });
      assert.deepEqual(
        l.transactionStates.map((x) => [x.transactionalId, x.transactionState]),
        [["tx-7", "CompleteAbort"]],
      );
    } finally {
      await conn.close();
      await again.destroy();
    }
  } finally {
    await b.close().catch(() => undefined);
  }
});
