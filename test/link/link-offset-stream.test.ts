// Group offsets copied in the same stream as data: the link tails the source's
// __consumer_offsets, so a commit by a real client reaches the target within moments (the
// polling round here runs once a minute); an aborted transactional commit never does; a commit
// ahead of the copied records waits for them; a source that refuses the topic leaves the link
// polling, and its status says why.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test, type TestContext } from "node:test";
import { AclPattern, AclPermission, AclResource, createAcls } from "../../src/client/acls.ts";
import { Admin } from "../../src/client/admin.ts";
import type { Cluster } from "../../src/client/cluster.ts";
import { commitOffsets, fetchCommittedOffsets } from "../../src/client/group-offsets.ts";
import { Producer } from "../../src/client/producer.ts";
import type { Link, LinkOptions } from "../../src/link/link.ts";
import { linkMetricsText, linkStatus } from "../../src/link/link-status.ts";
import {
  CONSUMER_OFFSETS_TOPIC,
  decodeOffsetCommitKey,
  decodeOffsetCommitValue,
} from "../../src/protocol/consumer-offsets.ts";
import { decodeBatches } from "../../src/protocol/records/batch-codec.ts";
import { isControl } from "../../src/protocol/records/batch-header.ts";
import { runOk, runPython, startTestBroker, type TestBroker } from "../compat/broker-harness.ts";
import { pythonModule, requirePeer, SYSTEM_PYTHON } from "../helpers/peers.ts";
import { clusterOf, endOffset, readAllBatches, readRecords, startTestLink, waitFor } from "./link-helpers.ts";

const confluentKafka = pythonModule("confluent_kafka");
const TXN_OFFSETS = fileURLToPath(new URL("./python/txn_offsets.py", import.meta.url));
/** Far beyond every wait below: whatever reaches the target in these tests came through the stream. */
const POLL_EVERY_MS = 60_000;
/** Generous for a loaded CI machine, and still far below POLL_EVERY_MS. */
const STREAM_DEADLINE_MS = 15_000;

interface Pair {
  /** Stopped before the brokers close (a link stopping against closed brokers waits out its retries). */
  links: Link[];
  source: TestBroker;
  target: TestBroker;
  src: Cluster;
  tgt: Cluster;
}

async function brokers(t: TestContext, sourceSettings: Record<string, string | boolean> = {}): Promise<Pair> {
  const [source, target] = await Promise.all([startTestBroker(sourceSettings), startTestBroker()]);
  const src = clusterOf(source.bootstrap);
  const tgt = clusterOf(target.bootstrap);
  const links: Link[] = [];
  t.after(async () => {
    await Promise.allSettled(links.map((l) => l.stop()));
    await Promise.allSettled([src.close(), tgt.close()]);
    await Promise.allSettled([source.close(), target.close()]);
  });
  return { links, source, target, src, tgt };
}

async function link(pair: Pair, options: Partial<LinkOptions> & { name: string }): Promise<Link> {
  const l = await startTestLink({
    source: pair.source.bootstrap,
    target: pair.target.bootstrap,
    ...options,
    tuning: { groupsIntervalMs: POLL_EVERY_MS, ...options.tuning },
  });
  pair.links.push(l);
  return l;
}

async function produce(cluster: Cluster, topic: string, n: number, from = 0): Promise<void> {
  const p = new Producer(cluster);
  await p.send(
    topic,
    Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`v${from + i}`), partition: 0 })),
  );
  await p.close();
}

async function committedOn(cluster: Cluster, group: string, topic: string): Promise<bigint> {
  const [c] = await fetchCommittedOffsets(cluster, group, [{ topic, partition: 0 }]).catch(() => []);
  return c?.offset ?? -1n;
}

