// Consumer protocol subscription/assignment bytes, as JoinGroup and SyncGroup carry them.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from "../../src/protocol/consumer-protocol.ts";

test("a v0 subscription is the version, the topic list and null user data", () => {
  const bytes = encodeSubscription(0, { topics: ["a", "bc"], userData: null });
  assert.equal(bytes.toString("hex"), "0000" + "00000002" + "000161" + "00026263" + "ffffffff");
  assert.deepEqual(decodeSubscription(bytes).value.topics, ["a", "bc"]);
});

test("a v3 subscription round-trips owned partitions, generation and rack", () => {
  const value = {
    topics: ["orders"],
    userData: Buffer.from([1, 2]),
    ownedPartitions: [{ topic: "orders", partitions: [0, 3] }],
    generationId: 12,
    rackId: "eu-1a",
  };
  const decoded = decodeSubscription(encodeSubscription(3, value));
  assert.equal(decoded.version, 3);
  assert.deepEqual(decoded.value, value);
});

test("a subscription from a newer consumer is read as our highest version", () => {
  const newer = Buffer.concat([
    encodeSubscription(3, { topics: ["t"], rackId: null }),
    Buffer.from([9, 9, 9]),
  ]);
  newer.writeInt16BE(7, 0);
  const decoded = decodeSubscription(newer);
  assert.equal(decoded.version, 7);
  assert.deepEqual(decoded.value.topics, ["t"]);
});

test("an assignment round-trips", () => {
  const value = { assignedPartitions: [{ topic: "orders", partitions: [1, 2] }], userData: null };
  assert.deepEqual(decodeAssignment(encodeAssignment(1, value)).value, value);
});
