// The error-code table against values checked in Kafka's Errors.java (4.1.1 and 4.2.0 tags),
// where a code is retriable when its exception extends RetriableException.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ErrorCode, KafkaError, errorInfo, isRetriable } from "../../src/protocol/error-codes.ts";
import { CodecErrorCode, ProtocolError } from "../../src/protocol/errors.ts";

// [code, name, retriable], each read from Errors.java and the exception's class hierarchy.
const VERIFIED: ReadonlyArray<readonly [number, string, boolean]> = [
  [-1, "UNKNOWN_SERVER_ERROR", false],
  [0, "NONE", false],
  [1, "OFFSET_OUT_OF_RANGE", false],
  [2, "CORRUPT_MESSAGE", true],
  [3, "UNKNOWN_TOPIC_OR_PARTITION", true],
  [6, "NOT_LEADER_OR_FOLLOWER", true],
  [7, "REQUEST_TIMED_OUT", true],
  [8, "BROKER_NOT_AVAILABLE", false],
  [9, "REPLICA_NOT_AVAILABLE", true],
  [10, "MESSAGE_TOO_LARGE", false],
  [13, "NETWORK_EXCEPTION", true],
  [16, "NOT_COORDINATOR", true],
  [22, "ILLEGAL_GENERATION", false],
  [27, "REBALANCE_IN_PROGRESS", false],
  [35, "UNSUPPORTED_VERSION", false],
  [41, "NOT_CONTROLLER", true],
  [42, "INVALID_REQUEST", false],
  [51, "CONCURRENT_TRANSACTIONS", true],
  [56, "KAFKA_STORAGE_ERROR", true],
  [59, "UNKNOWN_PRODUCER_ID", false],
  [74, "FENCED_LEADER_EPOCH", true],
  [84, "ELECTION_NOT_NEEDED", true],
  [89, "THROTTLING_QUOTA_EXCEEDED", true],
  [90, "PRODUCER_FENCED", false],
  [100, "UNKNOWN_TOPIC_ID", true],
  [106, "FETCH_SESSION_TOPIC_ID_ERROR", true],
  [119, "INVALID_REGISTRATION", false],
  [120, "TRANSACTION_ABORTABLE", false],
  [121, "INVALID_RECORD_STATE", false],
  [122, "SHARE_SESSION_NOT_FOUND", true],
  [123, "INVALID_SHARE_SESSION_EPOCH", true],
  [128, "INVALID_REGULAR_EXPRESSION", false],
  [129, "REBOOTSTRAP_REQUIRED", false],
  [132, "STREAMS_TOPOLOGY_FENCED", false],
  [133, "SHARE_SESSION_LIMIT_REACHED", true],
];

await test("matches the codes, names and retriability read from Errors.java", () => {
  for (const [code, name, retriable] of VERIFIED) {
    const info = errorInfo(code);
    assert.equal(info.name, name, `name of ${code}`);
    assert.equal(info.retriable, retriable, `retriability of ${name}`);
    assert.equal(isRetriable(code), retriable, `isRetriable(${code})`);
    assert.equal((ErrorCode as Readonly<Record<string, number>>)[name], code, `ErrorCode.${name}`);
  }
  assert.equal(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6);
});

await test("covers -1 to 133 with one name per code and no gaps", () => {
  const entries = Object.entries(ErrorCode);
  const codes = entries.map(([, code]) => code);
  assert.equal(entries.length, 135);
  assert.equal(new Set(codes).size, codes.length, "codes are unique");
  assert.deepEqual(
    [...codes].sort((a, b) => a - b),
    Array.from({ length: 135 }, (_, i) => i - 1),
  );
  for (const [name, code] of entries) {
    const info = errorInfo(code);
    assert.equal(info.name, name);
    assert.equal(info.code, code);
    assert.ok(info.description.length > 0, `${name} has a description`);
  }
});

await test("counts 32 retriable codes", () => {
  assert.equal(Object.values(ErrorCode).filter((code) => isRetriable(code)).length, 32);
});

await test("agrees with the codes the codec raises", () => {
  for (const [name, code] of Object.entries(CodecErrorCode)) {
    assert.equal(errorInfo(code).name, name);
  }
});

await test("gives unknown codes a non-retriable UNKNOWN entry that keeps the code", () => {
  for (const code of [134, 999, -2, 32767, 1.5]) {
    const info = errorInfo(code);
    assert.equal(info.code, code);
    assert.equal(info.name, "UNKNOWN");
    assert.equal(info.retriable, false);
    assert.match(info.description, new RegExp(String(code).replace(".", "\\.")));
    assert.equal(isRetriable(code), false);
  }
});

await test("KafkaError is a ProtocolError whose message names the code", () => {
  const err = new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, "partition t-0 moved");
  assert.ok(err instanceof ProtocolError);
  assert.ok(err instanceof Error);
  assert.equal(err.name, "KafkaError");
  assert.equal(err.code, 6);
  assert.equal(err.errorName, "NOT_LEADER_OR_FOLLOWER");
  assert.equal(err.retriable, true);
  assert.equal(err.message, "NOT_LEADER_OR_FOLLOWER (6): partition t-0 moved");
});

await test("KafkaError falls back to the table's description without a message", () => {
  const err = new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal(err.retriable, false);
  assert.equal(err.message, `TOPIC_AUTHORIZATION_FAILED (29): ${errorInfo(29).description}`);
});

await test("KafkaError handles an unknown code", () => {
  const err = new KafkaError(4242, "from a newer broker");
  assert.equal(err.code, 4242);
  assert.equal(err.errorName, "UNKNOWN");
  assert.equal(err.retriable, false);
  assert.equal(err.message, "UNKNOWN (4242): from a newer broker");
});
