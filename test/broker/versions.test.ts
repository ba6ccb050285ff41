// Every served version of every non-group API answers well-formed requests, including
// error answers: a response field the version lacks must never break the encoding.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiKey, type ApiKeyNumber } from "../../src/protocol/generated/index.ts";
import { API_HANDLERS } from "../../src/broker/apis/index.ts";
import { encodeBatch } from "../../src/protocol/records/batch-codec.ts";
import { startTestBroker } from "./broker-helpers.ts";

const records = (): Buffer => encodeBatch({ records: [{ key: Buffer.from("k"), value: Buffer.from("v") }] });

/** Requests per API, with something that succeeds and something that fails. */
function requests(version: number): Partial<Record<ApiKeyNumber, object[]>> {
  const t = `v${version}`;
  return {
    [ApiKey.Metadata]: [
      {
        topics: [{ name: "known" }, { name: "bad/name" }],
        ...(version >= 4 ? { allowAutoTopicCreation: false } : {}),
      },
    ],
    [ApiKey.Produce]: [
      {
        acks: -1,
        timeoutMs: 1000,
        topicData: [
          {
            name: "known",
            partitionData: [
              { index: 0, records: records() },
              { index: 9, records: records() },
            ],
          },
        ],
      },
      {
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: "known", partitionData: [{ index: 0, records: Buffer.from([1, 2, 3]) }] }],
      },
    ],
    [ApiKey.Fetch]: [
      {
        maxWaitMs: 0,
        topics: [
          {
            topic: "known",
            partitions: [
              { partition: 0, fetchOffset: 0n, partitionMaxBytes: 1000 },
              { partition: 0, fetchOffset: 99n, partitionMaxBytes: 1000 },
            ],
          },
        ],
      },
    ],
    [ApiKey.ListOffsets]: [
      {
        replicaId: -1,
        topics: [
          {
            name: "known",
            partitions: [
              { partitionIndex: 0, timestamp: -1n },
              { partitionIndex: 5, timestamp: 0n },
            ],
          },
        ],
      },
    ],
    [ApiKey.CreateTopics]: [
      {
        topics: [
          { name: `c-${t}`, numPartitions: 1, replicationFactor: 1 },
          { name: "known", numPartitions: 1, replicationFactor: 1 },
        ],
        timeoutMs: 1000,
      },
    ],
    [ApiKey.CreatePartitions]: [
      {
        topics: [
          { name: `c-${t}`, count: 2, assignments: null },
          { name: "missing", count: 2, assignments: null },
        ],
        timeoutMs: 1000,
      },
    ],
    [ApiKey.DescribeConfigs]: [
      {
        resources: [
          { resourceType: 2, resourceName: "known", configurationKeys: null },
          { resourceType: 4, resourceName: "1", configurationKeys: null },
          { resourceType: 2, resourceName: "missing", configurationKeys: null },
        ],
        includeSynonyms: version >= 1,
      },
    ],
    [ApiKey.AlterConfigs]: [
      {
        resources: [
          { resourceType: 2, resourceName: "known", configs: [{ name: "retention.ms", value: "5000" }] },
          { resourceType: 2, resourceName: "known", configs: [{ name: "nope", value: "1" }] },
        ],
      },
    ],
    [ApiKey.IncrementalAlterConfigs]: [
      {
        resources: [
          {
            resourceType: 2,
            resourceName: "known",
            configs: [{ name: "cleanup.policy", configOperation: 2, value: "compact" }],
          },
          { resourceType: 4, resourceName: "1", configs: [] },
        ],
      },
    ],
    [ApiKey.DeleteRecords]: [
      {
        topics: [
          {
            name: "known",
            partitions: [
              { partitionIndex: 0, offset: 0n },
              { partitionIndex: 7, offset: 0n },
            ],
          },
        ],
        timeoutMs: 1000,
      },
    ],
    [ApiKey.OffsetForLeaderEpoch]: [
      {
        replicaId: -1,
        topics: [
          {
            topic: "known",
            partitions: [
              { partition: 0, leaderEpoch: 0 },
              { partition: 4, leaderEpoch: 0 },
            ],
          },
        ],
      },
    ],
    [ApiKey.InitProducerId]: [
      { transactionalId: null, transactionTimeoutMs: 1000 },
      { transactionalId: "tx", transactionTimeoutMs: 1000 },
    ],
    [ApiKey.FindCoordinator]: version < 4 ? [{ key: "g" }] : [{ keyType: 0, coordinatorKeys: ["g", "h"] }],
    [ApiKey.DescribeCluster]: [{}],
    [ApiKey.ApiVersions]: [{}],
    [ApiKey.DeleteTopics]:
      version >= 6
        ? [{ topics: [{ name: "missing" }], timeoutMs: 1000 }]
        : [{ topicNames: ["missing"], timeoutMs: 1000 }],
    [ApiKey.FerryMirrorAppend]: [
      {
        timeoutMs: 1000,
        topics: [
          {
            name: "known",
            partitions: [
              { index: 0, sourceLogStartOffset: -1n, records: records() },
              { index: 7, sourceLogStartOffset: 0n, records: null },
            ],
          },
        ],
      },
    ],
  };
}

test("every version of every topic and data API answers, errors included", async () => {
  const b = await startTestBroker();
  try {
    const c = await b.connect();
    await c.send(ApiKey.CreateTopics, 7, {
      topics: [{ name: "known", numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 1000,
    });
    let checked = 0;
    for (const h of API_HANDLERS) {
      for (let v = h.minVersion; v <= h.maxVersion; v++) {
        const reqs = requests(v)[h.key];
        if (reqs === undefined) continue;
        for (const body of reqs) {
          const res = await c.send(h.key, v, body as never).catch((e: unknown) => {
            throw new Error(`API ${h.key} v${v} failed: ${e instanceof Error ? e.message : String(e)}`);
          });
          assert.ok(res !== undefined);
          checked++;
        }
      }
    }
    assert.ok(checked > 100, `checked ${checked} request versions`);
    await c.close();
  } finally {
    await b.destroy();
  }
});