test("a real client's commits reach the target through the __consumer_offsets stream, not the once-a-minute poll", async (t) => {
  if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
  const pair = await brokers(t);
  await new Admin(pair.src).createTopics([{ name: "stream-orders", numPartitions: 1 }]);
  await produce(pair.src, "stream-orders", 30);
  const l = await link(pair, { name: "stream", filters: { topics: "stream-orders", groups: "readers" } });
  await waitFor("the stream to tail __consumer_offsets", () => l.offsetStream.state === "tailing");
  await waitFor(
    "the records to be copied",
    async () => (await endOffset(pair.tgt, "stream-orders", 0)) === 30n,
  );
  // The stream's start asks for one polling round; the next is a minute away.
  await waitFor("the polling round at the stream's start", () => l.groupPollRounds === 1);

  // Consumes 20 records, committing each one synchronously, and leaves the group.
  await runPython(
    "confluent_consume.py",
    [pair.source.bootstrap, "stream-orders", "readers", "20"],
    STREAM_DEADLINE_MS,
  );
  assert.equal(await committedOn(pair.src, "readers", "stream-orders"), 20n);
  await waitFor(
    () => `the commit on the target (${JSON.stringify(linkStatus(l).groupCommitStream)})`,
    async () => (await committedOn(pair.tgt, "readers", "stream-orders")) === 20n,
    STREAM_DEADLINE_MS,
  );
  const stream = linkStatus(l).groupCommitStream;
  assert.equal(stream.state, "tailing");
  assert.ok(stream.commitsRead >= 1 && stream.commitsReplicated >= 1, JSON.stringify(stream));
  assert.ok(stream.latencyMs.count >= 1);
  // The one polling round ran when the stream started, before the group existed.
  assert.equal(l.groupPollRounds, 1);
  assert.ok(
    l.groups.every((g) => g.committed === 0),
    JSON.stringify(l.groups),
  );
  const metrics = linkMetricsText([l]);
  assert.match(metrics, /^ferry_link_group_commit_stream_tailing\{link="stream"\} 1$/m);
  assert.match(metrics, /^ferry_link_group_commits_replicated_total\{link="stream"\} [1-9]\d*$/m);
  assert.match(metrics, /^ferry_link_group_commit_latency_seconds_count\{link="stream"\} [1-9]\d*$/m);
});

test("an aborted transactional offset commit never reaches the target; the committed one does", async (t) => {
  if (!(await requirePeer(t, "python3-confluent-kafka", confluentKafka))) return;
  const pair = await brokers(t);
  await new Admin(pair.src).createTopics([{ name: "txn-orders", numPartitions: 1 }]);
  await produce(pair.src, "txn-orders", 10);
  const l = await link(pair, { name: "txn", filters: { topics: "txn-orders", groups: "txn-readers" } });
  await waitFor("the stream to tail __consumer_offsets", () => l.offsetStream.state === "tailing");
  await waitFor("the records to be copied", async () => (await endOffset(pair.tgt, "txn-orders", 0)) === 10n);

  // Aborted: offset 9; then committed: offset 4. Had the aborted one leaked, the target would
  // hold 9, and 4 (lower) would never replace it.
  await runOk(SYSTEM_PYTHON, [TXN_OFFSETS, pair.source.bootstrap, "txn-orders", "txn-readers", "9", "4"], {
    timeoutMs: 60_000,
  });
  assert.equal(await committedOn(pair.src, "txn-readers", "txn-orders"), 4n);
  // Both commits are in the source's log; read_committed hides the aborted one.
  const logged: bigint[] = [];
  for (const b of decodeBatches(await readAllBatches(pair.src, CONSUMER_OFFSETS_TOPIC, 0))) {
    if (isControl(b.header.attributes)) continue;
    for (const r of b.records) {
      const key = r.key === null ? undefined : decodeOffsetCommitKey(r.key);
      if (key?.groupId === "txn-readers" && r.value !== null)
        logged.push(decodeOffsetCommitValue(r.value).offset);
    }
  }
  assert.deepEqual(logged, [9n, 4n]);

  await waitFor(
    "the committed offset on the target",
    async () => (await committedOn(pair.tgt, "txn-readers", "txn-orders")) === 4n,
    STREAM_DEADLINE_MS,
  );
  const stream = linkStatus(l).groupCommitStream;
  assert.equal(stream.commitsRead, 1, "only the committed transaction's offset was read");
  assert.equal(stream.commitsReplicated, 1);
});

