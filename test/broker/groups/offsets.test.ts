// OffsetCommit and OffsetFetch: generation checks, standalone commits, metadata limits,
// durability before the answer, and retention.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { MemoryGroupStore, type StoredRecord } from "../../../src/broker/groups/group-store.ts";
import { settle } from "./fake-time.ts";
import { formGroup, SESSION_MS, startHarness, TEST_CONFIG } from "./helpers.ts";

const T0 = { topic: "t", partition: 0, offset: 42n };

test("a member commits offsets for its generation and fetches them back", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  assert.deepEqual(await h.api.commitOffsets("g", m.generationId, m.memberId, [T0]), [ErrorCode.NONE]);
  assert.equal(await h.api.committed("g", "t", 0), 42n);
});

test("a partition never committed fetches as offset -1 with no error", async () => {
  const h = await startHarness();
  const res = await h.api.fetch({
    groups: [{ groupId: "g", topics: [{ name: "t", partitionIndexes: [3] }] }],
  });
  assert.deepEqual(res.groups[0]?.topics[0]?.partitions[0], {
    partitionIndex: 3,
    committedOffset: -1n,
    committedLeaderEpoch: -1,
    metadata: "",
    errorCode: ErrorCode.NONE,
  });
});

test("a commit with an old generation is ILLEGAL_GENERATION", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  assert.deepEqual(await h.api.commitOffsets("g", 0, m.memberId, [T0]), [ErrorCode.ILLEGAL_GENERATION]);
});

test("a commit from a member not in the group is UNKNOWN_MEMBER_ID", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  assert.deepEqual(await h.api.commitOffsets("g", m.generationId, "stranger", [T0]), [
    ErrorCode.UNKNOWN_MEMBER_ID,
  ]);
});

test("an anonymous commit (generation -1) to a group with members is UNKNOWN_MEMBER_ID", async () => {
  const h = await startHarness();
  await formGroup(h, "g", 1);
  assert.deepEqual(await h.api.commitOffsets("g", -1, "", [T0]), [ErrorCode.UNKNOWN_MEMBER_ID]);
});

test("a commit while the group awaits the leader's assignment is REBALANCE_IN_PROGRESS", async () => {
  const h = await startHarness();
  const a = await h.api.join({ groupId: "g", memberId: "" });
  const pending = h.api.join({ groupId: "g", memberId: a.memberId });
  await h.time.advance(TEST_CONFIG.initialRebalanceDelayMs ?? 0);
  const joined = await pending;
  assert.deepEqual(await h.api.commitOffsets("g", joined.generationId, joined.memberId, [T0]), [
    ErrorCode.REBALANCE_IN_PROGRESS,
  ]);
});

test("a member of the previous generation may still commit while the group prepares a rebalance", async () => {
  const h = await startHarness();
  const [m0, m1] = await formGroup(h, "g", 2);
  assert.ok(m0 && m1);
  void h.api.join({ groupId: "g", memberId: m0.memberId });
  assert.deepEqual(await h.api.commitOffsets("g", m1.generationId, m1.memberId, [T0]), [ErrorCode.NONE]);
});

test("a standalone consumer (generation -1) commits to a group that does not exist yet", async () => {
  const h = await startHarness();
  assert.deepEqual(await h.api.commitOffsets("solo", -1, "", [T0]), [ErrorCode.NONE]);
  assert.equal(await h.api.committed("solo", "t", 0), 42n);
  const [g] = await h.api.describe(["solo"]);
  assert.equal(g?.groupState, "Empty");
  assert.equal(g?.protocolType, "");
});

test("OffsetCommit v0 commits as a standalone consumer", async () => {
  const h = await startHarness();
  assert.deepEqual(await h.api.commitOffsets("old", -1, "", [T0], 0), [ErrorCode.NONE]);
  assert.equal(await h.api.committed("old", "t", 0), 42n);
});

test("a commit with a generation to an unknown group is ILLEGAL_GENERATION before v9, GROUP_ID_NOT_FOUND from v9", async () => {
  const h = await startHarness();
  assert.deepEqual(await h.api.commitOffsets("nope", 1, "m", [T0], 8), [ErrorCode.ILLEGAL_GENERATION]);
  assert.deepEqual(await h.api.commitOffsets("nope", 1, "m", [T0], 9), [ErrorCode.GROUP_ID_NOT_FOUND]);
});

