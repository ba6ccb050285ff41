// FerryMirrorAppend and mirror topics at the wire, with Ferry's own connection: batches land
// at their source offsets byte for byte (gaps kept), retries are idempotent, bad input changes
// nothing, the log start follows the source, clients cannot write, promotion makes the topic
// writable (aborting transactions left open), and the mirror flag survives a restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Connection } from "../../../src/net/connection.ts";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { ApiKey } from "../../../src/protocol/generated/index.ts";
import { decodeBatches, encodeBatch } from "../../../src/protocol/records/batch-codec.ts";
import { startTestBroker, type TestBroker } from "../broker-helpers.ts";

const SOURCE = "src-cluster/orders";

/** A source-side batch: its own base offset, leader epoch 7, `count` records. */
function sourceBatch(
  baseOffset: number,
  count: number,
  opts: { transactional?: boolean; producerId?: bigint } = {},
): Buffer {
  return encodeBatch({
    baseOffset: BigInt(baseOffset),
    partitionLeaderEpoch: 7,
    timestamp: 1_700_000_000_000 + baseOffset,
    records: Array.from({ length: count }, (_, i) => ({
      key: Buffer.from(`k${baseOffset + i}`),
      value: Buffer.from(`v${baseOffset + i}`),
    })),
    ...(opts.producerId === undefined
      ? {}
      : {
          producerId: opts.producerId,
          producerEpoch: 0,
          baseSequence: 0,
          transactional: opts.transactional === true,
        }),
  });
}

async function createTopic(c: Connection, name: string, mirror: boolean): Promise<void> {
  const res = await c.send(ApiKey.CreateTopics, 7, {
    topics: [
      {
        name,
        numPartitions: 2,
        replicationFactor: 1,
        configs: mirror ? [{ name: "ferry.mirror.source", value: SOURCE }] : [],
      },
    ],
    timeoutMs: 1000,
  });
  assert.equal(res.topics[0]?.errorCode, 0, res.topics[0]?.errorMessage ?? "");
}

interface Appended {
  errorCode: number;
  errorMessage: string | null;
  logStartOffset: bigint;
  logEndOffset: bigint;
  highWatermark: bigint;
}

async function append(
  c: Connection,
  topic: string,
  records: Buffer | null,
  sourceLogStartOffset = -1n,
  partition = 0,
): Promise<Appended> {
  const res = await c.send(ApiKey.FerryMirrorAppend, 0, {
    timeoutMs: 1000,
    topics: [{ name: topic, partitions: [{ index: partition, sourceLogStartOffset, records }] }],
  });
  const p = res.topics[0]?.partitions[0];
  assert.ok(p !== undefined);
  return p;
}

/** Every byte a Fetch returns from `offset` on. */
async function fetchBytes(c: Connection, topic: string, offset: bigint, partition = 0): Promise<Buffer> {
  const f = await c.send(ApiKey.Fetch, 12, {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
  });
  const p = f.responses[0]?.partitions[0];
  assert.equal(p?.errorCode, 0);
  return p?.records ?? Buffer.alloc(0);
}

async function produce(
  c: Connection,
  topic: string,
  version = 9,
): Promise<{ errorCode: number; errorMessage: string | null }> {
  const res = await c.send(ApiKey.Produce, version, {
    acks: -1,
    timeoutMs: 1000,
    topicData: [
      {
        name: topic,
        partitionData: [{ index: 0, records: encodeBatch({ records: [{ value: Buffer.from("x") }] }) }],
      },
    ],
  });
  const p = res.responses[0]?.partitionResponses[0];
  assert.ok(p !== undefined);
  return p;
}

async function withBroker(fn: (b: TestBroker, c: Connection) => Promise<void>): Promise<void> {
  const b = await startTestBroker();
  const c = await b.connect();
  try {
    await fn(b, c);
  } finally {
    await c.close();
    await b.destroy();
  }
}

