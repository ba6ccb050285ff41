// Broker behaviour at the wire, with Ferry's own connection: API versions, topics,
// produce/fetch, long polls, bad input, restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as tcpConnect } from "node:net";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import { decodeResponse, encodeRequest } from "../../src/protocol/messages.ts";
import { encodeBatch, decodeBatches } from "../../src/protocol/records/batch-codec.ts";
import { ErrorCode } from "../../src/protocol/error-codes.ts";
import { startTestBroker } from "./broker-helpers.ts";

const batch = (values: string[]): Buffer =>
  encodeBatch({ records: values.map((v) => ({ key: Buffer.from(`k-${v}`), value: Buffer.from(v) })) });

test("ApiVersions lists every served API with Kafka's version floors librdkafka needs", async () => {
  const b = await startTestBroker();
  try {
    const c = await b.connect();
    const res = await c.send(ApiKey.ApiVersions, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
    assert.equal(res.errorCode, 0);
    const range = (k: number) => res.apiKeys.find((a) => a.apiKey === k);
    // Produce is advertised from v0 like Kafka 4 (KAFKA-18659), served from v3.
    assert.deepEqual([range(ApiKey.Produce)?.minVersion, range(ApiKey.Produce)?.maxVersion], [0, 11]);
    assert.deepEqual([range(ApiKey.Fetch)?.minVersion, range(ApiKey.Fetch)?.maxVersion], [4, 17]);
    assert.equal(range(ApiKey.JoinGroup)?.minVersion, 0);
    assert.equal(range(ApiKey.Metadata)?.maxVersion, 12);
    await c.close();
  } finally {
    await b.destroy();
  }
});

test("an ApiVersions request newer than ours is answered in v0 with UNSUPPORTED_VERSION", async () => {
  const b = await startTestBroker();
  try {
    const frame = encodeRequest(ApiKey.ApiVersions, 4, { correlationId: 5, clientId: "t" }, {});
    frame.writeInt16BE(99, 6); // claim version 99
    const sock = tcpConnect(b.port, b.host);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      sock.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0))
          resolve(buf.subarray(4, 4 + buf.readInt32BE(0)));
      });
      sock.on("error", reject);
      sock.write(frame);
    });
    sock.destroy();
    const res = decodeResponse(reply, ApiKey.ApiVersions, 3);
    assert.equal(res.correlationId, 5);
    assert.equal((res.body as { errorCode: number }).errorCode, ErrorCode.UNSUPPORTED_VERSION);
  } finally {
    await b.destroy();
  }
});

test("an unsupported version of another API closes only that connection", async () => {
  const b = await startTestBroker();
  try {
    const other = await b.connect();
    const sock = tcpConnect(b.port, b.host);
    const closed = new Promise<void>((resolve) => sock.on("close", () => resolve()));
    sock.write(
      encodeRequest(ApiKey.Produce, 2, { correlationId: 1, clientId: "old" }, { acks: 1, timeoutMs: 1000 }),
    );
    await closed;
    const res = await other.send(ApiKey.Metadata, 12, { topics: [] });
    assert.equal(res.brokers.length, 1, "other connections keep working");
    await other.close();
  } finally {
    await b.destroy();
  }
});

test("garbage after a valid header closes the connection and the broker keeps serving", async () => {
  const b = await startTestBroker();
  try {
    const sock = tcpConnect(b.port, b.host);
    const closed = new Promise<void>((resolve) => sock.on("close", () => resolve()));
    const junk = Buffer.from([0, 0, 0, 12, 0, 3, 0, 12, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0x7f]);
    sock.write(junk);
    await closed;
    const c = await b.connect();
    assert.equal((await c.send(ApiKey.Metadata, 1, { topics: null })).brokers[0]?.port, b.port);
    await c.close();
  } finally {
    await b.destroy();
  }
});

