// The classic-protocol group member against the Ferry broker and librdkafka's mock cluster:
// a lone member owns every partition, members joining and leaving rebalance the partitions
// with no overlap and nothing left out, and commits land in the member's generation.
import assert from "node:assert/strict";
import { after, before, test, type TestContext } from "node:test";
import { Admin } from "../../src/client/admin.ts";
import { roundRobinAssignor } from "../../src/client/assignors.ts";
import { Cluster } from "../../src/client/cluster.ts";
import { BrokerError } from "../../src/client/errors.ts";
import {
  GroupMember,
  type GroupMemberOptions,
  type MemberAssignment,
} from "../../src/client/group-member.ts";
import { fetchCommittedOffsets } from "../../src/client/group-offsets.ts";
import { ErrorCode } from "../../src/protocol/error-codes.ts";
import { startTestBroker, type TestBroker } from "../broker/broker-helpers.ts";
import { mockClusterBuilds, startMockCluster } from "../helpers/mock-cluster.ts";
import { requirePeer } from "../helpers/peers.ts";

const PARTITIONS = 6;

let broker: TestBroker;
let cluster: Cluster;

before(async () => {
  broker = await startTestBroker({
    "group.initial.rebalance.delay.ms": 0,
    "group.min.session.timeout.ms": 500,
  });
  cluster = new Cluster({ bootstrap: `${broker.host}:${broker.port}` });
});

after(async () => {
  await cluster.close();
  await broker.destroy();
});

/** A member that records every assignment it is given and fails the test on background errors. */
class RecordingMember {
  readonly member: GroupMember;
  readonly assigned: MemberAssignment[] = [];
  readonly revoked: MemberAssignment[] = [];
  errors: unknown[] = [];

  constructor(c: Cluster, options: Omit<GroupMemberOptions, "onAssigned" | "onRevoked" | "onError">) {
    this.member = new GroupMember(c, {
      sessionTimeoutMs: 3000,
      rebalanceTimeoutMs: 10_000,
      heartbeatIntervalMs: 100,
      ...options,
      onAssigned: (a) => void this.assigned.push(a),
      onRevoked: (a) => void this.revoked.push(a),
      onError: (e) => void this.errors.push(e),
    });
  }

  /** Waits until the member's current assignment satisfies `check`. */
  async settled(check: (a: MemberAssignment) => boolean, timeoutMs = 10_000): Promise<MemberAssignment> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      assert.deepEqual(this.errors, []);
      const a = this.member.assignment;
      if (a.size > 0 && check(a)) return a;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`assignment did not settle: ${JSON.stringify([...this.member.assignment])}`);
  }
}

function partitionsOf(a: MemberAssignment, topic: string): number[] {
  return [...(a.get(topic) ?? [])];
}

async function createTopic(name: string, partitions = PARTITIONS): Promise<void> {
  await new Admin(cluster).createTopics([{ name, numPartitions: partitions, replicationFactor: 1 }]);
}

const ALL = Array.from({ length: PARTITIONS }, (_, i) => i);

test("a lone member is assigned every partition of its topic", async (t) => {
  await createTopic("gm-lone");
  const m = new RecordingMember(cluster, { groupId: "gm-lone", topics: ["gm-lone"] });
  t.after(() => m.member.close());
  const assignment = await m.member.join();
  assert.deepEqual(partitionsOf(assignment, "gm-lone"), ALL);
  assert.ok(m.member.isLeader);
  assert.ok(m.member.generationId >= 1);
  assert.notEqual(m.member.memberId, "");
  assert.equal(m.assigned.length, 1);
});

test("a second member joining splits the partitions with no overlap and full coverage", async (t) => {
  await createTopic("gm-split");
  const options = { groupId: "gm-split", topics: ["gm-split"] };
  const first = new RecordingMember(cluster, options);
  const second = new RecordingMember(cluster, options);
  t.after(() => Promise.all([first.member.close(), second.member.close()]));
  await first.member.join();
  const secondAssignment = await second.member.join();
  const firstAssignment = await first.settled((a) => partitionsOf(a, "gm-split").length < PARTITIONS);
  const a = partitionsOf(firstAssignment, "gm-split");
  const b = partitionsOf(secondAssignment, "gm-split");
  assert.equal(a.length, PARTITIONS / 2);
  assert.equal(b.length, PARTITIONS / 2);
  assert.deepEqual(
    [...a, ...b].sort((x, y) => x - y),
    ALL,
  );
  assert.equal(first.member.generationId, second.member.generationId);
  // The eager protocol revokes everything before rejoining.
  assert.deepEqual(partitionsOf(first.revoked[0] ?? new Map(), "gm-split"), ALL);
});

