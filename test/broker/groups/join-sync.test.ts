// JoinGroup and SyncGroup: member ids, the initial delayed rebalance, leader election,
// protocol choice and assignment distribution, on a fake clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeAssignment } from "../../../src/protocol/consumer-protocol.ts";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { MemoryGroupStore, type StoredRecord } from "../../../src/broker/groups/group-store.ts";
import {
  assignment,
  FIRST_JOIN_WAIT_MS,
  formGroup,
  startHarness,
  subscription,
  TEST_CONFIG,
} from "./helpers.ts";

const DELAY = TEST_CONFIG.initialRebalanceDelayMs ?? 0;

test("a first JoinGroup v4+ without a member id gets MEMBER_ID_REQUIRED and a clientId-uuid id", async () => {
  const h = await startHarness();
  const res = await h.api.join({ groupId: "g", memberId: "" }, 4, "my-client");
  assert.equal(res.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.match(res.memberId, /^my-client-[0-9a-f-]{36}$/);
  assert.equal(res.generationId, -1);
});

test("a member rejoining with the id it was given is admitted into generation 1", async () => {
  const h = await startHarness();
  const { memberId } = await h.api.join({ groupId: "g", memberId: "" }, 4);
  const pending = h.api.join({ groupId: "g", memberId }, 4);
  await h.time.advance(DELAY);
  const res = await pending;
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.equal(res.memberId, memberId);
  assert.equal(res.generationId, 1);
  assert.equal(res.leader, memberId);
});

test("JoinGroup before v4 admits a new member at once, without MEMBER_ID_REQUIRED", async () => {
  const h = await startHarness();
  const pending = h.api.join({ groupId: "g", memberId: "" }, 3, "old-client");
  await h.time.advance(DELAY);
  const res = await pending;
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.match(res.memberId, /^old-client-/);
  assert.equal(res.generationId, 1);
});

test("the initial rebalance waits group.initial.rebalance.delay.ms before answering", async () => {
  const h = await startHarness();
  let answered = false;
  const pending = h.api.join({ groupId: "g", memberId: "" }, 3).then((r) => {
    answered = true;
    return r;
  });
  await h.time.advance(DELAY - 1);
  assert.equal(answered, false);
  await h.time.advance(1);
  assert.equal((await pending).generationId, 1);
});

test("two members joining get generation 1 and one leader who receives both members' metadata", async () => {
  const h = await startHarness();
  const a = await h.api.join({ groupId: "g", memberId: "" }, 9, "a");
  const b = await h.api.join({ groupId: "g", memberId: "" }, 9, "b");
  const metaA = subscription(["t"], Buffer.from("A"));
  const metaB = subscription(["t"], Buffer.from("B"));
  const ja = h.api.join({
    groupId: "g",
    memberId: a.memberId,
    protocols: [{ name: "range", metadata: metaA }],
  });
  const jb = h.api.join({
    groupId: "g",
    memberId: b.memberId,
    protocols: [{ name: "range", metadata: metaB }],
  });
  await h.time.advance(FIRST_JOIN_WAIT_MS);
  const [ra, rb] = await Promise.all([ja, jb]);
  assert.equal(ra.generationId, 1);
  assert.equal(rb.generationId, 1);
  assert.equal(ra.leader, rb.leader);
  assert.equal(ra.protocolName, "range");
  assert.equal(ra.protocolType, "consumer");
  assert.equal(ra.skipAssignment, false);
  const [leader, follower] = ra.leader === a.memberId ? [ra, rb] : [rb, ra];
  assert.deepEqual(follower.members, []);
  const byId = new Map(leader.members.map((m) => [m.memberId, m.metadata]));
  assert.deepEqual(byId.get(a.memberId), metaA);
  assert.deepEqual(byId.get(b.memberId), metaB);
});

test("the group picks the protocol all members support that most of them prefer", async () => {
  const h = await startHarness();
  const meta = subscription(["t"]);
  const a = await h.api.join({ groupId: "g", memberId: "" });
  const b = await h.api.join({ groupId: "g", memberId: "" });
  const ja = h.api.join({
    groupId: "g",
    memberId: a.memberId,
    protocols: [
      { name: "roundrobin", metadata: meta },
      { name: "range", metadata: meta },
    ],
  });
  const jb = h.api.join({
    groupId: "g",
    memberId: b.memberId,
    protocols: [
      { name: "sticky", metadata: meta },
      { name: "roundrobin", metadata: meta },
    ],
  });
  await h.time.advance(FIRST_JOIN_WAIT_MS);
  const [ra] = await Promise.all([ja, jb]);
  assert.equal(ra.protocolName, "roundrobin");
});

test("a member whose protocols share none with the group gets INCONSISTENT_GROUP_PROTOCOL", async () => {
  const h = await startHarness();
  await formGroup(h, "g", 1);
  const res = await h.api.join({
    groupId: "g",
    memberId: "",
    protocols: [{ name: "other", metadata: Buffer.alloc(0) }],
  });
  assert.equal(res.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(res.memberId, "");
});

test("a member with another protocol type gets INCONSISTENT_GROUP_PROTOCOL", async () => {
  const h = await startHarness();
  await formGroup(h, "g", 1);
  const res = await h.api.join({ groupId: "g", memberId: "", protocolType: "connect" });
  assert.equal(res.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
});

test("a session timeout outside the group.min/max.session.timeout.ms bounds is INVALID_SESSION_TIMEOUT", async () => {
  const h = await startHarness();
  const low = await h.api.join({ groupId: "g", memberId: "", sessionTimeoutMs: 999 });
  const high = await h.api.join({ groupId: "g", memberId: "", sessionTimeoutMs: 60_001 });
  assert.equal(low.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal(high.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
});

test("an empty group id is INVALID_GROUP_ID for JoinGroup", async () => {
  const h = await startHarness();
  const res = await h.api.join({ groupId: "", memberId: "" });
  assert.equal(res.errorCode, ErrorCode.INVALID_GROUP_ID);
});

test("a member id the coordinator never gave out is UNKNOWN_MEMBER_ID", async () => {
  const h = await startHarness();
  const res = await h.api.join({ groupId: "g", memberId: "made-up" });
  assert.equal(res.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test("a member beyond group.max.size gets GROUP_MAX_SIZE_REACHED", async () => {
  const h = await startHarness({ config: { maxSize: 1 } });
  await formGroup(h, "g", 1);
  const res = await h.api.join({ groupId: "g", memberId: "" });
  assert.equal(res.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
});

test("each member joining during the initial delay extends it once more", async () => {
  const h = await startHarness();
  const a = await h.api.join({ groupId: "g", memberId: "" });
  const b = await h.api.join({ groupId: "g", memberId: "" });
  let answered = false;
  const ja = h.api.join({ groupId: "g", memberId: a.memberId }).then((r) => {
    answered = true;
    return r;
  });
  const jb = h.api.join({ groupId: "g", memberId: b.memberId });
  await h.time.advance(DELAY);
  assert.equal(answered, false);
  await h.time.advance(DELAY);
  assert.equal((await ja).generationId, 1);
  assert.equal((await jb).generationId, 1);
});

test("SyncGroup gives each member the assignment the leader sent", async () => {
  const h = await startHarness();
  const [m0, m1] = await formGroup(h, "g", 2);
  assert.ok(m0 && m1);
  for (const [i, m] of [m0, m1].entries()) {
    // Joined members are Stable now: a repeated SyncGroup returns the stored assignment.
    const res = await h.api.sync({ groupId: "g", generationId: m.generationId, memberId: m.memberId });
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.equal(res.protocolName, "range");
    assert.equal(res.protocolType, "consumer");
    const parts = decodeAssignment(res.assignment).value.assignedPartitions;
    assert.equal(parts.length, 1);
    assert.equal(parts[0]?.topic, "t");
    assert.equal(parts[0]?.partitions.length, 1);
    assert.ok([0, 1].includes(parts[0]?.partitions[0] ?? -1), `member ${i}`);
  }
});

test("a follower's SyncGroup waits until the leader's SyncGroup arrives", async () => {
  const h = await startHarness();
  const a = await h.api.join({ groupId: "g", memberId: "" });
  const b = await h.api.join({ groupId: "g", memberId: "" });
  const joins = [
    h.api.join({ groupId: "g", memberId: a.memberId }),
    h.api.join({ groupId: "g", memberId: b.memberId }),
  ];
  await h.time.advance(FIRST_JOIN_WAIT_MS);
  const [ja, jb] = await Promise.all(joins);
  assert.ok(ja && jb);
  const [leader, follower] = ja.leader === ja.memberId ? [ja, jb] : [jb, ja];
  let followerDone = false;
  const followerSync = h.api
    .sync({ groupId: "g", generationId: 1, memberId: follower.memberId })
    .then((r) => {
      followerDone = true;
      return r;
    });
  await h.time.advance(1000);
  assert.equal(followerDone, false);
  const mine = assignment({ t: [0] });
  const theirs = assignment({ t: [1] });
  const leaderRes = await h.api.sync({
    groupId: "g",
    generationId: 1,
    memberId: leader.memberId,
    assignments: [
      { memberId: leader.memberId, assignment: mine },
      { memberId: follower.memberId, assignment: theirs },
    ],
  });
  assert.deepEqual(leaderRes.assignment, mine);
  assert.deepEqual((await followerSync).assignment, theirs);
});

test("a member the leader left out of the assignment gets an empty one", async () => {
  const h = await startHarness();
  const a = await h.api.join({ groupId: "g", memberId: "" });
  const b = await h.api.join({ groupId: "g", memberId: "" });
  const joins = [
    h.api.join({ groupId: "g", memberId: a.memberId }),
    h.api.join({ groupId: "g", memberId: b.memberId }),
  ];
  await h.time.advance(FIRST_JOIN_WAIT_MS);
  const [ja, jb] = await Promise.all(joins);
  assert.ok(ja && jb);
  const [leader, follower] = ja.leader === ja.memberId ? [ja, jb] : [jb, ja];
  const followerSync = h.api.sync({ groupId: "g", generationId: 1, memberId: follower.memberId });
  await h.api.sync({ groupId: "g", generationId: 1, memberId: leader.memberId, assignments: [] });
  const res = await followerSync;
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.equal(res.assignment.length, 0);
});

test("SyncGroup with another generation is ILLEGAL_GENERATION", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  const res = await h.api.sync({ groupId: "g", generationId: m.generationId + 1, memberId: m.memberId });
  assert.equal(res.errorCode, ErrorCode.ILLEGAL_GENERATION);
});

test("SyncGroup from a member not in the group is UNKNOWN_MEMBER_ID", async () => {
  const h = await startHarness();
  await formGroup(h, "g", 1);
  const res = await h.api.sync({ groupId: "g", generationId: 1, memberId: "stranger" });
  assert.equal(res.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test("SyncGroup v5 naming another protocol is INCONSISTENT_GROUP_PROTOCOL", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  const res = await h.api.sync({
    groupId: "g",
    generationId: 1,
    memberId: m.memberId,
    protocolName: "roundrobin",
  });
  assert.equal(res.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
});

test("SyncGroup v5 without protocol type or name is INCONSISTENT_GROUP_PROTOCOL", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  const res = await h.api.sync({ groupId: "g", generationId: 1, memberId: m.memberId, protocolType: null });
  assert.equal(res.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
});

test("JoinGroup v0 answers with v0 fields and a non-null protocol name", async () => {
  const h = await startHarness();
  const pending = h.api.join({ groupId: "g", memberId: "" }, 0);
  await h.time.advance(DELAY);
  const res = await pending;
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.equal(res.protocolName, "range");
  const err = await h.api.join({ groupId: "", memberId: "" }, 0);
  assert.equal(err.protocolName, "");
});

test("closing the coordinator answers a parked JoinGroup NOT_COORDINATOR", async () => {
  const h = await startHarness();
  const pending = h.api.join({ groupId: "g", memberId: "" }, 3);
  await h.coordinator.close();
  assert.equal((await pending).errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(h.time.pending, 0);
});

test("a closed coordinator answers COORDINATOR_NOT_AVAILABLE", async () => {
  const h = await startHarness();
  await h.coordinator.close();
  const res = await h.api.join({ groupId: "g", memberId: "" });
  assert.equal(res.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
});

/** A store that refuses every append after `okAppends` successful ones. */
class FailingStore extends MemoryGroupStore {
  okAppends: number;
  constructor(okAppends: number) {
    super();
    this.okAppends = okAppends;
  }
  override append(records: StoredRecord[]): Promise<void> {
    if (this.okAppends-- > 0) return super.append(records);
    return Promise.reject(new Error("ENOSPC: no space left on device"));
  }
}

test("when the store refuses the leader's assignment, SyncGroup fails and the group rebalances", async () => {
  const h = await startHarness({ store: new FailingStore(0) });
  const a = await h.api.join({ groupId: "g", memberId: "" });
  const pending = h.api.join({ groupId: "g", memberId: a.memberId });
  await h.time.advance(DELAY);
  const joined = await pending;
  const res = await h.api.sync({
    groupId: "g",
    generationId: 1,
    memberId: joined.memberId,
    assignments: [{ memberId: joined.memberId, assignment: assignment({ t: [0] }) }],
  });
  assert.equal(res.errorCode, ErrorCode.NOT_COORDINATOR);
  const [g] = await h.api.describe(["g"]);
  assert.equal(g?.groupState, "PreparingRebalance");
});
