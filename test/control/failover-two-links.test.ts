// Two links from one source cluster to one target, identity naming, different topics: each
// mirror topic records its link (ferry.mirror.link), so a failover promotes only its own
// link's topics, and a third link never writes a mirror another link owns.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Admin, ResourceType } from "../../src/client/admin.ts";
import { listOffsets, OffsetSpec } from "../../src/client/offsets.ts";
import { Producer } from "../../src/client/producer.ts";
import { failover } from "../../src/control/failover.ts";
import type { Link } from "../../src/link/link.ts";
import { linkStatus } from "../../src/link/link-status.ts";
import { startTestBroker, type TestBroker } from "../compat/broker-harness.ts";
import { clusterOf, startTestLink, waitFor } from "../link/link-helpers.ts";

describe("two links between the same clusters", { timeout: 60_000 }, () => {
  let a: TestBroker;
  let b: TestBroker;
  const links: Link[] = [];

  async function targetEnd(topic: string): Promise<bigint> {
    const tgt = clusterOf(b.bootstrap);
    try {
      const [end] = await listOffsets(tgt, [{ topic, partition: 0, timestamp: OffsetSpec.LATEST }]);
      return end?.offset ?? -1n;
    } catch {
      return -1n;
    } finally {
      await tgt.close();
    }
  }

  async function mirrorConfigs(topic: string): Promise<Record<string, string | null>> {
    const tgt = clusterOf(b.bootstrap);
    try {
      const entries = await new Admin(tgt).describeConfigs(ResourceType.TOPIC, topic, [
        "ferry.mirror.source",
        "ferry.mirror.link",
      ]);
      return Object.fromEntries(entries.map((e) => [e.name, e.value]));
    } finally {
      await tgt.close();
    }
  }

  async function produce(topic: string, n: number): Promise<void> {
    const src = clusterOf(a.bootstrap);
    const producer = new Producer(src, { acks: -1 });
    for (let i = 0; i < n; i++) await producer.send(topic, [{ value: Buffer.from(`${topic}-${i}`) }]);
    await src.close();
  }

  before(async () => {
    [a, b] = await Promise.all([startTestBroker(), startTestBroker()]);
    const src = clusterOf(a.bootstrap);
    await new Admin(src).createTopics(
      ["left", "right"].map((name) => ({ name, numPartitions: 1, replicationFactor: -1 })),
    );
    await src.close();
    await produce("left", 5);
    await produce("right", 5);
    for (const side of ["left", "right"]) {
      links.push(
        await startTestLink({
          name: `${side}-link`,
          source: a.bootstrap,
          target: b.bootstrap,
          filters: { topics: side },
        }),
      );
    }
    await waitFor(
      "both mirrors to catch up",
      async () => (await targetEnd("left")) === 5n && (await targetEnd("right")) === 5n,
    );
  });
  after(async () => {
    for (const l of links) await l.stop();
    await Promise.all([a.close(), b.close()]);
  });

  test("each mirror topic names the link that writes it", async () => {
    assert.equal((await mirrorConfigs("left"))["ferry.mirror.link"], "left-link");
    assert.equal((await mirrorConfigs("right"))["ferry.mirror.link"], "right-link");
  });

  test("a third link refuses a mirror topic another link owns, and writes nothing to it", async () => {
    const intruder = await startTestLink({
      name: "intruder",
      source: a.bootstrap,
      target: b.bootstrap,
      filters: { topics: "right" },
    });
    links.push(intruder);
    await waitFor("the intruder to report the conflict", () =>
      linkStatus(intruder).failedTopics.some((t) => t.topic === "right" && t.error.includes("right-link")),
    );
    assert.deepEqual(linkStatus(intruder).topics, [], "right is not attached to the intruder");
    await intruder.stop();
    links.pop();
  });

  test("failing over one link promotes its topics only; the other link goes on copying", async () => {
    await links[0]?.stop();
    const report = await failover({ link: "left-link", target: b.bootstrap, force: true });
    assert.deepEqual(report.promotedTopics, ["left"]);
    assert.deepEqual(await mirrorConfigs("left"), {}, "left is an ordinary topic now");
    assert.equal(
      (await mirrorConfigs("right"))["ferry.mirror.link"],
      "right-link",
      "right is still a mirror",
    );
    await produce("right", 3);
    await waitFor("right-link to copy the new records", async () => (await targetEnd("right")) === 8n);
  });
});