test("when a member leaves, the remaining member gets every partition back", async (t) => {
  await createTopic("gm-leave");
  const options = { groupId: "gm-leave", topics: ["gm-leave"], assignors: [roundRobinAssignor] };
  const first = new RecordingMember(cluster, options);
  const second = new RecordingMember(cluster, options);
  t.after(() => Promise.all([first.member.close(), second.member.close()]));
  await first.member.join();
  await second.member.join();
  await first.settled((a) => partitionsOf(a, "gm-leave").length === PARTITIONS / 2);
  const generation = first.member.generationId;
  await second.member.close();
  const back = await first.settled((a) => partitionsOf(a, "gm-leave").length === PARTITIONS);
  assert.deepEqual(partitionsOf(back, "gm-leave"), ALL);
  assert.ok(first.member.generationId > generation);
  assert.deepEqual(second.member.assignment, new Map());
});

test("a member's commit is what fetchCommittedOffsets returns", async (t) => {
  await createTopic("gm-commit", 2);
  const m = new RecordingMember(cluster, { groupId: "gm-commit", topics: ["gm-commit"] });
  t.after(() => m.member.close());
  await m.member.join();
  await m.member.commit([
    { topic: "gm-commit", partition: 0, offset: 42n, metadata: "m" },
    { topic: "gm-commit", partition: 1, offset: 7n },
  ]);
  const committed = await fetchCommittedOffsets(cluster, "gm-commit", [
    { topic: "gm-commit", partition: 0 },
    { topic: "gm-commit", partition: 1 },
  ]);
  assert.deepEqual(
    committed.map((c) => [c.partition, c.offset, c.metadata]),
    [
      [0, 42n, "m"],
      [1, 7n, ""],
    ],
  );
});

test("joining with an assignor the group does not share fails with INCONSISTENT_GROUP_PROTOCOL", async (t) => {
  await createTopic("gm-protocol", 2);
  const first = new RecordingMember(cluster, { groupId: "gm-protocol", topics: ["gm-protocol"] });
  t.after(() => first.member.close());
  await first.member.join();
  const other = new RecordingMember(cluster, {
    groupId: "gm-protocol",
    topics: ["gm-protocol"],
    assignors: [roundRobinAssignor],
  });
  await assert.rejects(
    other.member.join(),
    (e: unknown) => e instanceof BrokerError && e.code === ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
});

// The mock parks a first JoinGroup for a fixed 3 s and drops members whose session ends
// meanwhile, so the session timeout leaves a wide margin; the test timeout keeps a stuck
// mock from stalling the suite.
test(
  "two members on librdkafka's mock cluster split the partitions and commit",
  { timeout: 90_000 },
  async (t: TestContext) => {
    if (!(await requirePeer(t, "librdkafka mock cluster", mockClusterBuilds))) return;
    const mock = await startMockCluster({ brokers: 3, topics: ["shared:4"] });
    const c = new Cluster({ bootstrap: mock.bootstrap, retries: 30, retryBackoffMaxMs: 300 });
    const options = {
      groupId: "mock-group",
      topics: ["shared"],
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 200,
    };
    const first = new RecordingMember(c, options);
    const second = new RecordingMember(c, options);
    t.after(async () => {
      await Promise.all([first.member.close(), second.member.close()]);
      await c.close();
      await mock.close();
    });
    assert.deepEqual(partitionsOf(await first.member.join(), "shared"), [0, 1, 2, 3]);
    const b = partitionsOf(await second.member.join(), "shared");
    const a = partitionsOf(
      await first.settled((x) => partitionsOf(x, "shared").length < 4, 20_000),
      "shared",
    );
    assert.deepEqual([...a, ...b].sort(), [0, 1, 2, 3]);
    assert.equal(a.length + b.length, 4);
    await second.member.commit([{ topic: "shared", partition: b[0] ?? 0, offset: 5n }]);
    const [committed] = await fetchCommittedOffsets(c, "mock-group", [
      { topic: "shared", partition: b[0] ?? 0 },
    ]);
    assert.equal(committed?.offset, 5n);
    await second.member.close();
    await first.settled((x) => partitionsOf(x, "shared").length === 4, 20_000);
  },
);