test("metadata over offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE for that partition only", async () => {
  const h = await startHarness({ config: { offsetMetadataMaxBytes: 8 } });
  const errors = await h.api.commitOffsets("s", -1, "", [
    { topic: "t", partition: 0, offset: 1n, metadata: "123456789" },
    { topic: "t", partition: 1, offset: 2n, metadata: "12345678" },
  ]);
  assert.deepEqual(errors, [ErrorCode.OFFSET_METADATA_TOO_LARGE, ErrorCode.NONE]);
  assert.equal(await h.api.committed("s", "t", 0), -1n);
  assert.equal(await h.api.committed("s", "t", 1), 2n);
});

test("a partition that does not exist is UNKNOWN_TOPIC_OR_PARTITION and does not block the others", async () => {
  const h = await startHarness({ partitionExists: (topic, partition) => topic === "t" && partition < 2 });
  const errors = await h.api.commitOffsets("s", -1, "", [
    { topic: "t", partition: 0, offset: 1n },
    { topic: "t", partition: 5, offset: 1n },
    { topic: "missing", partition: 0, offset: 1n },
  ]);
  assert.deepEqual(errors, [
    ErrorCode.NONE,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ]);
});

test("the committed leader epoch (v6+) and metadata come back on fetch", async () => {
  const h = await startHarness();
  await h.api.commit({
    groupId: "s",
    generationIdOrMemberEpoch: -1,
    topics: [
      {
        name: "t",
        partitions: [
          { partitionIndex: 0, committedOffset: 7n, committedLeaderEpoch: 3, committedMetadata: "m" },
        ],
      },
    ],
  });
  const res = await h.api.fetch({ groupId: "s", topics: [{ name: "t", partitionIndexes: [0] }] }, 5);
  assert.deepEqual(res.topics[0]?.partitions[0], {
    partitionIndex: 0,
    committedOffset: 7n,
    committedLeaderEpoch: 3,
    metadata: "m",
    errorCode: ErrorCode.NONE,
  });
});

test("OffsetFetch with null topics (v2+) returns every committed partition", async () => {
  const h = await startHarness();
  await h.api.commitOffsets("s", -1, "", [
    { topic: "a", partition: 0, offset: 1n },
    { topic: "a", partition: 1, offset: 2n },
    { topic: "b", partition: 0, offset: 3n },
  ]);
  const res = await h.api.fetch({ groupId: "s", topics: null }, 2);
  assert.equal(res.errorCode, ErrorCode.NONE);
  const all = res.topics.flatMap((t) =>
    t.partitions.map((p) => `${t.name}-${p.partitionIndex}=${p.committedOffset}`),
  );
  assert.deepEqual(all.sort(), ["a-0=1", "a-1=2", "b-0=3"]);
});

test("OffsetFetch v8 answers several groups in one request", async () => {
  const h = await startHarness();
  await h.api.commitOffsets("g1", -1, "", [{ topic: "t", partition: 0, offset: 1n }]);
  await h.api.commitOffsets("g2", -1, "", [{ topic: "t", partition: 0, offset: 2n }]);
  const res = await h.api.fetch(
    {
      groups: [
        { groupId: "g1", topics: [{ name: "t", partitionIndexes: [0] }] },
        { groupId: "g2", topics: null },
      ],
    },
    8,
  );
  assert.deepEqual(
    res.groups.map((g) => [g.groupId, g.topics[0]?.partitions[0]?.committedOffset]),
    [
      ["g1", 1n],
      ["g2", 2n],
    ],
  );
});

/** A store whose appends wait until the test releases (or fails) them. */
class GatedStore extends MemoryGroupStore {
  readonly gates: { resolve: () => void; reject: (e: Error) => void }[] = [];

  override append(records: StoredRecord[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.gates.push({
        resolve: () => {
          this.records.push(...records);
          resolve();
        },
        reject,
      });
    });
  }
}

test("a commit is answered only after the store has the offsets", async () => {
  const store = new GatedStore();
  const h = await startHarness({ store });
  let answered = false;
  const commit = h.api.commitOffsets("s", -1, "", [T0]).then((errors) => {
    answered = true;
    return errors;
  });
  await settle();
  assert.equal(answered, false);
  assert.equal(await h.api.committed("s", "t", 0), -1n, "not visible before it is durable");
  store.gates[0]?.resolve();
  assert.deepEqual(await commit, [ErrorCode.NONE]);
  assert.equal(await h.api.committed("s", "t", 0), 42n);
});

