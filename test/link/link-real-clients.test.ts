// The link with real clients on both ends: kcat (every compression) and kafkajs (headers)
// produce on the source; the mirror is byte-identical and kcat reads the same records on both
// sides; a python3-confluent-kafka group consumes part of a topic on the source, and resumes
// on the target from the offsets the link synced, reading every record exactly once.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import kafkajs from "kafkajs";
import { kcat, pythonModule, requirePeer } from "../helpers/peers.ts";

const confluentKafka = pythonModule("confluent_kafka");
import { runOk, runPython, startTestBroker, uniqueName, type TestBroker } from "../compat/broker-harness.ts";
import {
  Admin,
  clusterOf,
  endOffset,
  readAllBatches,
  readRecords,
  startTestLink,
  waitFor,
} from "./link-helpers.ts";
import { listOffsets, OffsetSpec } from "../../src/client/offsets.ts";
import { Producer } from "../../src/client/producer.ts";
import { fetchCommittedOffsets } from "../../src/client/group-offsets.ts";

const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;

describe("link with real clients", () => {
  let a: TestBroker;
  let b: TestBroker;
  before(async () => {
    a = await startTestBroker();
    b = await startTestBroker();
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  test("kcat (every compression) and kafkajs (headers) records mirror byte for byte, and kcat reads the same on both sides", async (t) => {
    if (!(await requirePeer(t, "kcat", kcat))) return;
    const topic = uniqueName("rc");
    const source = clusterOf(a.bootstrap);
    const target = clusterOf(b.bootstrap);
    try {
      await new Admin(source).createTopics([{ name: topic, numPartitions: 2 }]);
      for (const codec of CODECS) {
        const lines =
          Array.from({ length: 30 }, (_, i) => `${codec}-k${i}\t${codec}-value-${i}`).join("\n") + "\n";
        await runOk(
          "kcat",
          [
            "-P",
            "-b",
            a.bootstrap,
            "-t",
            topic,
            "-K",
            "\t",
            "-z",
            codec,
            "-X",
            "linger.ms=50",
            "-H",
            `codec=${codec}`,
          ],
          { input: lines },
        );
      }
      const kafka = new kafkajs.Kafka({
        clientId: "link-test",
        brokers: [a.bootstrap],
        logLevel: kafkajs.logLevel.NOTHING,
      });
      const kp = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
      await kp.connect();
      await kp.send({
        topic,
        compression: kafkajs.CompressionTypes.GZIP,
        messages: Array.from({ length: 20 }, (_, i) => ({
          key: `js-${i}`,
          value: `kafkajs-${i}`,
          headers: { trace: `t-${i}`, n: String(i) },
        })),
      });
      await kp.disconnect();
      const link = await startTestLink({
        name: uniqueName("rc"),
        source: a.bootstrap,
        target: b.bootstrap,
        filters: { topics: topic },
      });
      try {
        for (const p of [0, 1]) {
          const end = await endOffset(source, topic, p);
          await waitFor(
            `partition ${p}`,
            async () => (await endOffset(target, topic, p).catch(() => -1n)) === end,
          );
          assert.deepEqual(await readAllBatches(target, topic, p), await readAllBatches(source, topic, p));
        }
      } finally {
        await link.stop();
      }
      const read = async (bootstrap: string): Promise<string> =>
        (
          await runOk("kcat", [
            "-C",
            "-b",
            bootstrap,
            "-t",
            topic,
            "-o",
            "beginning",
            "-e",
            "-f",
            "%p %o %T %k=%s %h\\n",
          ])
        ).stdout
          .split("\n")
          .sort()
          .join("\n");
      const onSource = await read(a.bootstrap);
      assert.equal(onSource.split("\n").filter((l) => l !== "").length, 170);
      assert.equal(await read(b.bootstrap), onSource);
    } finally {
      await source.close();
      await target.close();
    }
  });

  for (const mode of ["mirror", "translate"] as const) {
    test(`a confluent-kafka group resumes on the target from the synced offsets (${mode} mode): nothing twice, nothing missed`, async (t) => {
      if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
      const topic = uniqueName(`gs-${mode}`);
      const group = uniqueName("gs-group");
      const source = clusterOf(a.bootstrap);
      const target = clusterOf(b.bootstrap);
      try {
        await new Admin(source).createTopics([{ name: topic, numPartitions: 2 }]);
        if (mode === "translate") {
          // Records already on the target shift every offset there.
          await new Admin(target).createTopics([{ name: topic, numPartitions: 2 }]);
          await new Producer(target).send(
            topic,
            Array.from({ length: 7 }, (_, i) => ({ value: Buffer.from(`old-${i}`), partition: i % 2 })),
          );
        }
        const values = Array.from({ length: 100 }, (_, i) => `r${i}`);
        await new Producer(source).send(
          topic,
          values.map((v, i) => ({ value: Buffer.from(v), partition: i % 2 })),
        );
        const link = await startTestLink({
          name: uniqueName("gs"),
          source: a.bootstrap,
          target: b.bootstrap,
          filters: { topics: topic, groups: group },
          mode,
        });
        try {
          type Consumed = {
            consumed: { partition: number; offset: number; value: string }[];
            error: string | null;
          };
          const first = await runPython<Consumed>("confluent_consume.py", [a.bootstrap, topic, group, "40"]);
          assert.equal(first.error, null);
          assert.equal(first.consumed.length, 40);
          const committed = await fetchCommittedOffsets(source, group);
          // Wait until the target group holds the translation of every source commit.
          await waitFor("group offsets synced", async () => {
            const onTarget = await fetchCommittedOffsets(target, group).catch(() => []);
            return committed.every((c) =>
              onTarget.some(
                (o) =>
                  o.partition === c.partition &&
                  o.offset >= 0n &&
                  (mode === "translate" || o.offset === c.offset),
              ),
            );
          });
          const second = await runPython<Consumed>("confluent_consume.py", [
            b.bootstrap,
            topic,
            group,
            "1000",
          ]);
          assert.equal(second.error, null);
          // A partition the group never committed on starts from the beginning (the target's
          // own earlier records included); a committed one resumes exactly.
          const committedPartitions = new Set(
            committed.filter((c) => c.offset >= 0n).map((c) => c.partition),
          );
          assert.ok(committedPartitions.size > 0);
          const reread = second.consumed.filter((c) => c.value.startsWith("old-"));
          assert.ok(
            !reread.some((c) => committedPartitions.has(c.partition)),
            "records before a synced offset are not re-read",
          );
          const all = [...first.consumed, ...second.consumed]
            .filter((c) => !c.value.startsWith("old-"))
            .map((c) => c.value);
          assert.equal(all.length, 100, `consumed ${all.length}: ${second.consumed.length} on the target`);
          assert.deepEqual([...all].sort(), [...values].sort());
        } finally {
          await link.stop();
        }
      } finally {
        await source.close();
        await target.close();
      }
    });
  }

  for (const mode of ["mirror", "translate"] as const) {
    test(`a confluent-kafka transactional producer's commits and aborts (${mode} mode): read_committed consumers see the same records on both sides`, async (t) => {
      if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
      const topic = uniqueName(`txn-${mode}`);
      const source = clusterOf(a.bootstrap);
      const target = clusterOf(b.bootstrap);
      try {
        await new Admin(source).createTopics([{ name: topic, numPartitions: 1 }]);
        // commit c0-c4, abort a0-a4, commit c5-c9, all on partition 0.
        const produced = await runPython<{ errors: string[] }>(
          "confluent_transactions.py",
          ["commit-abort", a.bootstrap, topic],
          60_000,
        );
        assert.deepEqual(produced.errors, []);
        const link = await startTestLink({
          name: uniqueName("txn"),
          source: a.bootstrap,
          target: b.bootstrap,
          filters: { topics: topic },
          mode,
        });
        try {
          const end = await endOffset(source, topic, 0);
          if (mode === "mirror") {
            await waitFor(
              "mirrored",
              async () => (await endOffset(target, topic, 0).catch(() => -1n)) === end,
            );
            assert.deepEqual(await readAllBatches(target, topic, 0), await readAllBatches(source, topic, 0));
            const [lsoSource] = await listOffsets(
              source,
              [{ topic, partition: 0, timestamp: OffsetSpec.LATEST }],
              1,
            );
            const [lsoTarget] = await listOffsets(
              target,
              [{ topic, partition: 0, timestamp: OffsetSpec.LATEST }],
              1,
            );
            assert.equal(lsoTarget?.offset, lsoSource?.offset, "the same last stable offset");
          } else {
            await waitFor(
              "translated",
              async () => (await endOffset(target, topic, 0).catch(() => -1n)) === 10n,
            );
          }
        } finally {
          await link.stop();
        }
        type Read = { values: string[]; errors: string[] };
        const onSource = await runPython<Read>("confluent_transactions.py", ["read", a.bootstrap, topic]);
        const onTarget = await runPython<Read>("confluent_transactions.py", ["read", b.bootstrap, topic]);
        assert.deepEqual(onSource.errors, []);
        assert.deepEqual(onTarget.errors, []);
        assert.deepEqual(onSource.values, ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"]);
        assert.deepEqual(onTarget.values, onSource.values);
        const uncommitted = (await readRecords(target, topic, 0)).map((r) => r.value);
        if (mode === "mirror")
          assert.ok(uncommitted.includes("a0"), "the mirror keeps the aborted records, as the source does");
        else
          assert.ok(
            !uncommitted.some((v) => v?.startsWith("a") === true),
            "translation copies committed records only",
          );
      } finally {
        await source.close();
        await target.close();
      }
    });
  }
});
