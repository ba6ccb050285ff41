// Rebalances of a formed group: new members, session expiry, LeaveGroup, missing SyncGroups
// and static membership, on a fake clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import {
  assignment,
  formGroup,
  REBALANCE_MS,
  SESSION_MS,
  startHarness,
  subscription,
  type Harness,
} from "./helpers.ts";

async function describeGroup(h: Harness, groupId: string): Promise<{ state: string; members: string[] }> {
  const [g] = await h.api.describe([groupId]);
  assert.ok(g);
  return { state: g.groupState, members: g.members.map((m) => m.memberId).sort() };
}

test("a third member joining makes heartbeats answer REBALANCE_IN_PROGRESS", async () => {
  const h = await startHarness();
  const [m0, m1] = await formGroup(h, "g", 2);
  assert.ok(m0 && m1);
  const third = await h.api.join({ groupId: "g", memberId: "" });
  void h.api.join({ groupId: "g", memberId: third.memberId });
  for (const m of [m0, m1]) {
    const error = await h.api.heartbeat({ groupId: "g", generationId: m.generationId, memberId: m.memberId });
    assert.equal(error, ErrorCode.REBALANCE_IN_PROGRESS);
  }
});

test("when every member has rejoined, the rebalance completes into generation 2 at once", async () => {
  const h = await startHarness();
  const [m0, m1] = await formGroup(h, "g", 2);
  assert.ok(m0 && m1);
  const third = await h.api.join({ groupId: "g", memberId: "" });
  const joins = [third.memberId, m0.memberId, m1.memberId].map((memberId) =>
    h.api.join({ groupId: "g", memberId }),
  );
  const results = await Promise.all(joins);
  assert.deepEqual(
    results.map((r) => r.generationId),
    [2, 2, 2],
  );
  const leaders = results.filter((r) => r.members.length === 3);
  assert.equal(leaders.length, 1);
  assert.equal((await describeGroup(h, "g")).state, "CompletingRebalance");
});