test("a commit the store fails is answered with a retriable error and is not visible", async () => {
  const store = new GatedStore();
  const h = await startHarness({ store });
  const commit = h.api.commitOffsets("s", -1, "", [T0]);
  await settle();
  store.gates[0]?.reject(new Error("EIO: disk on fire"));
  assert.deepEqual(await commit, [ErrorCode.NOT_COORDINATOR]);
  assert.equal(await h.api.committed("s", "t", 0), -1n);
});

test("OffsetFetch with requireStable (v7+) waits for commits still being written", async () => {
  const store = new GatedStore();
  const h = await startHarness({ store });
  void h.api.commitOffsets("s", -1, "", [T0]);
  await settle();
  const fetch = h.api.fetch(
    { groupId: "s", topics: [{ name: "t", partitionIndexes: [0] }], requireStable: true },
    7,
  );
  await settle();
  store.gates[0]?.resolve();
  assert.equal((await fetch).topics[0]?.partitions[0]?.committedOffset, 42n);
});

test("commits keep a Stable member's session alive", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  for (let i = 0; i < 3; i++) {
    await h.time.advance(SESSION_MS - 1);
    assert.deepEqual(await h.api.commitOffsets("g", m.generationId, m.memberId, [T0]), [ErrorCode.NONE]);
  }
  const [g] = await h.api.describe(["g"]);
  assert.equal(g?.groupState, "Stable");
});

const RETENTION = TEST_CONFIG.offsetsRetentionMs ?? 0;

test("offsets of a group that became Empty expire offsets.retention after it became Empty", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  await h.api.commitOffsets("g", m.generationId, m.memberId, [T0]);
  await h.api.leave({ groupId: "g", members: [{ memberId: m.memberId, groupInstanceId: null }] });
  await h.time.advance(RETENTION - 1);
  assert.equal(await h.coordinator.cleanupExpiredOffsets(), 0);
  await h.time.advance(1);
  assert.equal(await h.coordinator.cleanupExpiredOffsets(), 1);
  assert.equal(await h.api.committed("g", "t", 0), -1n);
  assert.deepEqual(
    (await h.api.list()).groups.map((g) => g.groupId),
    [],
    "an Empty group without offsets is deleted",
  );
});

test("offsets of topics a Stable group subscribes to never expire", async () => {
  const h = await startHarness({ config: { offsetsRetentionCheckIntervalMs: 10 * RETENTION } });
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  await h.api.commitOffsets("g", m.generationId, m.memberId, [
    T0,
    { topic: "other", partition: 0, offset: 1n },
  ]);
  for (let waited = 0; waited < RETENTION; waited += SESSION_MS / 2) {
    await h.time.advance(SESSION_MS / 2);
    assert.equal(
      await h.api.heartbeat({ groupId: "g", generationId: m.generationId, memberId: m.memberId }),
      0,
    );
  }
  assert.equal(await h.coordinator.cleanupExpiredOffsets(), 1);
  assert.equal(await h.api.committed("g", "t", 0), 42n);
  assert.equal(await h.api.committed("g", "other", 0), -1n);
});

test("a v2 commit's retentionTimeMs sets its own expiry", async () => {
  const h = await startHarness();
  await h.api.commit(
    {
      groupId: "s",
      generationIdOrMemberEpoch: -1,
      retentionTimeMs: 1000n,
      topics: [{ name: "t", partitions: [{ partitionIndex: 0, committedOffset: 5n }] }],
    },
    2,
  );
  await h.time.advance(1000);
  assert.equal(await h.coordinator.cleanupExpiredOffsets(), 1);
});

test("expired offsets are cleaned up on the offsets.retention.check.interval.ms schedule", async () => {
  const h = await startHarness();
  await h.api.commitOffsets("s", -1, "", [T0]);
  await h.time.advance(RETENTION + (TEST_CONFIG.offsetsRetentionCheckIntervalMs ?? 0));
  assert.equal(await h.api.committed("s", "t", 0), -1n);
});

test("deleted topics lose their committed offsets in every group", async () => {
  const h = await startHarness();
  await h.api.commitOffsets("a", -1, "", [T0, { topic: "keep", partition: 0, offset: 1n }]);
  await h.api.commitOffsets("b", -1, "", [T0]);
  assert.equal(await h.coordinator.deleteTopicOffsets(["t"]), 2);
  assert.equal(await h.api.committed("a", "t", 0), -1n);
  assert.equal(await h.api.committed("b", "t", 0), -1n);
  assert.equal(await h.api.committed("a", "keep", 0), 1n);
});