test("ApiVersions advertises FerryMirrorAppend v0 (key 32000)", async () => {
  await withBroker(async (_b, c) => {
    const res = await c.send(ApiKey.ApiVersions, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
    const range = res.apiKeys.find((a) => a.apiKey === 32000);
    assert.deepEqual([range?.minVersion, range?.maxVersion], [0, 0]);
  });
});

test("batches land at their source offsets, byte for byte, gaps kept; retries change nothing", async () => {
  await withBroker(async (b, c) => {
    await createTopic(c, "m", true);
    const batches = [sourceBatch(0, 3), sourceBatch(10, 2), sourceBatch(20, 1)];
    const sent = Buffer.concat(batches);
    const copy = Buffer.from(sent);
    const r = await append(c, "m", sent);
    assert.deepEqual(r, {
      index: 0,
      errorCode: 0,
      errorMessage: null,
      logStartOffset: 0n,
      logEndOffset: 21n,
      highWatermark: 21n,
    } as Appended);
    assert.ok((await fetchBytes(c, "m", 0n)).equals(copy), "the mirror is byte-identical to the source");
    // A fetch in the gap starts at the next batch.
    assert.deepEqual(
      decodeBatches(await fetchBytes(c, "m", 5n)).map((x) => x.header.baseOffset),
      [10n, 20n],
    );
    // The same request again (a retry), and a retry with one new batch: only the new one goes in.
    assert.equal((await append(c, "m", Buffer.from(copy))).logEndOffset, 21n);
    const more = sourceBatch(30, 2);
    const r2 = await append(c, "m", Buffer.concat([batches[2] ?? Buffer.alloc(0), more]));
    assert.equal(r2.errorCode, 0);
    assert.equal(r2.logEndOffset, 32n);
    assert.ok((await fetchBytes(c, "m", 0n)).equals(Buffer.concat([copy, more])));
    // Nothing to append at all: the offsets come back.
    const r3 = await append(c, "m", null);
    assert.deepEqual([r3.errorCode, r3.logStartOffset, r3.logEndOffset], [0, 0n, 32n]);
    // The other partition is untouched.
    assert.equal(b.context.topics.partition("m", 1)?.log.logEndOffset, 0);
  });
});

test("a batch straddling the log end offset is refused, and nothing of the request is written", async () => {
  await withBroker(async (_b, c) => {
    await createTopic(c, "m", true);
    await append(c, "m", sourceBatch(0, 5));
    const r = await append(c, "m", Buffer.concat([sourceBatch(3, 4), sourceBatch(7, 1)]));
    assert.equal(r.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.match(r.errorMessage ?? "", /straddles the log end offset 5/);
    assert.equal(r.logEndOffset, 5n);
  });
});

test("a corrupt batch is refused with nothing stored, the valid batches before it included", async () => {
  await withBroker(async (b, c) => {
    await createTopic(c, "m", true);
    const bad = sourceBatch(5, 2);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0xff;
    const r = await append(c, "m", Buffer.concat([sourceBatch(0, 2), bad]));
    assert.equal(r.errorCode, ErrorCode.CORRUPT_MESSAGE);
    assert.match(r.errorMessage ?? "", /CRC/);
    assert.deepEqual([r.logStartOffset, r.logEndOffset], [0n, 0n]);
    // Magic 1 and offsets going backwards are refused too.
    const old = sourceBatch(0, 1);
    old[16] = 1;
    assert.equal((await append(c, "m", old)).errorCode, ErrorCode.INVALID_RECORD);
    const backwards = await append(c, "m", Buffer.concat([sourceBatch(10, 2), sourceBatch(5, 1)]));
    assert.equal(backwards.errorCode, ErrorCode.INVALID_RECORD);
    assert.equal(b.context.topics.partition("m", 0)?.log.sizeInBytes, 0);
  });
});

test("a trailing partial batch (as Fetch responses end) is dropped; the log end says where to resume", async () => {
  await withBroker(async (_b, c) => {
    await createTopic(c, "m", true);
    const next = sourceBatch(2, 2);
    const r = await append(c, "m", Buffer.concat([sourceBatch(0, 2), next.subarray(0, 30)]));
    assert.deepEqual([r.errorCode, r.logEndOffset], [0, 2n]);
  });
});

test("an empty mirror starts where the source's data does (offset 1000)", async () => {
  await withBroker(async (_b, c) => {
    await createTopic(c, "m", true);
    const first = sourceBatch(1000, 3);
    const r = await append(c, "m", Buffer.from(first));
    assert.deepEqual(
      [r.errorCode, r.logStartOffset, r.logEndOffset, r.highWatermark],
      [0, 1000n, 1003n, 1003n],
    );
    const lo = await c.send(ApiKey.ListOffsets, 7, {
      replicaId: -1,
      topics: [{ name: "m", partitions: [{ partitionIndex: 0, timestamp: -2n }] }],
    });
    assert.equal(lo.topics[0]?.partitions[0]?.offset, 1000n);
    assert.ok((await fetchBytes(c, "m", 1000n)).equals(first));
  });
});

test("SourceLogStartOffset moves the mirror's log start up, capped at its high watermark", async () => {
  await withBroker(async (_b, c) => {
    await createTopic(c, "m", true);
    await append(c, "m", Buffer.concat([sourceBatch(0, 5), sourceBatch(5, 5)]));
    let r = await append(c, "m", null, 5n);
    assert.deepEqual([r.errorCode, r.logStartOffset, r.logEndOffset], [0, 5n, 10n]);
    // Never backwards.
    r = await append(c, "m", null, 2n);
    assert.equal(r.logStartOffset, 5n);
    // The source moved past what the mirror has: the mirror empties at its end, then starts
    // where the source's data does.
    r = await append(c, "m", null, 50n);
    assert.deepEqual([r.logStartOffset, r.logEndOffset], [10n, 10n]);
    r = await append(c, "m", sourceBatch(50, 1), 50n);
    assert.deepEqual([r.errorCode, r.logStartOffset, r.logEndOffset], [0, 50n, 51n]);
  });
});

test("appending to a topic that is not a mirror, or does not exist, is refused", async () => {
  await withBroker(async (b, c) => {
    await createTopic(c, "plain", false);
    const r = await append(c, "plain", sourceBatch(0, 1));
    assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(r.errorMessage ?? "", /not a mirror topic/);
    assert.equal(b.context.topics.partition("plain", 0)?.log.logEndOffset, 0);
    assert.equal(
      (await append(c, "nope", sourceBatch(0, 1))).errorCode,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
  });
});

test("mirror topics refuse Produce and DeleteRecords; reads work", async () => {
  await withBroker(async (b, c) => {
    await createTopic(c, "m", true);
    await append(c, "m", sourceBatch(0, 4));
    for (const version of [3, 7, 9, 11]) {
      const p = await produce(c, "m", version);
      assert.equal(p.errorCode, ErrorCode.INVALID_REQUEST, `Produce v${version}`);
      if (version >= 8) assert.match(p.errorMessage ?? "", /mirror of src-cluster\/orders and is read-only/);
    }
    const d = await c.send(ApiKey.DeleteRecords, 2, {
      topics: [{ name: "m", partitions: [{ partitionIndex: 0, offset: 2n }] }],
      timeoutMs: 1000,
    });
    assert.equal(d.topics[0]?.partitions[0]?.errorCode, ErrorCode.INVALID_REQUEST);
    const log = b.context.topics.partition("m", 0)?.log;
    assert.deepEqual([log?.logStartOffset, log?.logEndOffset], [0, 4]);
    assert.equal(decodeBatches(await fetchBytes(c, "m", 0n))[0]?.records.length, 4);
  });
});

test("the mirror flag is described, validated, and survives a restart", async () => {
  const first = await startTestBroker();
  const dir = first.dataDir;
  let c = await first.connect();
  await createTopic(c, "m", true);
  await append(c, "m", sourceBatch(0, 2));
  const empty = await c.send(ApiKey.IncrementalAlterConfigs, 1, {
    resources: [
      {
        resourceType: 2,
        resourceName: "m",
        configs: [{ name: "ferry.mirror.source", configOperation: 0, value: " " }],
      },
    ],
  });
  assert.equal(empty.responses[0]?.errorCode, ErrorCode.INVALID_CONFIG);
  // Ordinary topics do not list the setting; mirrors do.
  const plain = await c.send(ApiKey.CreateTopics, 7, {
    topics: [{ name: "plain", numPartitions: 1, replicationFactor: 1 }],
    timeoutMs: 1000,
  });
  assert.equal(
    plain.topics[0]?.configs?.some((x) => x.name === "ferry.mirror.source"),
    false,
  );
  await c.close();
  await first.close();

  const second = await startTestBroker({}, dir);
  try {
    c = await second.connect();
    const cfg = await c.send(ApiKey.DescribeConfigs, 4, {
      resources: [{ resourceType: 2, resourceName: "m", configurationKeys: ["ferry.mirror.source"] }],
      includeSynonyms: true,
    });
    const entry = cfg.results[0]?.configs[0];
    assert.deepEqual([entry?.name, entry?.value, entry?.configSource], ["ferry.mirror.source", SOURCE, 1]);
    assert.equal((await produce(c, "m")).errorCode, ErrorCode.INVALID_REQUEST);
    const r = await append(c, "m", sourceBatch(2, 1));
    assert.deepEqual([r.errorCode, r.logEndOffset], [0, 3n]);
    await c.close();
  } finally {
    await second.destroy();
  }
});

test("promotion (deleting ferry.mirror.source) makes the topic writable and aborts open transactions", async () => {
  await withBroker(async (b, c) => {
    await createTopic(c, "m", true);
    // Source data: a plain batch, then a transaction of producer 4242 that never ended.
    await append(
      c,
      "m",
      Buffer.concat([sourceBatch(0, 2), sourceBatch(2, 3, { producerId: 4242n, transactional: true })]),
    );
    const log = b.context.topics.partition("m", 0)?.log;
    assert.ok(log !== undefined);
    assert.equal(log.lastStableOffset, 2, "the open transaction holds the last stable offset back");
    const res = await c.send(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: "m",
          configs: [{ name: "ferry.mirror.source", configOperation: 1, value: null }],
        },
      ],
    });
    assert.equal(res.responses[0]?.errorCode, 0, res.responses[0]?.errorMessage ?? "");
    // An ABORT marker for producer 4242 at offset 5; the last stable offset is free again.
    const marker = decodeBatches(await fetchBytes(c, "m", 5n))[0];
    assert.equal(marker?.header.baseOffset, 5n);
    assert.equal(marker?.header.producerId, 4242n);
    assert.equal((marker?.header.attributes ?? 0) & 0x30, 0x30, "a transactional control batch");
    assert.equal(log.lastStableOffset, log.highWatermark);
    const p = await produce(c, "m");
    assert.equal(p.errorCode, 0);
    assert.equal(log.logEndOffset, 7);
    // No longer a mirror: FerryMirrorAppend is refused now.
    assert.equal((await append(c, "m", sourceBatch(7, 1))).errorCode, ErrorCode.INVALID_REQUEST);
  });
});

