// Topic settings: effective values and sources, and how they map onto the storage engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BrokerConfig } from "../../src/broker/config/broker-config.ts";
import {
  ConfigSource,
  effectiveTopicConfigs,
  logConfigFor,
  validateTopicConfigs,
} from "../../src/broker/topic-configs.ts";
import { KafkaError, ErrorCode } from "../../src/protocol/error-codes.ts";

test("a topic override wins over the broker setting, which wins over Kafka's default", () => {
  const broker = new BrokerConfig({ "log.retention.ms": 1000 });
  const eff = effectiveTopicConfigs({ "segment.bytes": "2048" }, broker);
  const get = (n: string) => eff.find((e) => e.name === n);
  assert.deepEqual(
    [get("segment.bytes")?.value, get("segment.bytes")?.source],
    ["2048", ConfigSource.TOPIC_CONFIG],
  );
  assert.deepEqual(
    [get("retention.ms")?.value, get("retention.ms")?.source],
    ["1000", ConfigSource.STATIC_BROKER_CONFIG],
  );
  assert.deepEqual(
    [get("max.message.bytes")?.value, get("max.message.bytes")?.source],
    ["1048588", ConfigSource.DEFAULT_CONFIG],
  );
});

test("a compact-only topic is never shortened by time or size retention", () => {
  const broker = new BrokerConfig();
  const compact = logConfigFor(
    { "cleanup.policy": "compact", "retention.ms": "1000", "retention.bytes": "10" },
    broker,
  );
  assert.equal(compact.retentionMs, -1);
  assert.equal(compact.retentionBytes, -1);
  const both = logConfigFor({ "cleanup.policy": "compact,delete", "retention.ms": "1000" }, broker);
  assert.equal(both.retentionMs, 1000);
});

test("an unknown or invalid topic setting is INVALID_CONFIG naming the setting", () => {
  assert.throws(
    () => validateTopicConfigs({ "retention.msx": "1" }),
    (e: unknown) =>
      e instanceof KafkaError && e.code === ErrorCode.INVALID_CONFIG && /retention.msx/.test(e.message),
  );
  assert.throws(() => validateTopicConfigs({ "cleanup.policy": "shred" }), /cleanup.policy must be one of/);
  assert.throws(() => validateTopicConfigs({ "segment.bytes": "-5" }), /segment.bytes must be at least 14/);
});
