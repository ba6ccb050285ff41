// The admin side of groups: DescribeGroups, ListGroups, DeleteGroups and OffsetDelete.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { assignment, formGroup, startHarness, subscription } from "./helpers.ts";

test("DescribeGroups shows a Stable group's protocol, members, metadata and assignments", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  const [g] = await h.api.describe(["g"]);
  assert.equal(g?.errorCode, ErrorCode.NONE);
  assert.equal(g?.groupState, "Stable");
  assert.equal(g?.protocolType, "consumer");
  assert.equal(g?.protocolData, "range");
  assert.deepEqual(g?.members, [
    {
      memberId: m.memberId,
      groupInstanceId: null,
      clientId: "c0",
      clientHost: "/127.0.0.1",
      memberMetadata: subscription(["t"]),
      memberAssignment: assignment({ t: [0] }),
    },
  ]);
});

test("DescribeGroups of a group that does not exist answers Dead without an error", async () => {
  const h = await startHarness();
  const [g] = await h.api.describe(["nope"]);
  assert.deepEqual(
    { errorCode: g?.errorCode, groupState: g?.groupState, members: g?.members },
    { errorCode: ErrorCode.NONE, groupState: "Dead", members: [] },
  );
});

test("DescribeGroups of a rebalancing group has no protocol and no member metadata", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  const other = await h.api.join({ groupId: "g", memberId: "" });
  void h.api.join({ groupId: "g", memberId: other.memberId });
  const [g] = await h.api.describe(["g"]);
  assert.equal(g?.groupState, "PreparingRebalance");
  assert.equal(g?.protocolData, "");
  assert.ok(g?.members.every((x) => x.memberMetadata.length === 0));
});

test("ListGroups lists every group with its protocol type, state and type", async () => {
  const h = await startHarness();
  await formGroup(h, "consumers", 1);
  await h.api.commitOffsets("simple", -1, "", [{ topic: "t", partition: 0, offset: 1n }]);
  const res = await h.api.list();
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.deepEqual(res.groups.map((g) => [g.groupId, g.protocolType, g.groupState, g.groupType]).sort(), [
    ["consumers", "consumer", "Stable", "classic"],
    ["simple", "", "Empty", "classic"],
  ]);
});

test("ListGroups v4 filters by state, case-insensitively", async () => {
  const h = await startHarness();
  await formGroup(h, "consumers", 1);
  await h.api.commitOffsets("simple", -1, "", [{ topic: "t", partition: 0, offset: 1n }]);
  const res = await h.api.list({ statesFilter: ["empty"] }, 4);
  assert.deepEqual(
    res.groups.map((g) => g.groupId),
    ["simple"],
  );
});

test("ListGroups v5 filters by type: every group here is classic", async () => {
  const h = await startHarness();
  await formGroup(h, "consumers", 1);
  assert.equal((await h.api.list({ typesFilter: ["Classic"] }, 5)).groups.length, 1);
  assert.equal((await h.api.list({ typesFilter: ["consumer"] }, 5)).groups.length, 0);
});

test("DeleteGroups deletes an Empty group and its offsets", async () => {
  const h = await startHarness();
  await h.api.commitOffsets("s", -1, "", [{ topic: "t", partition: 0, offset: 1n }]);
  assert.deepEqual(await h.api.deleteGroups(["s"]), [{ groupId: "s", errorCode: ErrorCode.NONE }]);
  assert.equal(await h.api.committed("s", "t", 0), -1n);
  assert.equal((await h.api.describe(["s"]))[0]?.groupState, "Dead");
});

test("DeleteGroups refuses a group with members (NON_EMPTY_GROUP) and an unknown one (GROUP_ID_NOT_FOUND)", async () => {
  const h = await startHarness();
  await formGroup(h, "busy", 1);
  assert.deepEqual(await h.api.deleteGroups(["busy", "nope", "busy"]), [
    { groupId: "busy", errorCode: ErrorCode.NON_EMPTY_GROUP },
    { groupId: "nope", errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
  ]);
});

test("a deleted group's id can be joined again as a new group", async () => {
  const h = await startHarness();
  await h.api.commitOffsets("s", -1, "", [{ topic: "t", partition: 0, offset: 1n }]);
  await h.api.deleteGroups(["s"]);
  const [m] = await formGroup(h, "s", 1);
  assert.equal(m?.generationId, 1);
});

test("OffsetDelete refuses topics the members subscribe to with GROUP_SUBSCRIBED_TO_TOPIC and deletes the rest", async () => {
  const h = await startHarness();
  const [m] = await formGroup(h, "g", 1);
  assert.ok(m);
  await h.api.commitOffsets("g", m.generationId, m.memberId, [
    { topic: "t", partition: 0, offset: 1n },
    { topic: "old", partition: 0, offset: 2n },
  ]);
  const res = await h.api.offsetDelete({
    groupId: "g",
    topics: [
      { name: "t", partitions: [{ partitionIndex: 0 }] },
      { name: "old", partitions: [{ partitionIndex: 0 }] },
    ],
  });
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.deepEqual(
    res.topics.map((t) => [t.name, t.partitions.map((p) => p.errorCode)]),
    [
      ["t", [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC]],
      ["old", [ErrorCode.NONE]],
    ],
  );
  assert.equal(await h.api.committed("g", "t", 0), 1n);
  assert.equal(await h.api.committed("g", "old", 0), -1n);
});

test("OffsetDelete on a non-consumer group with members is NON_EMPTY_GROUP", async () => {
  const h = await startHarness();
  const pending = h.api.join({ groupId: "c", memberId: "", protocolType: "connect" }, 3);
  await h.time.advance(100);
  await pending;
  const res = await h.api.offsetDelete({
    groupId: "c",
    topics: [{ name: "t", partitions: [{ partitionIndex: 0 }] }],
  });
  assert.equal(res.errorCode, ErrorCode.NON_EMPTY_GROUP);
});

test("OffsetDelete on an unknown group is GROUP_ID_NOT_FOUND", async () => {
  const h = await startHarness();
  const res = await h.api.offsetDelete({ groupId: "nope", topics: [] });
  assert.equal(res.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
});

test("OffsetDelete with an empty group id is INVALID_GROUP_ID", async () => {
  const h = await startHarness();
  const res = await h.api.offsetDelete({ groupId: "", topics: [] });
  assert.equal(res.errorCode, ErrorCode.INVALID_GROUP_ID);
});