test("produce assigns offsets and fetch returns the batches byte for byte", async () => {
  const b = await startTestBroker();
  try {
    const c = await b.connect();
    const created = await c.send(ApiKey.CreateTopics, 7, {
      topics: [{ name: "orders", numPartitions: 2, replicationFactor: 1 }],
      timeoutMs: 1000,
    });
    assert.equal(created.topics[0]?.errorCode, 0);
    const bases: bigint[] = [];
    for (const values of [["a", "b"], ["c"]]) {
      const res = await c.send(ApiKey.Produce, 11, {
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: "orders", partitionData: [{ index: 1, records: batch(values) }] }],
      });
      const p = res.responses[0]?.partitionResponses[0];
      assert.equal(p?.errorCode, 0);
      bases.push(p?.baseOffset ?? -1n);
    }
    assert.deepEqual(bases, [0n, 2n]);
    const topicId = created.topics[0]?.topicId ?? "";
    const f = await c.send(ApiKey.Fetch, 17, {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [{ topicId, partitions: [{ partition: 1, fetchOffset: 1n, partitionMaxBytes: 1 << 20 }] }],
    });
    const part = f.responses[0]?.partitions[0];
    assert.equal(part?.errorCode, 0);
    assert.equal(part?.highWatermark, 3n);
    const got = decodeBatches(part?.records ?? Buffer.alloc(0));
    // The batch containing offset 1 starts at 0: whole batches are returned.
    assert.deepEqual(
      got.map((x) => x.header.baseOffset),
      [0n, 2n],
    );
    assert.deepEqual(
      got.flatMap((x) => x.records.map((r) => r.value?.toString())),
      ["a", "b", "c"],
    );
    await c.close();
  } finally {
    await b.destroy();
  }
});

