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
  bounds,
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

  test("a new topic matching the filter is copied within seconds, and a filter change applies without a restart", async () => {
    const source = clusterOf(a.bootstrap);
    const target = clusterOf(b.bootstrap);
    const admin = new Admin(source);
    try {
      const link = await startTestLink({
        name: "f1",
        source: a.bootstrap,
        target: b.bootstrap,
        filters: { topics: "live\\..*" },
      });
      try {
        await admin.createTopics([
          { name: "live.one", numPartitions: 1 },
          { name: "live.two", numPartitions: 1 },
          { name: "other", numPartitions: 1 },
        ]);
        await new Producer(source).send("live.one", [{ value: Buffer.from("1") }]);
        await new Producer(source).send("live.two", [{ value: Buffer.from("2") }]);
        await new Producer(source).send("other", [{ value: Buffer.from("3") }]);
        const started = Date.now();
        await waitFor(
          "live.one copied",
          async () => (await endOffset(target, "live.one", 0).catch(() => -1n)) === 1n,
        );
        assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
        // live.two must be copied before it is excluded, or the exclusion check below proves nothing.
        await waitFor(
          "live.two copied",
          async () => (await endOffset(target, "live.two", 0).catch(() => -1n)) === 1n,
        );
        const targetTopics = await new Admin(target).listTopics();
        assert.ok(!targetTopics.includes("other"), "a topic outside the filter is not copied");
        link.setFilters({ topics: "live\\..*|other", exclude: "live\\.two" });
        await waitFor(
          "other copied after the filter change",
          async () => (await endOffset(target, "other", 0).catch(() => -1n)) === 1n,
        );
        await new Producer(source).send("live.two", [{ value: Buffer.from("after") }]);
        await new Producer(source).send("live.one", [{ value: Buffer.from("after") }]);
        await waitFor("live.one keeps copying", async () => (await endOffset(target, "live.one", 0)) === 2n);
        assert.equal(await endOffset(target, "live.two", 0), 1n, "an excluded topic stops being copied");
        assert.throws(
          () => link.setFilters({ topics: "(" }),
          /topics: '\(' is not a valid regular expression/,
        );
        assert.equal(link.filters.topics, "live\\..*|other", "a bad filter changes nothing");
      } finally {
        await link.stop();
      }
    } finally {
      await source.close();
      await target.close();
    }
  });

  test("source records deleted before the link copied them are reported as lost, and copying continues", async () => {
    const source = clusterOf(a.bootstrap);
    const target = clusterOf(b.bootstrap);
    try {
      await new Admin(source).createTopics([{ name: "retained", numPartitions: 1 }]);
      const producer = new Producer(source);
      await producer.send("retained", [{ value: Buffer.from("a") }]);
      const link = await startTestLink({
        name: "r1",
        source: a.bootstrap,
        target: b.bootstrap,
        filters: { topics: "retained" },
        mode: "translate",
      });
      try {
        await waitFor(
          "first record copied",
          async () => (await endOffset(target, "retained", 0).catch(() => -1n)) === 1n,
        );
        link.pause();
        await new Promise((r) => setTimeout(r, 300));
        for (let i = 0; i < 5; i++) await producer.send("retained", [{ value: Buffer.from(`b${i}`) }]);
        await new Admin(source).deleteRecords([{ topic: "retained", partition: 0, offset: 4n }]);
        link.resume();
        await waitFor(
          "copying resumes after the gap",
          async () => (await endOffset(target, "retained", 0)) === 3n,
        );
        const status = linkStatus(link);
        const p0 = status.topics[0]?.partitions[0];
        assert.equal(p0?.lostRecords, 3);
        assert.deepEqual(
          p0?.lost.map((l) => [l.from, l.to]),
          [[1, 4]],
        );
        assert.equal(status.totals.lostRecords, 3);
        assert.deepEqual(
          (await readRecords(target, "retained", 0)).map((r) => r.value),
          ["a", "b3", "b4"],
        );
      } finally {
        await link.stop();
      }
    } finally {
      await source.close();
      await target.close();
    }
  });

  test("active-active links with identity names copy each record exactly once each way", async () => {
    const ca = clusterOf(a.bootstrap);
    const cb = clusterOf(b.bootstrap);
    try {
      await new Admin(ca).createTopics([{ name: "aa", numPartitions: 2 }]);
      await new Admin(cb).createTopics([{ name: "aa", numPartitions: 2 }]);
      const ab = await startTestLink({
        name: "a-to-b",
        source: a.bootstrap,
        target: b.bootstrap,
        filters: { topics: "aa" },
      });
      const ba = await startTestLink({
        name: "b-to-a",
        source: b.bootstrap,
        target: a.bootstrap,
        filters: { topics: "aa" },
      });
      try {
        const pa = new Producer(ca, { idempotent: true });
        const pb = new Producer(cb, { idempotent: true });
        for (let round = 0; round < 5; round++) {
          await pa.send(
            "aa",
            Array.from({ length: 10 }, (_, i) => ({
              key: Buffer.from(`a${round}-${i}`),
              value: Buffer.from(`from-a-${round}-${i}`),
            })),
          );
          await pb.send(
            "aa",
            Array.from({ length: 10 }, (_, i) => ({
              key: Buffer.from(`b${round}-${i}`),
              value: Buffer.from(`from-b-${round}-${i}`),
            })),
          );
        }
        const values = async (c: typeof ca): Promise<string[]> =>
          [...(await readRecords(c, "aa", 0)), ...(await readRecords(c, "aa", 1))]
            .map((r) => r.value ?? "")
            .sort();
        await waitFor(
          "both sides have 100 records",
          async () => (await values(ca)).length === 100 && (await values(cb)).length === 100,
        );
        // Give a loop time to show itself.
        await new Promise((r) => setTimeout(r, 1000));
        const onA = await values(ca);
        const onB = await values(cb);
        assert.equal(onA.length, 100);
        assert.equal(new Set(onA).size, 100);
        assert.deepEqual(onA, onB);
        assert.ok(
          linkStatus(ab).topics[0]?.partitions.some((p) => p.recordsSkipped > 0),
          "a-to-b skipped b's copies",
        );
      } finally {
        await ab.stop();
        await ba.stop();
      }
    } finally {
      await ca.close();
      await cb.close();
    }
  });

  test("a mirror topic is never copied back to the cluster it mirrors", async () => {
    const ca = clusterOf(a.bootstrap);
    const cb = clusterOf(b.bootstrap);
    try {
      await new Admin(ca).createTopics([{ name: "one-way", numPartitions: 1 }]);
      await new Producer(ca).send("one-way", [{ value: Buffer.from("x") }]);
      const ab = await startTestLink({
        name: "ow-a-b",
        source: a.bootstrap,
        target: b.bootstrap,
        filters: { topics: "one-way" },
      });
      try {
        await waitFor("mirrored", async () => (await endOffset(cb, "one-way", 0).catch(() => -1n)) === 1n);
        const ba = await startTestLink({
          name: "ow-b-a",
          source: b.bootstrap,
          target: a.bootstrap,
          filters: { topics: "one-way" },
        });
        try {
          const status = linkStatus(ba);
          assert.equal(status.topics.length, 0);
          assert.match(status.skippedTopics[0]?.reason ?? "", /mirror of one-way on the target cluster/);
        } finally {
          await ba.stop();
        }
      } finally {
        await ab.stop();
      }
      assert.equal(await endOffset(ca, "one-way", 0), 1n);
    } finally {
      await ca.close();
      await cb.close();
    }
  });

  test("a mirror follows partition increases and the source's log start", async () => {
    const source = clusterOf(a.bootstrap);
    const target = clusterOf(b.bootstrap);
    const admin = new Admin(source);
    try {
      await admin.createTopics([{ name: "growing", numPartitions: 1 }]);
      const producer = new Producer(source);
      await producer.send(
        "growing",
        Array.from({ length: 10 }, (_, i) => ({ value: Buffer.from(`v${i}`) })),
      );
      const link = await startTestLink({
        name: "g1",
        source: a.bootstrap,
        target: b.bootstrap,
        filters: { topics: "growing" },
      });
      try {
        await waitFor(
          "first partition mirrored",
          async () => (await endOffset(target, "growing", 0).catch(() => -1n)) === 10n,
        );
        await admin.deleteRecords([{ topic: "growing", partition: 0, offset: 4n }]);
        await producer.send("growing", [{ value: Buffer.from("after delete") }], { partition: 0 });
        await waitFor(
          "log start followed",
          async () => (await bounds(target, "growing", 0))[0]?.offset === 4n,
        );
        await admin.createPartitions("growing", 3);
        await producer.send("growing", [{ value: Buffer.from("p2") }], { partition: 2 });
        await waitFor(
          "new partition mirrored",
          async () => (await endOffset(target, "growing", 2).catch(() => -1n)) === 1n,
        );
        const meta = await new Admin(target).describeTopics(["growing"]);
        assert.equal(meta[0]?.partitions.length, 3);
        assert.deepEqual(
          await readAllBatches(target, "growing", 0),
          await readAllBatches(source, "growing", 0),
        );
      } finally {
        await link.stop();
      }
    } finally {
      await source.close();
      await target.close();
    }
  });
});
