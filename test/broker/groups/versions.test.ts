// Every version of every group API, end to end through the codec: a request decoded at the
// version, answered by the coordinator, and the answer encoded at that version.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { assignment, startHarness, TEST_CONFIG } from "./helpers.ts";

const DELAY = TEST_CONFIG.initialRebalanceDelayMs ?? 0;

for (let v = 0; v <= 9; v++) {
  test(`a consumer speaking JoinGroup v${v} (and its era's other group APIs) joins, syncs, commits and leaves`, async () => {
    const h = await startHarness();
    const syncV = Math.min(v, 5);
    const hbV = Math.min(v, 4);
    let memberId = "";
    if (v >= 4) memberId = (await h.api.join({ groupId: "g", memberId: "" }, v)).memberId;
    const pending = h.api.join({ groupId: "g", memberId }, v);
    await h.time.advance(DELAY);
    const joined = await pending;
    assert.equal(joined.errorCode, ErrorCode.NONE);
    assert.equal(joined.protocolName, "range");
    assert.equal(joined.protocolType, v >= 7 ? "consumer" : null);
    memberId = joined.memberId;

    const sync = await h.api.sync(
      {
        groupId: "g",
        generationId: 1,
        memberId,
        assignments: [{ memberId, assignment: assignment({ t: [0] }) }],
      },
      syncV,
    );
    assert.equal(sync.errorCode, ErrorCode.NONE);
    assert.deepEqual(sync.assignment, assignment({ t: [0] }));
    assert.equal(await h.api.heartbeat({ groupId: "g", generationId: 1, memberId }, hbV), ErrorCode.NONE);

    const commitErrors = await h.api.commitOffsets(
      "g",
      1,
      memberId,
      [{ topic: "t", partition: 0, offset: 5n }],
      v,
    );
    // v0 carries no generation: an anonymous commit to a group with members is refused.
    assert.deepEqual(commitErrors, [v === 0 ? ErrorCode.UNKNOWN_MEMBER_ID : ErrorCode.NONE]);
    const fetched =
      v >= 8
        ? (
            await h.api.fetch(
              { groups: [{ groupId: "g", topics: [{ name: "t", partitionIndexes: [0] }] }] },
              v,
            )
          ).groups[0]
        : await h.api.fetch({ groupId: "g", topics: [{ name: "t", partitionIndexes: [0] }] }, v);
    assert.equal(fetched?.topics[0]?.partitions[0]?.committedOffset, v === 0 ? -1n : 5n);

    const described = await h.api.describe(["g"], Math.min(v, 5));
    assert.equal(described[0]?.groupState, "Stable");
    assert.equal((await h.api.list({}, Math.min(v, 5))).groups.length, 1);

    const leaveV = Math.min(v, 5);
    const left =
      leaveV >= 3
        ? (await h.api.leave({ groupId: "g", members: [{ memberId, groupInstanceId: null }] }, leaveV))
            .members[0]
        : await h.api.leave({ groupId: "g", memberId }, leaveV);
    assert.equal(left?.errorCode, ErrorCode.NONE);
    assert.deepEqual(await h.api.deleteGroups(["g"], Math.min(v, 2)), [
      { groupId: "g", errorCode: ErrorCode.NONE },
    ]);
  });
}

test("OffsetFetch v1 reports a coordinator error on each partition (no group-level field before v2)", async () => {
  const h = await startHarness();
  await h.coordinator.close();
  const res = await h.api.fetch({ groupId: "g", topics: [{ name: "t", partitionIndexes: [0, 1] }] }, 1);
  assert.deepEqual(
    res.topics[0]?.partitions.map((p) => p.errorCode),
    [ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_NOT_AVAILABLE],
  );
});