test("a commit ahead of the copied records waits for them, then goes at once (translation mode)", async (t) => {
  const pair = await brokers(t);
  await new Admin(pair.src).createTopics([{ name: "ahead", numPartitions: 1 }]);
  // The target topic already holds 3 records of its own: source offset o lands at o + 3.
  await new Admin(pair.tgt).createTopics([{ name: "ahead", numPartitions: 1 }]);
  await produce(pair.tgt, "ahead", 3, 1000);
  await produce(pair.src, "ahead", 5);
  const l = await link(pair, {
    name: "ahead",
    mode: "translate",
    filters: { topics: "ahead", groups: "g-ahead" },
  });
  await waitFor("the stream to tail __consumer_offsets", () => l.offsetStream.state === "tailing");
  await waitFor("the records to be copied", async () => (await endOffset(pair.tgt, "ahead", 0)) === 8n);

  // A consumer ahead of the link: it committed offset 8 where the link has copied up to 5
  // (Kafka accepts a commit past the log end, so the records can come after the commit).
  await commitOffsets(pair.src, "g-ahead", [{ topic: "ahead", partition: 0, offset: 8n }]);
  await waitFor("the commit to be read and held", () => l.commitRelay.pending === 1);
  assert.equal(await committedOn(pair.tgt, "g-ahead", "ahead"), -1n, "held while its records are missing");

  await produce(pair.src, "ahead", 5, 5);
  await waitFor(
    "the translated commit on the target",
    async () => (await committedOn(pair.tgt, "g-ahead", "ahead")) === 11n,
    STREAM_DEADLINE_MS,
  );
  // Source offset 7 (v7) is at target offset 10: the committed 11 resumes right after it.
  const onTarget = await readRecords(pair.tgt, "ahead", 0);
  assert.equal(onTarget.find((r) => r.offset === 10n)?.value, "v7");
  assert.equal(l.commitRelay.pending, 0);
  assert.equal(linkStatus(l).groupCommitStream.commitsReplicated, 1);
});

test("a source that denies reading __consumer_offsets leaves the link polling, and its status says why", async (t) => {
  const pair = await brokers(t, {
    "authorizer.class.name": "ferry",
    "allow.everyone.if.no.acl.found": true,
  });
  await new Admin(pair.src).createTopics([{ name: "denied", numPartitions: 1 }]);
  await produce(pair.src, "denied", 5);
  await createAcls(pair.src, [
    {
      resourceType: AclResource.TOPIC,
      resourceName: CONSUMER_OFFSETS_TOPIC,
      patternType: AclPattern.LITERAL,
      principal: "User:ANONYMOUS",
      host: "*",
      operation: 3, // READ
      permissionType: AclPermission.DENY,
    },
  ]);
  await commitOffsets(pair.src, "polled", [{ topic: "denied", partition: 0, offset: 4n }]);
  const l = await link(pair, {
    name: "denied",
    filters: { topics: "denied", groups: "polled" },
    tuning: { groupsIntervalMs: 200 },
  });
  await waitFor("the link to fall back to polling", () => l.offsetStream.state === "polling-only");
  const stream = linkStatus(l).groupCommitStream;
  assert.match(stream.reason ?? "", /__consumer_offsets.*TOPIC_AUTHORIZATION_FAILED/);
  assert.match(linkMetricsText([l]), /^ferry_link_group_commit_stream_tailing\{link="denied"\} 0$/m);
  // The polling round still syncs the group.
  await waitFor(
    "the polled offset on the target",
    async () => (await committedOn(pair.tgt, "polled", "denied")) === 4n,
  );
});
