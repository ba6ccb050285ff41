// Broker settings: Kafka names, validation, and errors that point at file, line and column.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BrokerConfig, ConfigError, readBrokerConfigFile } from "../../../src/broker/config/broker-config.ts";

async function file(text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), "ferry-cfg-")), "broker.yaml");
  await writeFile(path, text);
  return path;
}

test("defaults follow Kafka's and explicit settings override them", () => {
  const c = new BrokerConfig({ "log.segment.bytes": 1048576 });
  assert.equal(c.int("log.segment.bytes"), 1048576);
  assert.equal(c.get("num.partitions"), "1");
  assert.equal(c.long("log.flush.interval.messages"), Infinity);
  assert.equal(c.topicDefault("segment.bytes"), "1048576");
  assert.ok(c.isExplicit("log.segment.bytes"));
  assert.ok(!c.isExplicit("num.partitions"));
});

test("an unknown or invalid setting is refused with its name", () => {
  assert.throws(
    () => new BrokerConfig({ "log.segmnt.bytes": 1 }),
    /unknown broker setting 'log.segmnt.bytes'/,
  );
  assert.throws(() => new BrokerConfig({ "num.partitions": 0 }), /num.partitions must be at least 1/);
  assert.throws(() => new BrokerConfig({ "auto.create.topics.enable": "yes" }), /must be true or false/);
});

test("a YAML file error names the file, line and column", async () => {
  const path = await file("port: 9092\nlog.segment.bytes: 1048576\nlog.retention.ms: soon\n");
  await assert.rejects(
    () => readBrokerConfigFile(path),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.where === `${path}:3:19` &&
      /log.retention.ms must be an integer/.test(e.message),
  );
  const unknown = await file("data.dir: /tmp/x\n\nfoo.bar: 1\n");
  await assert.rejects(
    () => readBrokerConfigFile(unknown),
    (e: unknown) => e instanceof ConfigError && e.where === `${unknown}:3:1`,
  );
  const broken = await file("port: [1,\n");
  await assert.rejects(
    () => readBrokerConfigFile(broken),
    (e: unknown) => e instanceof ConfigError && e.where.startsWith(`${broken}:`),
  );
});

test("a YAML file separates process settings from Kafka settings", async () => {
  const path = await file("data.dir: /var/lib/ferry\nport: 9093\nnum.partitions: 3\n");
  const s = await readBrokerConfigFile(path);
  assert.equal(s.process["data.dir"]?.value, "/var/lib/ferry");
  assert.equal(s.process.port?.value, "9093");
  assert.equal(s.kafka["num.partitions"]?.value, "3");
});