test("members that do not rejoin within the rebalance timeout are dropped from the next generation", async () => {
  const h = await startHarness();
  const [m0, m1] = await formGroup(h, "g", 2);
  assert.ok(m0 && m1);
  const rejoin = h.api.join({ groupId: "g", memberId: m0.memberId });
  // m1 keeps heartbeating (it is told to rejoin) but never does.
  assert.equal(
    await h.api.heartbeat({ groupId: "g", generationId: 1, memberId: m1.memberId }),
    ErrorCode.REBALANCE_IN_PROGRESS,
  );
  await h.time.advance(REBALANCE_MS);
  const res = await rejoin;
  assert.equal(res.generationId, 2);
  assert.deepEqual(
    res.members.map((m) => m.memberId),
    [m0.memberId],
  );
  assert.equal(
    await h.api.heartbeat({ groupId: "g", generationId: 1, memberId: m1.memberId }),
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
});

test("a member whose session times out is removed and the rest are asked to rebalance", async () => {
  const h = await startHarness();
  const [m0, m1] = await formGroup(h, "g", 2);
  assert.ok(m0 && m1);
  await h.time.advance(SESSION_MS / 2);
  assert.equal(
    await h.api.heartbeat({ groupId: "g", generationId: 1, memberId: m0.memberId }),
    ErrorCode.NONE,
  );
  await h.time.advance(SESSION_MS / 2);
  // m1 has not heartbeated for a whole session: gone; m0 must rejoin.
  assert.deepEqual((await describeGroup(h, "g")).members, [m0.memberId]);
  assert.equal(
    await h.api.heartbeat({ groupId: "g", generationId: 1, memberId: m0.memberId }),
    ErrorCode.REBALANCE_IN_PROGRESS,
  );
  const rejoin = await h.api.join({ groupId: "g", memberId: m0.memberId });
  assert.equal(rejoin.generationId, 2);
});

test("heartbeats keep a member in the group past its session timeout", async () => {
  const h = await startHarness();
  const [m0] = await formGroup(h, "g", 1);
  assert.ok(m0);
  for (let i = 0; i < 5; i++) {
    await h.time.advance(SESSION_MS - 1);
    assert.equal(
      await h.api.heartbeat({ groupId: "g", generationId: 1, memberId: m0.memberId }),
      ErrorCode.NONE,
    );
  }
  assert.equal((await describeGroup(h, "g")).state, "Stable");
});

test("a heartbeat with an old generation is ILLEGAL_GENERATION", async () => {
  const h = await startHarness();
  const [m0] = await formGroup(h, "g", 1);
  assert.ok(m0);
  assert.equal(
    await h.api.heartbeat({ groupId: "g", generationId: 0, memberId: m0.memberId }),
    ErrorCode.ILLEGAL_GENERATION,
  );
});

test("a heartbeat to a group that does not exist is UNKNOWN_MEMBER_ID", async () => {
  const h = await startHarness();
  assert.equal(
    await h.api.heartbeat({ groupId: "nope", generationId: 1, memberId: "m" }),
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
});

test("the last member's session expiry leaves the group Empty", async () => {
  const h = await startHarness();
  await formGroup(h, "g", 1);
  await h.time.advance(SESSION_MS);
  assert.deepEqual(await describeGroup(h, "g"), { state: "Empty", members: [] });
});

test("members that never send SyncGroup are removed after the rebalance timeout", async () => {
  const h = await startHarness();
  const a = await h.api.join({ groupId: "g", memberId: "" });
  const pending = h.api.join({ groupId: "g", memberId: a.memberId });
  await h.time.advance(100);
  assert.equal((await pending).generationId, 1);
  await h.time.advance(REBALANCE_MS);
  assert.equal((await describeGroup(h, "g")).state, "Empty");
});

test("LeaveGroup v0 removes the member and the others rebalance without waiting for it", async () => {
  const h = await startHarness();
  const [m0, m1] = await formGroup(h, "g", 2);
  assert.ok(m0 && m1);
  const res = await h.api.leave({ groupId: "g", memberId: m1.memberId }, 0);
  assert.equal(res.errorCode, ErrorCode.NONE);
  const rejoin = await h.api.join({ groupId: "g", memberId: m0.memberId });
  assert.equal(rejoin.generationId, 2);
  assert.deepEqual(
    rejoin.members.map((m) => m.memberId),
    [m0.memberId],
  );
});

test("LeaveGroup v0 for an unknown member is UNKNOWN_MEMBER_ID", async () => {
  const h = await startHarness();
  await formGroup(h, "g", 1);
  const res = await h.api.leave({ groupId: "g", memberId: "stranger" }, 2);
  assert.equal(res.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test("LeaveGroup v3 removes a batch of members with an error for each unknown one", async () => {
  const h = await startHarness();
  const [m0, m1, m2] = await formGroup(h, "g", 3);
  assert.ok(m0 && m1 && m2);
  const res = await h.api.leave(
    {
      groupId: "g",
      members: [
        { memberId: m0.memberId, groupInstanceId: null },
        { memberId: "stranger", groupInstanceId: null },
        { memberId: m2.memberId, groupInstanceId: null, reason: "shutting down" },
      ],
    },
    5,
  );
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.deepEqual(
    res.members.map((m) => [m.memberId, m.errorCode]),
    [
      [m0.memberId, ErrorCode.NONE],
      ["stranger", ErrorCode.UNKNOWN_MEMBER_ID],
      [m2.memberId, ErrorCode.NONE],
    ],
  );
  assert.deepEqual((await describeGroup(h, "g")).members, [m1.memberId]);
});

test("LeaveGroup v3 to a group that does not exist answers UNKNOWN_MEMBER_ID per member", async () => {
  const h = await startHarness();
  const res = await h.api.leave({ groupId: "nope", members: [{ memberId: "m", groupInstanceId: null }] }, 3);
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.deepEqual(
    res.members.map((m) => m.errorCode),
    [ErrorCode.UNKNOWN_MEMBER_ID],
  );
});

/** A Stable group of one static member (instance "i1") with partition 0 of "t". */
async function staticGroup(h: Harness): Promise<{ memberId: string }> {
  const pending = h.api.join({ groupId: "g", memberId: "", groupInstanceId: "i1" });
  await h.time.advance(100);
  const joined = await pending;
  assert.equal(joined.errorCode, ErrorCode.NONE);
  assert.match(joined.memberId, /^i1-/);
  await h.api.sync({
    groupId: "g",
    generationId: 1,
    memberId: joined.memberId,
    groupInstanceId: "i1",
    assignments: [{ memberId: joined.memberId, assignment: assignment({ t: [0] }) }],
  });
  return { memberId: joined.memberId };
}

test("a static member rejoining with its instance id keeps its assignment without a rebalance", async () => {
  const h = await startHarness();
  const old = await staticGroup(h);
  const rejoined = await h.api.join({ groupId: "g", memberId: "", groupInstanceId: "i1" }, 5);
  assert.equal(rejoined.errorCode, ErrorCode.NONE);
  assert.notEqual(rejoined.memberId, old.memberId);
  assert.equal(rejoined.generationId, 1);
  // Before v9 the answer names the old leader id, so the member does not run an assignment.
  assert.equal(rejoined.leader, old.memberId);
  const sync = await h.api.sync(
    { groupId: "g", generationId: 1, memberId: rejoined.memberId, groupInstanceId: "i1" },
    3,
  );
  assert.equal(sync.errorCode, ErrorCode.NONE);
  assert.deepEqual(sync.assignment, assignment({ t: [0] }));
  assert.equal((await describeGroup(h, "g")).state, "Stable");
});

test("a static leader rejoining with JoinGroup v9 is told to skip the assignment", async () => {
  const h = await startHarness();
  await staticGroup(h);
  const rejoined = await h.api.join({ groupId: "g", memberId: "", groupInstanceId: "i1" }, 9);
  assert.equal(rejoined.leader, rejoined.memberId);
  assert.equal(rejoined.skipAssignment, true);
  assert.equal(rejoined.members.length, 1);
});

test("the old member id of a replaced static member is fenced", async () => {
  const h = await startHarness();
  const old = await staticGroup(h);
  await h.api.join({ groupId: "g", memberId: "", groupInstanceId: "i1" });
  const error = await h.api.heartbeat({
    groupId: "g",
    generationId: 1,
    memberId: old.memberId,
    groupInstanceId: "i1",
  });
  assert.equal(error, ErrorCode.FENCED_INSTANCE_ID);
});

test("a static member rejoining with a protocol choice that changes the group's triggers a rebalance", async () => {
  const h = await startHarness();
  await staticGroup(h);
  const meta = subscription(["t"]);
  const res = await h.api.join({
    groupId: "g",
    memberId: "",
    groupInstanceId: "i1",
    protocols: [
      { name: "roundrobin", metadata: meta },
      { name: "range", metadata: meta },
    ],
  });
  assert.equal(res.generationId, 2);
  assert.equal(res.protocolName, "roundrobin");
});

test("a static member that misses a rebalance keeps its place in the next generation", async () => {
  const h = await startHarness();
  const s = await staticGroup(h);
  const dyn = await h.api.join({ groupId: "g", memberId: "" });
  const pending = h.api.join({ groupId: "g", memberId: dyn.memberId });
  await h.time.advance(REBALANCE_MS);
  const res = await pending;
  assert.equal(res.generationId, 2);
  const ids = (await describeGroup(h, "g")).members;
  assert.ok(ids.includes(s.memberId));
});

test("LeaveGroup v3 removes a static member by instance id alone", async () => {
  const h = await startHarness();
  await staticGroup(h);
  const res = await h.api.leave({ groupId: "g", members: [{ memberId: "", groupInstanceId: "i1" }] }, 4);
  assert.deepEqual(
    res.members.map((m) => m.errorCode),
    [ErrorCode.NONE],
  );
  assert.equal((await describeGroup(h, "g")).state, "Empty");
});
