// The link between two Ferry brokers: mirror mode (byte-identical, same offsets) and
// translation mode (exact offset map), started in-process.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Producer } from "../../src/client/producer.ts";
import { CompressionCodec } from "../../src/protocol/compression/index.ts";
import { linkStatus } from "../../src/link/link-status.ts";
import { translateOffset } from "../../src/link/group-sync.ts";
import { startTestBroker, type TestBroker } from "../broker/broker-helpers.ts";
import {
  Admin,
  clusterOf,
  endOffset,
  readAllBatches,
  readRecords,
  startTestLink,
  waitFor,
} from "./link-helpers.ts";

describe("link between Ferry brokers", () => {
  let a: TestBroker;
  let b: TestBroker;
  before(async () => {
    a = await startTestBroker();
    b = await startTestBroker();
  });
  after(async () => {
    await a.destroy();
    await b.destroy();
  });

  test("mirror mode copies every compression byte for byte at the same offsets", async () => {
    const source = clusterOf(a.bootstrap);
    const target = clusterOf(b.bootstrap);
    try {
      await new Admin(source).createTopics([{ name: "mirrored", numPartitions: 2 }]);
      const producer = new Producer(source, { idempotent: true });
      for (const compression of [
        CompressionCodec.NONE,
        CompressionCodec.GZIP,
        CompressionCodec.SNAPPY,
        CompressionCodec.LZ4,
        CompressionCodec.ZSTD,
      ]) {
        await producer.send(
          "mirrored",
          Array.from({ length: 20 }, (_, i) => ({
            key: Buffer.from(`k${i}`),
            value: Buffer.from(`v${compression}-${i}`),
            headers: [{ key: "h", value: Buffer.from("x") }],
          })),
          { compression },
        );
      }
      const link = await startTestLink({
        name: "m1",
        source: a.bootstrap,
        target: b.bootstrap,
        filters: { topics: "mirrored" },
      });
      try {
        for (const p of [0, 1]) {
          const end = await endOffset(source, "mirrored", p);
          await waitFor(
            `partition ${p} mirrored`,
            async () => (await endOffset(target, "mirrored", p)) === end,
          );
          assert.deepEqual(
            await readAllBatches(target, "mirrored", p),
            await readAllBatches(source, "mirrored", p),
          );
        }
        const status = linkStatus(link);
        assert.equal(status.topics[0]?.mode, "mirror");
        assert.equal(status.totals.records, 100);
        // Written later, copied live.
        await producer.send("mirrored", [{ key: Buffer.from("late"), value: Buffer.from("late") }], {
          partition: 1,
        });
        const end = await endOffset(source, "mirrored", 1);
        await waitFor("late record mirrored", async () => (await endOffset(target, "mirrored", 1)) === end);
        assert.deepEqual(
          await readAllBatches(target, "mirrored", 1),
          await readAllBatches(source, "mirrored", 1),
        );
      } finally {
        await link.stop();
      }
    } finally {
      await source.close();
      await target.close();
    }
  });

  test("translation mode copies records and maps every source offset exactly", async () => {
    const source = clusterOf(a.bootstrap);
    const target = clusterOf(b.bootstrap);
    try {
      await new Admin(source).createTopics([{ name: "translated", numPartitions: 1 }]);
      // The target already holds other records, so offsets differ.
      await new Admin(target).createTopics([{ name: "translated", numPartitions: 1 }]);
      const producer = new Producer(source);
      const targetProducer = new Producer(target);
      await targetProducer.send("translated", [
        { value: Buffer.from("pre-existing-1") },
        { value: Buffer.from("pre-existing-2") },
      ]);
      for (let i = 0; i < 5; i++) {
        await producer.send(
          "translated",
          Array.from({ length: 10 }, (_, j) => ({
            key: Buffer.from(`k${j}`),
            value: Buffer.from(`v${i}-${j}`),
          })),
          { compression: CompressionCodec.LZ4 },
        );
      }
      const link = await startTestLink({
        name: "t1",
        source: a.bootstrap,
        target: b.bootstrap,
        filters: { topics: "translated" },
      });
      try {
        await waitFor("translated copy", async () => (await endOffset(target, "translated", 0)) === 52n);
        const src = await readRecords(source, "translated", 0);
        const tgt = (await readRecords(target, "translated", 0)).slice(2);
        assert.deepEqual(
          tgt.map((r) => [r.key, r.value, r.headers, r.timestamp]),
          src.map((r) => [r.key, r.value, r.headers, r.timestamp]),
        );
        const replica = link.replicas[0];
        assert.ok(replica !== undefined);
        assert.equal(replica.mode, "translate");
        for (let i = 0; i < src.length; i++) {
          assert.equal(
            translateOffset(replica, Number((src[i] as { offset: bigint }).offset)),
            Number((tgt[i] as { offset: bigint }).offset),
          );
        }
        assert.equal(translateOffset(replica, 50), 52);
        assert.equal(translateOffset(replica, 51), undefined);
      } finally {
        await link.stop();
      }
    } finally {
      await source.close();
      await target.close();
    }
  });
});