test("a fetch at the log end waits for new data instead of returning at once", async () => {
  const b = await startTestBroker();
  try {
    const c = await b.connect();
    await c.send(ApiKey.CreateTopics, 7, {
      topics: [{ name: "t", numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 1000,
    });
    const started = Date.now();
    const pending = c.send(ApiKey.Fetch, 12, {
      maxWaitMs: 5000,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [{ topic: "t", partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
    });
    const producer = await b.connect();
    await new Promise((r) => setTimeout(r, 200));
    await producer.send(ApiKey.Produce, 9, {
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: "t", partitionData: [{ index: 0, records: batch(["x"]) }] }],
    });
    const res = await pending;
    const waited = Date.now() - started;
    assert.ok(waited >= 150 && waited < 4000, `fetch answered after ${waited} ms`);
    assert.equal(decodeBatches(res.responses[0]?.partitions[0]?.records ?? Buffer.alloc(0)).length, 1);
    await c.close();
    await producer.close();
  } finally {
    await b.destroy();
  }
});

test("a fetch waiting at the end of __consumer_offsets wakes at a group commit, as Kafka's does", async () => {
  const b = await startTestBroker();
  try {
    const c = await b.connect();
    await c.send(ApiKey.CreateTopics, 7, {
      topics: [{ name: "t", numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 1000,
    });
    const offsetsTopic = (fetchOffset: bigint) => [
      {
        topic: "__consumer_offsets",
        partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20 }],
      },
    ];
    const now = await c.send(ApiKey.Fetch, 12, { maxWaitMs: 0, topics: offsetsTopic(0n) });
    const end = now.responses[0]?.partitions[0]?.highWatermark ?? -1n;
    assert.ok(end >= 0n);
    const started = Date.now();
    const pending = c.send(ApiKey.Fetch, 12, { maxWaitMs: 20_000, minBytes: 1, topics: offsetsTopic(end) });
    const committer = await b.connect();
    await committer.send(ApiKey.OffsetCommit, 8, {
      groupId: "tailed",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [
        {
          name: "t",
          partitions: [
            { partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    });
    const res = await pending;
    const waited = Date.now() - started;
    // Far below the 20 s the fetch would otherwise wait, however loaded the machine.
    assert.ok(waited < 10_000, `fetch answered after ${waited} ms`);
    const keys = decodeBatches(res.responses[0]?.partitions[0]?.records ?? Buffer.alloc(0)).flatMap((x) =>
      x.records.map((r) => r.key?.toString("latin1") ?? ""),
    );
    assert.ok(
      keys.some((k) => k.includes("tailed")),
      "the commit's record",
    );
    await c.close();
    await committer.close();
  } finally {
    await b.destroy();
  }
});

test("produce to an unknown topic and fetch beyond the log end get Kafka's error codes", async () => {
  const b = await startTestBroker({ "auto.create.topics.enable": false });
  try {
    const c = await b.connect();
    const res = await c.send(ApiKey.Produce, 9, {
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: "nope", partitionData: [{ index: 0, records: batch(["x"]) }] }],
    });
    assert.equal(res.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const md = await c.send(ApiKey.Metadata, 12, {
      topics: [{ name: "nope" }],
      allowAutoTopicCreation: true,
    });
    assert.equal(md.topics[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "auto-creation is off");
    await c.send(ApiKey.CreateTopics, 7, {
      topics: [{ name: "t", numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 1000,
    });
    const f = await c.send(ApiKey.Fetch, 12, {
      maxWaitMs: 0,
      topics: [{ topic: "t", partitions: [{ partition: 0, fetchOffset: 5n, partitionMaxBytes: 1000 }] }],
    });
    assert.equal(f.responses[0]?.partitions[0]?.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    const bad = await c.send(ApiKey.CreateTopics, 7, {
      topics: [{ name: "bad/name", numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 1000,
    });
    assert.equal(bad.topics[0]?.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    const rf = await c.send(ApiKey.CreateTopics, 7, {
      topics: [{ name: "rf3", numPartitions: 1, replicationFactor: 3 }],
      timeoutMs: 1000,
    });
    assert.equal(rf.topics[0]?.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
    await c.close();
  } finally {
    await b.destroy();
  }
});

test("topics, configs, records and committed offsets survive a restart", async () => {
  const first = await startTestBroker();
  const dir = first.dataDir;
  let c = await first.connect();
  await c.send(ApiKey.CreateTopics, 7, {
    topics: [
      {
        name: "keep",
        numPartitions: 3,
        replicationFactor: 1,
        configs: [{ name: "retention.ms", value: "12345" }],
      },
    ],
    timeoutMs: 1000,
  });
  await c.send(ApiKey.Produce, 9, {
    acks: -1,
    timeoutMs: 1000,
    topicData: [{ name: "keep", partitionData: [{ index: 2, records: batch(["1", "2", "3"]) }] }],
  });
  const commit = await c.send(ApiKey.OffsetCommit, 2, {
    groupId: "g",
    generationIdOrMemberEpoch: -1,
    memberId: "",
    topics: [
      { name: "keep", partitions: [{ partitionIndex: 2, committedOffset: 2n, committedMetadata: "m" }] },
    ],
  });
  assert.equal(commit.topics[0]?.partitions[0]?.errorCode, 0);
  await c.close();
  await first.close();

  const second = await startTestBroker({}, dir);
  try {
    c = await second.connect();
    const md = await c.send(ApiKey.Metadata, 12, { topics: [{ name: "keep" }] });
    assert.equal(md.topics[0]?.partitions.length, 3);
    const cfg = await c.send(ApiKey.DescribeConfigs, 4, {
      resources: [{ resourceType: 2, resourceName: "keep", configurationKeys: ["retention.ms"] }],
    });
    assert.equal(cfg.results[0]?.configs[0]?.value, "12345");
    const lo = await c.send(ApiKey.ListOffsets, 7, {
      replicaId: -1,
      topics: [{ name: "keep", partitions: [{ partitionIndex: 2, timestamp: -1n }] }],
    });
    assert.equal(lo.topics[0]?.partitions[0]?.offset, 3n);
    const fetched = await c.send(ApiKey.OffsetFetch, 5, { groupId: "g", topics: null });
    const off = fetched.topics.flatMap((t) => t.partitions).find((p) => p.partitionIndex === 2);
    assert.equal(off?.committedOffset, 2n);
    assert.equal(off?.metadata, "m");
    await c.close();
  } finally {
    await second.destroy();
  }
});

test("a second broker on the same data directory is refused", async () => {
  const b = await startTestBroker();
  try {
    await assert.rejects(() => startTestBroker({}, b.dataDir), /in use by another Ferry broker/);
  } finally {
    await b.destroy();
  }
});

test("a request larger than socket.request.max.bytes closes the connection before its body arrives", async () => {
  const b = await startTestBroker({ "socket.request.max.bytes": 4096 });
  try {
    const sock = tcpConnect(b.port, b.host);
    const closed = new Promise<void>((resolve) => sock.on("close", () => resolve()));
    const header = Buffer.alloc(4);
    header.writeInt32BE(1 << 30); // claims a 1 GiB request; only the size is ever sent
    sock.write(header);
    await closed;
    const c = await b.connect();
    assert.equal((await c.send(ApiKey.Metadata, 12, { topics: [] })).brokers.length, 1);
    await c.close();
  } finally {
    await b.destroy();
  }
});

test("a batch with a corrupted CRC is refused with CORRUPT_MESSAGE and nothing is stored", async () => {
  const b = await startTestBroker();
  try {
    const c = await b.connect();
    await c.send(ApiKey.CreateTopics, 7, {
      topics: [{ name: "t", numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 1000,
    });
    const bad = batch(["x", "y"]);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    const res = await c.send(ApiKey.Produce, 9, {
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: "t", partitionData: [{ index: 0, records: bad }] }],
    });
    assert.equal(res.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.CORRUPT_MESSAGE);
    const lo = await c.send(ApiKey.ListOffsets, 7, {
      replicaId: -1,
      topics: [{ name: "t", partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
    });
    assert.equal(lo.topics[0]?.partitions[0]?.offset, 0n);
    const big = await c.send(ApiKey.Produce, 9, {
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: "t", partitionData: [{ index: 0, records: batch(["z".repeat(2_000_000)]) }] }],
    });
    assert.equal(big.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    await c.close();
  } finally {
    await b.destroy();
  }
});
