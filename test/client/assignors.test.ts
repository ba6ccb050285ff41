// The range and round-robin assignors hand out every partition exactly once, as Kafka's do.
import assert from "node:assert/strict";
import { test } from "node:test";
import { rangeAssignor, roundRobinAssignor, type Assignment } from "../../src/client/assignors.ts";

const members = [
  { memberId: "b", topics: ["t1", "t2"] },
  { memberId: "a", topics: ["t1", "t2"] },
];
const counts = new Map([
  ["t1", 3],
  ["t2", 2],
]);

function plain(assignment: Assignment): Record<string, Record<string, number[]>> {
  return Object.fromEntries([...assignment].map(([m, byTopic]) => [m, Object.fromEntries(byTopic)]));
}

test("range gives each member a contiguous range per topic, the first members one extra", () => {
  assert.deepEqual(plain(rangeAssignor.assign(members, counts)), {
    a: { t1: [0, 1], t2: [0] },
    b: { t1: [2], t2: [1] },
  });
});

test("round robin deals all partitions in turn across topics", () => {
  assert.deepEqual(plain(roundRobinAssignor.assign(members, counts)), {
    a: { t1: [0, 2], t2: [1] },
    b: { t1: [1], t2: [0] },
  });
});

test("round robin gives a topic's partitions only to its subscribers", () => {
  const result = roundRobinAssignor.assign(
    [
      { memberId: "a", topics: ["t1"] },
      { memberId: "b", topics: ["t1", "t2"] },
    ],
    counts,
  );
  assert.deepEqual(plain(result), { a: { t1: [0, 2] }, b: { t1: [1], t2: [0, 1] } });
});
