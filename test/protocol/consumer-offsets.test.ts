// The __consumer_offsets record layout as Apache Kafka writes it: every offset commit value
// version (0-4, v4 flexible with tagged fields), offset keys told apart from group metadata keys
// and from newer coordinators' record types.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodeConsumerOffsetsRecord,
  decodeOffsetCommitKey,
  decodeOffsetCommitValue,
  encodeConsumerOffsetsRecord,
} from "../../src/protocol/consumer-offsets.ts";
import { DecodeError } from "../../src/protocol/errors.ts";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
// int16 version, group "g", topic "t", partition 3
const OFFSET_KEY_V1 = hex("0001 0001 67 0001 74 00000003");

test("offset commit keys of version 0 and 1 decode; group metadata and newer record keys are not offsets", () => {
  assert.deepEqual(decodeOffsetCommitKey(OFFSET_KEY_V1), { groupId: "g", topic: "t", partition: 3 });
  assert.deepEqual(decodeOffsetCommitKey(hex("0000 0001 67 0001 74 00000000")), {
    groupId: "g",
    topic: "t",
    partition: 0,
  });
  assert.equal(decodeOffsetCommitKey(hex("0002 0001 67")), undefined, "group metadata");
  assert.equal(decodeOffsetCommitKey(hex("0003 0001 67")), undefined, "a KIP-848 consumer group record");
  assert.throws(() => decodeOffsetCommitKey(hex("0001 0001 67")), DecodeError);
});

test("offset commit values of versions 0 to 4 decode", () => {
  const offset = "000000000000002a"; // 42
  const ts = "00000000000003e8"; // 1000
  const base = { offset: 42n, metadata: "m", commitTimestampMs: 1000 };
  assert.deepEqual(decodeOffsetCommitValue(hex(`0000 ${offset} 0001 6d ${ts}`)), {
    ...base,
    leaderEpoch: -1,
    expireTimestampMs: null,
  });
  assert.deepEqual(decodeOffsetCommitValue(hex(`0001 ${offset} 0001 6d ${ts} 0000000000001388`)), {
    ...base,
    leaderEpoch: -1,
    expireTimestampMs: 5000,
  });
  assert.deepEqual(decodeOffsetCommitValue(hex(`0002 ${offset} 0001 6d ${ts}`)), {
    ...base,
    leaderEpoch: -1,
    expireTimestampMs: null,
  });
  assert.deepEqual(decodeOffsetCommitValue(hex(`0003 ${offset} 00000005 0001 6d ${ts}`)), {
    ...base,
    leaderEpoch: 5,
    expireTimestampMs: null,
  });
  // v4: compact string (length + 1), then tagged fields: none, or one unknown (tag 0, 16 bytes).
  assert.deepEqual(decodeOffsetCommitValue(hex(`0004 ${offset} 00000005 02 6d ${ts} 00`)), {
    ...base,
    leaderEpoch: 5,
    expireTimestampMs: null,
  });
  assert.deepEqual(
    decodeOffsetCommitValue(hex(`0004 ${offset} 00000005 02 6d ${ts} 01 00 10 ${"ab".repeat(16)}`)),
    { ...base, leaderEpoch: 5, expireTimestampMs: null },
  );
  assert.throws(() => decodeOffsetCommitValue(hex(`0005 ${offset}`)), DecodeError);
  assert.throws(() => decodeOffsetCommitValue(hex(`0003 ${offset} 00000005 0001 6d ${ts} 00`)), DecodeError);
});

test("what the broker writes decodes as the same record, and a tombstone as a deletion", () => {
  const record = {
    kind: "offset" as const,
    groupId: "g",
    topic: "t",
    partition: 3,
    value: { offset: 42n, leaderEpoch: 5, metadata: "m", commitTimestampMs: 1000, expireTimestampMs: null },
  };
  const { key, value } = encodeConsumerOffsetsRecord(record);
  assert.deepEqual(key, OFFSET_KEY_V1);
  assert.deepEqual(decodeConsumerOffsetsRecord(key, value), record);
  assert.deepEqual(decodeConsumerOffsetsRecord(key, null), { ...record, value: null });
});