test("AlterConfigs (the legacy whole-set API) promotes a mirror too", async () => {
  await withBroker(async (_b, c) => {
    await createTopic(c, "m", true);
    await append(c, "m", sourceBatch(0, 1));
    const res = await c.send(ApiKey.AlterConfigs, 2, {
      resources: [
        { resourceType: 2, resourceName: "m", configs: [{ name: "retention.ms", value: "1000000" }] },
      ],
    });
    assert.equal(res.responses[0]?.errorCode, 0);
    assert.equal((await produce(c, "m")).errorCode, 0);
  });
});

test("a request larger than segment.bytes goes in as several appends; a batch larger than it is refused", async () => {
  await withBroker(async (b, c) => {
    const res = await c.send(ApiKey.CreateTopics, 7, {
      topics: [
        {
          name: "small",
          numPartitions: 1,
          replicationFactor: 1,
          configs: [
            { name: "ferry.mirror.source", value: SOURCE },
            { name: "segment.bytes", value: "300" },
          ],
        },
      ],
      timeoutMs: 1000,
    });
    assert.equal(res.topics[0]?.errorCode, 0);
    const batches = Array.from({ length: 6 }, (_, i) => sourceBatch(i * 2, 2));
    assert.ok(batches.every((x) => x.length < 150));
    const sent = Buffer.concat(batches);
    const copy = Buffer.from(sent);
    const r = await append(c, "small", sent);
    assert.deepEqual([r.errorCode, r.logEndOffset], [0, 12n]);
    const log = b.context.topics.partition("small", 0)?.log;
    assert.ok((log?.segmentInfo().length ?? 0) > 1, "segments rolled");
    const read: Buffer[] = [];
    for (let offset = 0n; offset < 12n;) {
      const got = await fetchBytes(c, "small", offset);
      const last = decodeBatches(got).at(-1);
      read.push(got);
      offset = (last?.header.baseOffset ?? 0n) + BigInt((last?.header.lastOffsetDelta ?? 0) + 1);
    }
    assert.ok(Buffer.concat(read).equals(copy));
    const big = sourceBatch(12, 40);
    assert.equal((await append(c, "small", big)).errorCode, ErrorCode.RECORD_LIST_TOO_LARGE);
  });
});

test("the internal __consumer_offsets topic cannot become a mirror", async () => {
  await withBroker(async (_b, c) => {
    await c.send(ApiKey.FindCoordinator, 3, { key: "g", keyType: 0 });
    const res = await c.send(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: "__consumer_offsets",
          configs: [{ name: "ferry.mirror.source", configOperation: 0, value: SOURCE }],
        },
      ],
    });
    assert.equal(res.responses[0]?.errorCode, ErrorCode.INVALID_CONFIG);
  });
});
