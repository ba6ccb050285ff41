// python3-kafka (kafka-python, which negotiates its own older API versions) against the
// Ferry broker: a producer, then a consumer group that reads everything and commits.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pythonModule, requirePeer } from "../helpers/peers.ts";
import { runPython, startTestBroker, uniqueName, type TestBroker } from "./broker-harness.ts";

describe("python3-kafka against the Ferry broker", () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    const problems = broker.loggedProblems();
    await broker.close();
    assert.deepEqual(problems, [], "the broker logged no warnings or errors");
  });

  test("a producer's records reach a consumer group, which commits; the group then has nothing new", async (t) => {
    if (!(await requirePeer(t, "python3-kafka", pythonModule("kafka")))) return;
    const topic = uniqueName("kp");
    const group = uniqueName("kp-g");
    const count = 60;
    const r = await runPython<{
      error: string | null;
      sent: { partition: number; offset: number }[];
      received: {
        partition: number;
        offset: number;
        key: string;
        value: string;
        headers: [string, string][];
      }[];
      assignment: number[];
      receivedAgain: number[];
      committed: Record<string, number | null>;
    }>("kafka_python_group.py", [broker.bootstrap, topic, group, String(count)]);
    assert.equal(r.error, null);
    assert.equal(r.sent.length, count);
    assert.deepEqual(r.assignment, [0, 1, 2], "the only member owns every partition");

    const sentAt = new Map(r.sent.map((s, i) => [`${s.partition}:${s.offset}`, i]));
    assert.equal(sentAt.size, count, "every send got its own offset");
    assert.equal(r.received.length, count);
    for (const m of r.received) {
      const i = sentAt.get(`${m.partition}:${m.offset}`);
      assert.ok(i !== undefined, `received ${m.partition}:${m.offset}, which was never sent`);
      assert.deepEqual([m.key, m.value, m.headers], [`k${i}`, `v${i}`, [["n", String(i)]]]);
    }
    assert.deepEqual(r.receivedAgain, [], "a new member of the group starts at the committed offsets");

    const ends: Record<string, number> = { 0: 0, 1: 0, 2: 0 };
    for (const s of r.sent)
      ends[String(s.partition)] = Math.max(ends[String(s.partition)] ?? 0, s.offset + 1);
    assert.deepEqual(r.committed, ends);
  });
});
