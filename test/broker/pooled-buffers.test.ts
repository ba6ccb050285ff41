// The broker reuses large buffers: requests read straight into pooled frames (mirror appends)
// and fetch responses read from files into pooled buffers, given back once written. A buffer
// reused too early would put one response's bytes into another. Several consumers reading the
// same log at once, some slowly, must each get exactly the records produced, CRCs verified.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Admin } from "../../src/client/admin.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { consumeBatches } from "../../src/client/consumer.ts";
import { Producer } from "../../src/client/producer.ts";
import { CompressionCodec } from "../../src/protocol/compression/index.ts";
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
