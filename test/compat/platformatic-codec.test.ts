// Differential codec tests against @platformatic/kafka (an independent TypeScript client
// that writes one hand-made codec per API version, flexible versions included): requests
// it encodes must decode with our codec to the values it was given and re-encode to the
// same bytes, and responses we encode must parse with its parsers to the values we wrote.
// Its API functions are driven through a stand-in connection, so no socket is involved.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Reader, createRecordsBatch, readRecordsBatch, type MessageRecord } from "@platformatic/kafka";
import { ApiKey, type ApiKeyNumber } from "../../src/protocol/generated/index.ts";
import {
  decodeRequest,
  encodeApiVersionsUnsupported,
  encodeDecodedRequest,
} from "../../src/protocol/messages.ts";
import {
  assertMatches,
  frameBody,
  hexToUuid,
  responseEncoder,
  versions,
  type RequestExpectation,
  type ResponseEncoder,
  type ResponseInput,
} from "./compat-helpers.ts";
import { capture, frameRequest, parseResponseFrame, platformaticApi } from "./platformatic-harness.ts";

// --- the case table -----------------------------------------------------------------------

interface PlatformaticCase {
  title: string;
  /** The export name's stem: `metadata` for metadataV0 ... metadataV12. */
  api: string;
  key: ApiKeyNumber;
  versions: number[];
  /** The API function's arguments; platformatic keeps one signature across versions. */
  args: (v: number) => unknown[];
  request: (v: number) => unknown;
  checkRequest?: (body: Record<string, unknown>, v: number) => void;
  response: ResponseEncoder;
  parsed: (v: number) => unknown;
}

interface CaseSpec<K extends ApiKeyNumber> {
  title: string;
  api: string;
  key: K;
  versions: number[];
  args: (v: number) => unknown[];
  request: (v: number) => RequestExpectation<K>;
  checkRequest?: (body: Record<string, unknown>, v: number) => void;
  response: (v: number) => ResponseInput<K>;
  parsed: (v: number) => unknown;
}

/** Declares a case, checking its request and response bodies against API `K`'s types. */
function defineCase<K extends ApiKeyNumber>(spec: CaseSpec<K>): PlatformaticCase {
  return { ...spec, response: responseEncoder(spec.key, spec.response) };
}

function when<T extends object>(cond: boolean, fields: T): T | Record<string, never> {
  return cond ? fields : {};
}

const TOPIC_ID_HEX = "5b2d6a1e-7c3f-4a8e-9d10-112233445566";
const TOPIC_ID = hexToUuid(TOPIC_ID_HEX);
const OTHER_ID_HEX = "00112233-4455-6677-8899-aabbccddeeff";
const OTHER_ID = hexToUuid(OTHER_ID_HEX);
const ZERO_ID_HEX = "00000000-0000-0000-0000-000000000000";
const T0 = 1_700_000_000_000n;

function produced(): MessageRecord[] {
  return [
    {
      topic: "orders",
      partition: 3,
      key: Buffer.from("k1"),
      value: Buffer.from("first"),
      timestamp: T0,
      headers: new Map([[Buffer.from("trace-id"), Buffer.from("abc")]]),
    },
    { topic: "orders", partition: 3, value: Buffer.from("second"), timestamp: T0 + 5n },
    {
      topic: "audit",
      partition: 0,
      key: Buffer.from("a"),
      value: Buffer.from("audited"),
      timestamp: T0 + 9n,
    },
  ];
}

const FETCH_BASE_OFFSET = 400n;

/** A record batch made by platformatic's producer code, at the offset a broker stored it. */
function fetchedRecords(): Buffer {
  const batch = Buffer.from(
    createRecordsBatch([
      {
        topic: "orders",
        key: Buffer.from("fk1"),
        value: Buffer.from("fetched-1"),
        timestamp: T0,
        headers: new Map([[Buffer.from("h"), Buffer.from("1")]]),
      },
      { topic: "orders", value: Buffer.from("fetched-2"), timestamp: T0 + 1n },
    ]).buffer,
  );
  // The base offset is outside the batch checksum, so the broker's rewrite is just this.
  batch.writeBigInt64BE(FETCH_BASE_OFFSET, 0);
  return batch;
}

const CASES: PlatformaticCase[] = [
  defineCase({
    title: "ApiVersions",
    api: "apiVersions",
    key: ApiKey.ApiVersions,
    versions: versions(0, 4),
    args: () => ["ferry-compat-suite", "1.2.3"],
    request: (v) => ({
      clientSoftwareName: v >= 3 ? "ferry-compat-suite" : "",
      clientSoftwareVersion: v >= 3 ? "1.2.3" : "",
    }),
    response: (v) => ({
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 3, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      throttleTimeMs: v >= 1 ? 25 : 0,
      supportedFeatures: v >= 3 ? [{ name: "metadata.version", minVersion: 1, maxVersion: 21 }] : [],
      finalizedFeaturesEpoch: v >= 3 ? 42n : -1n,
      finalizedFeatures:
        v >= 3 ? [{ name: "metadata.version", maxVersionLevel: 21, minVersionLevel: 21 }] : [],
      zkMigrationReady: v >= 3,
    }),
    parsed: (v) => ({
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, name: "Produce", minVersion: 3, maxVersion: 11 },
        { apiKey: 18, name: "ApiVersions", minVersion: 0, maxVersion: 4 },
      ],
      throttleTimeMs: v >= 1 ? 25 : 0,
      ...when(v >= 3, {
        supportedFeatures: [{ name: "metadata.version", minVersion: 1, maxVersion: 21 }],
        finalizedFeaturesEpoch: 42n,
        finalizedFeatures: [{ name: "metadata.version", maxVersionLevel: 21, minVersionLevel: 21 }],
        zkMigrationReady: true,
      }),
    }),
  }),
  defineCase({
    title: "Metadata",
    api: "metadata",
    key: ApiKey.Metadata,
    versions: versions(0, 12),
    // Topics by id from v12: v10 and v11 of platformatic write a zero id and an empty name.
    args: (v) => [
      v >= 10 ? ["orders", { topicId: TOPIC_ID_HEX }, { name: "payments" }] : ["orders", "payments"],
      false,
      true,
      true,
    ],
    request: (v) => ({
      topics:
        v >= 10
          ? [
              { topicId: hexToUuid(ZERO_ID_HEX), name: "orders" },
              v >= 12 ? { topicId: TOPIC_ID, name: null } : { topicId: hexToUuid(ZERO_ID_HEX), name: "" },
              { topicId: hexToUuid(ZERO_ID_HEX), name: "payments" },
            ]
          : [{ name: "orders" }, { name: "payments" }],
      allowAutoTopicCreation: v < 4,
      includeClusterAuthorizedOperations: v >= 8 && v <= 10,
      includeTopicAuthorizedOperations: v >= 8,
    }),
    response: (v) => ({
      throttleTimeMs: v >= 3 ? 7 : 0,
      brokers: [
        { nodeId: 1, host: "b1.example", port: 9092, rack: v >= 1 ? "rack-a" : null },
        { nodeId: 2, host: "b2.example", port: 19092, rack: null },
      ],
      clusterId: v >= 2 ? "cluster-x" : null,
      controllerId: v >= 1 ? 2 : -1,
      topics: [
        {
          errorCode: 0,
          name: "orders",
          topicId: v >= 10 ? TOPIC_ID : undefined,
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: v >= 7 ? 12 : -1,
              replicaNodes: [1, 2],
              isrNodes: [1],
              offlineReplicas: v >= 5 ? [2] : [],
            },
          ],
          topicAuthorizedOperations: v >= 8 ? 0x0ff8 : -2147483648,
        },
        { errorCode: 3, name: "missing", partitions: [] },
      ],
      clusterAuthorizedOperations: v >= 8 && v <= 10 ? 0x0ab8 : -2147483648,
    }),
    parsed: (v) => ({
      throttleTimeMs: v >= 3 ? 7 : 0,
      brokers: [
        { nodeId: 1, host: "b1.example", port: 9092, rack: v >= 1 ? "rack-a" : null },
        { nodeId: 2, host: "b2.example", port: 19092, rack: null },
      ],
      clusterId: v >= 2 ? "cluster-x" : null,
      controllerId: v >= 1 ? 2 : -1,
      topics: [
        {
          errorCode: 0,
          name: "orders",
          topicId: v >= 10 ? TOPIC_ID_HEX : ZERO_ID_HEX,
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: v >= 7 ? 12 : -1,
              replicaNodes: [1, 2],
              isrNodes: [1],
              offlineReplicas: v >= 5 ? [2] : [],
            },
          ],
          topicAuthorizedOperations: v >= 8 ? 0x0ff8 : -2147483648,
        },
        { errorCode: 3, name: "missing", partitions: [] },
      ],
      ...when(v >= 8 && v <= 10, { clusterAuthorizedOperations: 0x0ab8 }),
    }),
  }),
  defineCase({
    title: "Produce",
    api: "produce",
    key: ApiKey.Produce,
    versions: versions(3, 11),
    args: () => [-1, 30_000, produced(), { transactionalId: "txn-1", producerId: 4000n, producerEpoch: 2 }],
    request: () => ({
      transactionalId: "txn-1",
      acks: -1,
      timeoutMs: 30_000,
      topicData: [
        { name: "orders", partitionData: [{ index: 3 }] },
        { name: "audit", partitionData: [{ index: 0 }] },
      ],
    }),
    checkRequest: (body) => {
      const topics = body.topicData as { partitionData: { records: unknown }[] }[];
      const records = topics[0]?.partitionData[0]?.records;
      assert.ok(Buffer.isBuffer(records), "records must stay raw bytes");
      const reader = Reader.from(records);
      assertMatches(readRecordsBatch(reader), {
        firstOffset: 0n,
        lastOffsetDelta: 1,
        firstTimestamp: T0,
        maxTimestamp: T0 + 5n,
        producerId: 4000n,
        producerEpoch: 2,
        records: [
          {
            offsetDelta: 0,
            timestampDelta: 0n,
            key: Buffer.from("k1"),
            value: Buffer.from("first"),
            headers: [[Buffer.from("trace-id"), Buffer.from("abc")]],
          },
          { offsetDelta: 1, timestampDelta: 5n, key: null, value: Buffer.from("second"), headers: [] },
        ],
      });
      assert.equal(reader.remaining, 0);
    },
    response: (v) => ({
      responses: [
        {
          name: "orders",
          partitionResponses: [
            {
              index: 3,
              errorCode: 0,
              baseOffset: 1_234_567_890_123n,
              logAppendTimeMs: 1_700_000_000_999n,
              logStartOffset: v >= 5 ? 100n : -1n,
              recordErrors: v >= 8 ? [{ batchIndex: 1, batchIndexErrorMessage: null }] : [],
              errorMessage: null,
              currentLeader: v >= 10 ? { leaderId: 2, leaderEpoch: 14 } : undefined,
            },
          ],
        },
      ],
      throttleTimeMs: 11,
      nodeEndpoints: v >= 10 ? [{ nodeId: 2, host: "b2.example", port: 19092, rack: "rack-b" }] : [],
    }),
    parsed: (v) => ({
      responses: [
        {
          name: "orders",
          partitionResponses: [
            {
              index: 3,
              errorCode: 0,
              baseOffset: 1_234_567_890_123n,
              logAppendTimeMs: 1_700_000_000_999n,
              logStartOffset: v >= 5 ? 100n : -1n,
              recordErrors: v >= 8 ? [{ batchIndex: 1, batchIndexErrorMessage: null }] : [],
              errorMessage: null,
              ...when(v >= 10, { currentLeader: { leaderId: 2, leaderEpoch: 14 } }),
            },
          ],
        },
      ],
      throttleTimeMs: 11,
      ...when(v >= 10, { nodeEndpoints: [{ nodeId: 2, host: "b2.example", port: 19092, rack: "rack-b" }] }),
    }),
  }),
  defineCase({
    title: "Fetch",
    api: "fetch",
    key: ApiKey.Fetch,
    versions: versions(4, 17),
    args: (v) => [
      500,
      1,
      52_428_800,
      1,
      77,
      3,
      [
        {
          // platformatic carries the topic name in topicId before v13, when ids replaced names.
          topicId: v >= 13 ? TOPIC_ID_HEX : "orders",
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: 5,
              fetchOffset: 12_345_678_901n,
              lastFetchedEpoch: 4,
              logStartOffset: -1n,
              partitionMaxBytes: 1_048_576,
              ...when(v >= 17, { replicaDirectoryId: OTHER_ID_HEX }),
            },
          ],
        },
      ],
      [v >= 13 ? { topicId: OTHER_ID_HEX, partitions: [1, 2] } : { topic: "old", partitions: [1, 2] }],
      "rack-b",
    ],
    request: (v) => ({
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52_428_800,
      isolationLevel: 1,
      sessionId: v >= 7 ? 77 : 0,
      sessionEpoch: v >= 7 ? 3 : -1,
      topics: [
        {
          topic: v <= 12 ? "orders" : "",
          topicId: v >= 13 ? TOPIC_ID : hexToUuid(ZERO_ID_HEX),
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: v >= 9 ? 5 : -1,
              fetchOffset: 12_345_678_901n,
              lastFetchedEpoch: v >= 12 ? 4 : -1,
              logStartOffset: -1n,
              partitionMaxBytes: 1_048_576,
              replicaDirectoryId: v >= 17 ? OTHER_ID : hexToUuid(ZERO_ID_HEX),
            },
          ],
        },
      ],
      forgottenTopicsData:
        v < 7
          ? []
          : v >= 13
            ? [{ topic: "", topicId: OTHER_ID, partitions: [1, 2] }]
            : [{ topic: "old", partitions: [1, 2] }],
      rackId: v >= 11 ? "rack-b" : "",
    }),
    response: (v) => ({
      throttleTimeMs: 79,
      errorCode: 0,
      sessionId: v >= 7 ? 77 : 0,
      responses: [
        {
          topic: v <= 12 ? "orders" : "",
          topicId: v >= 13 ? TOPIC_ID : undefined,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 500n,
              lastStableOffset: 450n,
              logStartOffset: v >= 5 ? 10n : -1n,
              ...when(v >= 12, {
                divergingEpoch: { epoch: 3, endOffset: 420n },
                currentLeader: { leaderId: 2, leaderEpoch: 6 },
                snapshotId: { endOffset: 100n, epoch: 1 },
              }),
              abortedTransactions: [{ producerId: 9n, firstOffset: 400n }],
              preferredReadReplica: v >= 11 ? 2 : -1,
              records: fetchedRecords(),
            },
            { partitionIndex: 1, errorCode: 1, highWatermark: -1n, abortedTransactions: null, records: null },
          ],
        },
      ],
      nodeEndpoints: v >= 16 ? [{ nodeId: 2, host: "b2.example", port: 19092, rack: null }] : [],
    }),
    parsed: (v) => ({
      throttleTimeMs: 79,
      errorCode: 0,
      sessionId: v >= 7 ? 77 : 0,
      responses: [
        {
          topicId: v >= 13 ? TOPIC_ID_HEX : "orders",
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 500n,
              lastStableOffset: 450n,
              logStartOffset: v >= 5 ? 10n : -1n,
              ...when(v >= 12, {
                divergingEpoch: { epoch: 3, endOffset: 420n },
                currentLeader: { leaderId: 2, leaderEpoch: 6 },
                snapshotId: { endOffset: 100n, epoch: 1 },
              }),
              abortedTransactions: [{ producerId: 9n, firstOffset: 400n }],
              preferredReadReplica: v >= 11 ? 2 : -1,
              records: [
                {
                  firstOffset: FETCH_BASE_OFFSET,
                  lastOffsetDelta: 1,
                  firstTimestamp: T0,
                  maxTimestamp: T0 + 1n,
                  records: [
                    {
                      offsetDelta: 0,
                      key: Buffer.from("fk1"),
                      value: Buffer.from("fetched-1"),
                      headers: [[Buffer.from("h"), Buffer.from("1")]],
                    },
                    {
                      offsetDelta: 1,
                      timestampDelta: 1n,
                      key: null,
                      value: Buffer.from("fetched-2"),
                      headers: [],
                    },
                  ],
                },
              ],
            },
            { partitionIndex: 1, errorCode: 1, highWatermark: -1n, abortedTransactions: null, records: null },
          ],
        },
      ],
      ...when(v >= 16, { nodeEndpoints: [{ nodeId: 2, host: "b2.example", port: 19092, rack: null }] }),
    }),
  }),
  defineCase({
    title: "ListOffsets",
    api: "listOffsets",
    key: ApiKey.ListOffsets,
    versions: versions(0, 9),
    args: () => [
      -1,
      1,
      [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, currentLeaderEpoch: 5, timestamp: -2n },
            { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: T0 },
          ],
        },
      ],
    ],
    request: (v) => ({
      replicaId: -1,
      isolationLevel: v >= 2 ? 1 : 0,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, currentLeaderEpoch: v >= 4 ? 5 : -1, timestamp: -2n, maxNumOffsets: 1 },
            { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: T0, maxNumOffsets: 1 },
          ],
        },
      ],
    }),
    response: (v) => ({
      throttleTimeMs: v >= 2 ? 13 : 0,
      topics: [
        {
          name: "orders",
          partitions: [
            v === 0
              ? { partitionIndex: 0, errorCode: 0, oldStyleOffsets: [9_007_199_254_740_993n] }
              : {
                  partitionIndex: 0,
                  errorCode: 0,
                  timestamp: T0,
                  offset: 9_007_199_254_740_993n,
                  leaderEpoch: v >= 4 ? 5 : -1,
                },
            { partitionIndex: 1, errorCode: 6, oldStyleOffsets: [], timestamp: -1n, offset: -1n },
          ],
        },
      ],
    }),
    parsed: (v) => ({
      throttleTimeMs: v >= 2 ? 13 : 0,
      topics: [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              ...when(v >= 1, { timestamp: T0 }),
              offset: 9_007_199_254_740_993n,
              leaderEpoch: v >= 4 ? 5 : -1,
            },
            { partitionIndex: 1, errorCode: 6, ...when(v >= 1, { timestamp: -1n, offset: -1n }) },
          ],
        },
      ],
    }),
  }),
  defineCase({
    title: "FindCoordinator",
    api: "findCoordinator",
    key: ApiKey.FindCoordinator,
    versions: versions(0, 6),
    args: () => [1, ["txn-1", "txn-2"]],
    request: (v) =>
      v >= 4
        ? { keyType: 1, coordinatorKeys: ["txn-1", "txn-2"] }
        : { key: "txn-1", keyType: v >= 1 ? 1 : 0, coordinatorKeys: [] },
    response: (v) =>
      v >= 4
        ? {
            throttleTimeMs: 3,
            coordinators: [
              {
                key: "txn-1",
                nodeId: 3,
                host: "coord.example",
                port: 9094,
                errorCode: 0,
                errorMessage: null,
              },
              {
                key: "txn-2",
                nodeId: -1,
                host: "",
                port: -1,
                errorCode: 15,
                errorMessage: "coordinator moving",
              },
            ],
          }
        : {
            throttleTimeMs: v >= 1 ? 3 : 0,
            errorCode: 0,
            errorMessage: v >= 1 ? "fine" : null,
            nodeId: 3,
            host: "coord.example",
            port: 9094,
          },
    parsed: (v) => ({
      throttleTimeMs: v >= 1 ? 3 : 0,
      coordinators:
        v >= 4
          ? [
              {
                key: "txn-1",
                nodeId: 3,
                host: "coord.example",
                port: 9094,
                errorCode: 0,
                errorMessage: null,
              },
              {
                key: "txn-2",
                nodeId: -1,
                host: "",
                port: -1,
                errorCode: 15,
                errorMessage: "coordinator moving",
              },
            ]
          : [
              {
                nodeId: 3,
                host: "coord.example",
                port: 9094,
                errorCode: 0,
                errorMessage: v >= 1 ? "fine" : null,
              },
            ],
    }),
  }),
  defineCase({
    title: "JoinGroup",
    api: "joinGroup",
    key: ApiKey.JoinGroup,
    versions: versions(0, 9),
    args: () => [
      "group-a",
      30_000,
      60_000,
      "member-1",
      "instance-1",
      "consumer",
      [
        { name: "range", metadata: Buffer.from([0, 1, 0, 0, 0, 1]) },
        { name: "roundrobin", metadata: null },
      ],
      "rejoining after restart",
    ],
    request: (v) => ({
      groupId: "group-a",
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: v >= 1 ? 60_000 : -1,
      memberId: "member-1",
      groupInstanceId: v >= 5 ? "instance-1" : null,
      protocolType: "consumer",
      protocols: [
        { name: "range", metadata: Buffer.from([0, 1, 0, 0, 0, 1]) },
        { name: "roundrobin", metadata: Buffer.alloc(0) },
      ],
      reason: v >= 8 ? "rejoining after restart" : null,
    }),
    response: (v) => ({
      throttleTimeMs: v >= 2 ? 17 : 0,
      errorCode: 0,
      generationId: 7,
      protocolType: v >= 7 ? "consumer" : null,
      protocolName: "range",
      leader: "member-1",
      skipAssignment: v >= 9,
      memberId: "member-2",
      members: [
        {
          memberId: "member-1",
          groupInstanceId: v >= 5 ? "instance-1" : null,
          metadata: Buffer.from([1, 2, 3]),
        },
        { memberId: "member-2", metadata: Buffer.alloc(0) },
      ],
    }),
    parsed: (v) => ({
      throttleTimeMs: v >= 2 ? 17 : 0,
      errorCode: 0,
      generationId: 7,
      protocolType: v >= 7 ? "consumer" : null,
      protocolName: "range",
      leader: "member-1",
      skipAssignment: v >= 9,
      memberId: "member-2",
      members: [
        {
          memberId: "member-1",
          groupInstanceId: v >= 5 ? "instance-1" : null,
          metadata: Buffer.from([1, 2, 3]),
        },
        { memberId: "member-2", groupInstanceId: null, metadata: Buffer.alloc(0) },
      ],
    }),
  }),
  defineCase({
    title: "SyncGroup",
    api: "syncGroup",
    key: ApiKey.SyncGroup,
    versions: versions(0, 5),
    args: () => [
      "group-a",
      7,
      "member-1",
      "instance-1",
      "consumer",
      "range",
      [
        { memberId: "member-1", assignment: Buffer.from("assignment-1") },
        { memberId: "member-2", assignment: Buffer.alloc(0) },
      ],
    ],
    request: (v) => ({
      groupId: "group-a",
      generationId: 7,
      memberId: "member-1",
      groupInstanceId: v >= 3 ? "instance-1" : null,
      protocolType: v >= 5 ? "consumer" : null,
      protocolName: v >= 5 ? "range" : null,
      assignments: [
        { memberId: "member-1", assignment: Buffer.from("assignment-1") },
        { memberId: "member-2", assignment: Buffer.alloc(0) },
      ],
    }),
    response: (v) => ({
      throttleTimeMs: v >= 1 ? 19 : 0,
      errorCode: 0,
      protocolType: v >= 5 ? "consumer" : null,
      protocolName: v >= 5 ? "range" : null,
      assignment: Buffer.from("mine"),
    }),
    parsed: (v) => ({
      throttleTimeMs: v >= 1 ? 19 : 0,
      errorCode: 0,
      protocolType: v >= 5 ? "consumer" : null,
      protocolName: v >= 5 ? "range" : null,
      assignment: Buffer.from("mine"),
    }),
  }),
  defineCase({
    title: "Heartbeat",
    api: "heartbeat",
    key: ApiKey.Heartbeat,
    versions: versions(0, 4),
    args: () => ["group-a", 7, "member-1", "instance-1"],
    request: (v) => ({
      groupId: "group-a",
      generationId: 7,
      memberId: "member-1",
      groupInstanceId: v >= 3 ? "instance-1" : null,
    }),
    response: (v) => ({ throttleTimeMs: v >= 1 ? 23 : 0, errorCode: 27 }),
    parsed: (v) => ({ throttleTimeMs: v >= 1 ? 23 : 0, errorCode: 27 }),
  }),
  defineCase({
    title: "LeaveGroup",
    api: "leaveGroup",
    key: ApiKey.LeaveGroup,
    versions: versions(0, 5),
    args: () => [
      "group-a",
      [
        { memberId: "member-1", groupInstanceId: "instance-1", reason: "shutting down" },
        { memberId: "member-2" },
      ],
    ],
    request: (v) =>
      v >= 3
        ? {
            groupId: "group-a",
            memberId: "",
            members: [
              {
                memberId: "member-1",
                groupInstanceId: "instance-1",
                reason: v >= 5 ? "shutting down" : null,
              },
              { memberId: "member-2", groupInstanceId: null, reason: null },
            ],
          }
        : { groupId: "group-a", memberId: "member-1", members: [] },
    response: (v) => ({
      throttleTimeMs: v >= 1 ? 29 : 0,
      errorCode: 0,
      members:
        v >= 3
          ? [
              { memberId: "member-1", groupInstanceId: "instance-1", errorCode: 0 },
              { memberId: "member-2", groupInstanceId: null, errorCode: 25 },
            ]
          : [],
    }),
    parsed: (v) => ({
      throttleTimeMs: v >= 1 ? 29 : 0,
      errorCode: 0,
      members:
        v >= 3
          ? [
              { memberId: "member-1", groupInstanceId: "instance-1", errorCode: 0 },
              { memberId: "member-2", groupInstanceId: null, errorCode: 25 },
            ]
          : [],
    }),
  }),
  defineCase({
    title: "OffsetCommit",
    api: "offsetCommit",
    key: ApiKey.OffsetCommit,
    versions: versions(0, 9),
    args: () => [
      "group-a",
      7,
      "member-1",
      "instance-1",
      [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 12_345n,
              committedLeaderEpoch: 4,
              committedMetadata: "meta",
            },
            { partitionIndex: 1, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    ],
    request: (v) => ({
      groupId: "group-a",
      generationIdOrMemberEpoch: v >= 1 ? 7 : -1,
      memberId: v >= 1 ? "member-1" : "",
      groupInstanceId: v >= 7 ? "instance-1" : null,
      retentionTimeMs: -1n,
      topics: [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 12_345n,
              committedLeaderEpoch: v >= 6 ? 4 : -1,
              commitTimestamp: -1n,
              committedMetadata: "meta",
            },
            { partitionIndex: 1, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    }),
    response: (v) => ({
      throttleTimeMs: v >= 3 ? 31 : 0,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            { partitionIndex: 1, errorCode: 22 },
          ],
        },
      ],
    }),
    parsed: (v) => ({
      throttleTimeMs: v >= 3 ? 31 : 0,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            { partitionIndex: 1, errorCode: 22 },
          ],
        },
      ],
    }),
  }),
  defineCase({
    title: "OffsetFetch",
    api: "offsetFetch",
    key: ApiKey.OffsetFetch,
    versions: versions(0, 9),
    args: () => [
      [
        {
          groupId: "group-a",
          memberId: "member-1",
          memberEpoch: 12,
          topics: [{ name: "orders", partitionIndexes: [0, 2] }],
        },
        { groupId: "group-b", memberId: null, memberEpoch: -1, topics: null },
      ],
      true,
    ],
    request: (v) =>
      v >= 8
        ? {
            groups: [
              {
                groupId: "group-a",
                memberId: v >= 9 ? "member-1" : null,
                memberEpoch: v >= 9 ? 12 : -1,
                topics: [{ name: "orders", partitionIndexes: [0, 2] }],
              },
              { groupId: "group-b", memberId: null, memberEpoch: -1, topics: null },
            ],
            requireStable: true,
          }
        : {
            groupId: "group-a",
            topics: [{ name: "orders", partitionIndexes: [0, 2] }],
            groups: [],
            requireStable: v >= 7,
          },
    response: (v) =>
      v >= 8
        ? {
            throttleTimeMs: 37,
            groups: [
              {
                groupId: "group-a",
                topics: [
                  {
                    name: "orders",
                    partitions: [
                      {
                        partitionIndex: 0,
                        committedOffset: 42n,
                        committedLeaderEpoch: 3,
                        metadata: "m",
                        errorCode: 0,
                      },
                    ],
                  },
                ],
                errorCode: 0,
              },
              { groupId: "group-b", topics: [], errorCode: 69 },
            ],
          }
        : {
            throttleTimeMs: v >= 3 ? 37 : 0,
            topics: [
              {
                name: "orders",
                partitions: [
                  {
                    partitionIndex: 0,
                    committedOffset: 42n,
                    committedLeaderEpoch: v >= 5 ? 3 : -1,
                    metadata: "m",
                    errorCode: 0,
                  },
                  { partitionIndex: 2, committedOffset: -1n, metadata: null, errorCode: 0 },
                ],
              },
            ],
            errorCode: v >= 2 ? 16 : 0,
          },
    parsed: (v) =>
      v >= 8
        ? {
            throttleTimeMs: 37,
            groups: [
              {
                groupId: "group-a",
                topics: [
                  {
                    name: "orders",
                    partitions: [
                      {
                        partitionIndex: 0,
                        committedOffset: 42n,
                        committedLeaderEpoch: 3,
                        metadata: "m",
                        errorCode: 0,
                      },
                    ],
                  },
                ],
                errorCode: 0,
              },
              { groupId: "group-b", topics: [], errorCode: 69 },
            ],
          }
        : {
            throttleTimeMs: v >= 3 ? 37 : 0,
            topics: [
              {
                name: "orders",
                partitions: [
                  {
                    partitionIndex: 0,
                    committedOffset: 42n,
                    committedLeaderEpoch: v >= 5 ? 3 : -1,
                    metadata: "m",
                    errorCode: 0,
                  },
                  {
                    partitionIndex: 2,
                    committedOffset: -1n,
                    committedLeaderEpoch: -1,
                    metadata: null,
                    errorCode: 0,
                  },
                ],
              },
            ],
            errorCode: v >= 2 ? 16 : 0,
          },
  }),
  defineCase({
    title: "CreateTopics",
    api: "createTopics",
    key: ApiKey.CreateTopics,
    versions: versions(0, 7),
    args: () => [
      [
        {
          name: "new-topic",
          numPartitions: 6,
          replicationFactor: 3,
          assignments: [],
          configs: [
            { name: "cleanup.policy", value: "compact" },
            { name: "retention.ms", value: null },
          ],
        },
        {
          name: "assigned",
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
          configs: [],
        },
      ],
      15_000,
      true,
    ],
    request: (v) => ({
      topics: [
        {
          name: "new-topic",
          numPartitions: 6,
          replicationFactor: 3,
          assignments: [],
          configs: [
            { name: "cleanup.policy", value: "compact" },
            { name: "retention.ms", value: null },
          ],
        },
        {
          name: "assigned",
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
          configs: [],
        },
      ],
      timeoutMs: 15_000,
      validateOnly: v >= 1,
    }),
    response: (v) => ({
      throttleTimeMs: v >= 2 ? 41 : 0,
      topics: [
        {
          name: "new-topic",
          topicId: v >= 7 ? TOPIC_ID : undefined,
          errorCode: 0,
          errorMessage: null,
          topicConfigErrorCode: v >= 5 ? 29 : 0,
          numPartitions: v >= 5 ? 6 : -1,
          replicationFactor: v >= 5 ? 3 : -1,
          configs:
            v >= 5
              ? [
                  {
                    name: "cleanup.policy",
                    value: "compact",
                    readOnly: false,
                    configSource: 1,
                    isSensitive: false,
                  },
                ]
              : null,
        },
        { name: "assigned", errorCode: 36, errorMessage: v >= 1 ? "Topic already exists" : null },
      ],
    }),
    parsed: (v) => ({
      throttleTimeMs: v >= 2 ? 41 : 0,
      topics: [
        {
          name: "new-topic",
          topicId: v >= 7 ? TOPIC_ID_HEX : ZERO_ID_HEX,
          errorCode: 0,
          errorMessage: null,
          // v5 and v6 of platformatic skip this tagged field by its size; v7 reads it.
          ...when(v >= 7, { topicConfigErrorCode: 29 }),
          numPartitions: v >= 5 ? 6 : -1,
          replicationFactor: v >= 5 ? 3 : -1,
          configs:
            v >= 5
              ? [
                  {
                    name: "cleanup.policy",
                    value: "compact",
                    readOnly: false,
                    configSource: 1,
                    isSensitive: false,
                  },
                ]
              : null,
        },
        { name: "assigned", errorCode: 36, errorMessage: v >= 1 ? "Topic already exists" : null },
      ],
    }),
  }),
  defineCase({
    title: "DeleteTopics",
    api: "deleteTopics",
    key: ApiKey.DeleteTopics,
    versions: versions(0, 6),
    args: (v) => [
      v >= 6 ? [{ name: "old-a" }, { topicId: TOPIC_ID_HEX }] : [{ name: "old-a" }, { name: "old-b" }],
      9000,
    ],
    request: (v) =>
      v >= 6
        ? {
            topics: [
              { name: "old-a", topicId: hexToUuid(ZERO_ID_HEX) },
              { name: null, topicId: TOPIC_ID },
            ],
            topicNames: [],
            timeoutMs: 9000,
          }
        : { topics: [], topicNames: ["old-a", "old-b"], timeoutMs: 9000 },
    response: (v) => ({
      throttleTimeMs: v >= 1 ? 43 : 0,
      responses: [
        { name: "old-a", errorCode: 0, errorMessage: null },
        {
          name: v >= 6 ? null : "old-b",
          topicId: v >= 6 ? TOPIC_ID : undefined,
          errorCode: 3,
          errorMessage: v >= 5 ? "no such topic" : null,
        },
      ],
    }),
    parsed: (v) => ({
      throttleTimeMs: v >= 1 ? 43 : 0,
      responses: [
        { name: "old-a", topicId: ZERO_ID_HEX, errorCode: 0, errorMessage: null },
        {
          name: v >= 6 ? null : "old-b",
          topicId: v >= 6 ? TOPIC_ID_HEX : ZERO_ID_HEX,
          errorCode: 3,
          errorMessage: v >= 5 ? "no such topic" : null,
        },
      ],
    }),
  }),
  defineCase({
    title: "DescribeConfigs",
    api: "describeConfigs",
    key: ApiKey.DescribeConfigs,
    versions: versions(0, 4),
    args: () => [
      [
        { resourceType: 2, resourceName: "orders", configurationKeys: ["retention.ms", "cleanup.policy"] },
        { resourceType: 4, resourceName: "1", configurationKeys: null },
      ],
      true,
      true,
    ],
    request: (v) => ({
      resources: [
        { resourceType: 2, resourceName: "orders", configurationKeys: ["retention.ms", "cleanup.policy"] },
        { resourceType: 4, resourceName: "1", configurationKeys: null },
      ],
      includeSynonyms: v >= 1,
      includeDocumentation: v >= 3,
    }),
    response: (v) => ({
      throttleTimeMs: 47,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: "orders",
          configs: [
            {
              name: "retention.ms",
              value: "86400000",
              readOnly: false,
              isDefault: false,
              configSource: v >= 1 ? 1 : -1,
              isSensitive: false,
              synonyms: v >= 1 ? [{ name: "log.retention.ms", value: "604800000", source: 4 }] : [],
              configType: v >= 3 ? 5 : 0,
              documentation: v >= 3 ? "How long to keep a log." : null,
            },
            { name: "sasl.jaas.config", value: null, readOnly: true, isSensitive: true },
          ],
        },
        { errorCode: 38, errorMessage: "broker not found", resourceType: 4, resourceName: "1", configs: [] },
      ],
    }),
    parsed: (v) => ({
      throttleTimeMs: 47,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: "orders",
          configs: [
            {
              name: "retention.ms",
              value: "86400000",
              readOnly: false,
              configSource: v >= 1 ? 1 : -1,
              isSensitive: false,
              synonyms: v >= 1 ? [{ name: "log.retention.ms", value: "604800000", source: 4 }] : [],
              configType: v >= 3 ? 5 : 0,
              documentation: v >= 3 ? "How long to keep a log." : null,
            },
            { name: "sasl.jaas.config", value: null, readOnly: true, isSensitive: true, synonyms: [] },
          ],
        },
        { errorCode: 38, errorMessage: "broker not found", resourceType: 4, resourceName: "1", configs: [] },
      ],
    }),
  }),
  defineCase({
    title: "InitProducerId",
    api: "initProducerId",
    key: ApiKey.InitProducerId,
    versions: versions(0, 5),
    args: () => ["txn-1", 60_000, 4000n, 2],
    request: (v) => ({
      transactionalId: "txn-1",
      transactionTimeoutMs: 60_000,
      producerId: v >= 3 ? 4000n : -1n,
      producerEpoch: v >= 3 ? 2 : -1,
    }),
    response: () => ({ throttleTimeMs: 53, errorCode: 0, producerId: 123_456_789_012n, producerEpoch: 4 }),
    parsed: () => ({ throttleTimeMs: 53, errorCode: 0, producerId: 123_456_789_012n, producerEpoch: 4 }),
  }),
  defineCase({
    title: "InitProducerId without a transactional id",
    api: "initProducerId",
    key: ApiKey.InitProducerId,
    versions: versions(0, 5),
    args: () => [null, 60_000],
    request: () => ({
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    }),
    response: () => ({ errorCode: 0, producerId: 7n, producerEpoch: 0 }),
    parsed: () => ({ errorCode: 0, producerId: 7n, producerEpoch: 0 }),
  }),
  defineCase({
    title: "DescribeGroups",
    api: "describeGroups",
    key: ApiKey.DescribeGroups,
    versions: versions(0, 5),
    args: () => [["group-a", "group-b"], true],
    request: (v) => ({ groups: ["group-a", "group-b"], includeAuthorizedOperations: v >= 3 }),
    response: (v) => ({
      throttleTimeMs: v >= 1 ? 59 : 0,
      groups: [
        {
          errorCode: 0,
          groupId: "group-a",
          groupState: "Stable",
          protocolType: "consumer",
          protocolData: "range",
          members: [
            {
              memberId: "member-1",
              groupInstanceId: v >= 4 ? "instance-1" : null,
              clientId: "client-1",
              clientHost: "/10.0.0.1",
              memberMetadata: Buffer.from([0, 1]),
              memberAssignment: Buffer.from([0, 2]),
            },
          ],
          authorizedOperations: v >= 3 ? 0x0ff8 : -2147483648,
        },
        {
          errorCode: 69,
          groupId: "group-b",
          groupState: "Dead",
          protocolType: "",
          protocolData: "",
          members: [],
        },
      ],
    }),
    parsed: (v) => ({
      throttleTimeMs: v >= 1 ? 59 : 0,
      groups: [
        {
          errorCode: 0,
          groupId: "group-a",
          groupState: "Stable",
          protocolType: "consumer",
          protocolData: "range",
          members: [
            {
              memberId: "member-1",
              groupInstanceId: v >= 4 ? "instance-1" : null,
              clientId: "client-1",
              clientHost: "/10.0.0.1",
              memberMetadata: Buffer.from([0, 1]),
              memberAssignment: Buffer.from([0, 2]),
            },
          ],
          authorizedOperations: v >= 3 ? 0x0ff8 : -2147483648,
        },
        {
          errorCode: 69,
          groupId: "group-b",
          groupState: "Dead",
          protocolType: "",
          protocolData: "",
          members: [],
        },
      ],
    }),
  }),
  defineCase({
    title: "ListGroups",
    api: "listGroups",
    key: ApiKey.ListGroups,
    versions: versions(0, 5),
    args: () => [["STABLE", "EMPTY"], ["classic"]],
    request: (v) => ({
      statesFilter: v >= 4 ? ["Stable", "Empty"] : [],
      typesFilter: v >= 5 ? ["classic"] : [],
    }),
    response: (v) => ({
      throttleTimeMs: v >= 1 ? 61 : 0,
      errorCode: 0,
      groups: [
        {
          groupId: "group-a",
          protocolType: "consumer",
          groupState: v >= 4 ? "Stable" : "",
          groupType: v >= 5 ? "classic" : "",
        },
        { groupId: "connect-x", protocolType: "connect" },
      ],
    }),
    parsed: (v) => ({
      throttleTimeMs: v >= 1 ? 61 : 0,
      errorCode: 0,
      groups: [
        {
          groupId: "group-a",
          protocolType: "consumer",
          groupState: v >= 4 ? "Stable" : "",
          groupType: v >= 5 ? "classic" : "",
        },
        { groupId: "connect-x", protocolType: "connect" },
      ],
    }),
  }),
  defineCase({
    title: "AddPartitionsToTxn",
    api: "addPartitionsToTxn",
    key: ApiKey.AddPartitionsToTxn,
    versions: versions(0, 5),
    args: () => [
      [
        {
          transactionalId: "txn-1",
          producerId: 4000n,
          producerEpoch: 2,
          verifyOnly: true,
          topics: [
            { name: "orders", partitions: [0, 1] },
            { name: "audit", partitions: [5] },
          ],
        },
        { transactionalId: "txn-2", producerId: 4001n, producerEpoch: 0, verifyOnly: false, topics: [] },
      ],
    ],
    request: (v) =>
      v >= 4
        ? {
            transactions: [
              {
                transactionalId: "txn-1",
                producerId: 4000n,
                producerEpoch: 2,
                verifyOnly: true,
                topics: [
                  { name: "orders", partitions: [0, 1] },
                  { name: "audit", partitions: [5] },
                ],
              },
              {
                transactionalId: "txn-2",
                producerId: 4001n,
                producerEpoch: 0,
                verifyOnly: false,
                topics: [],
              },
            ],
          }
        : {
            v3AndBelowTransactionalId: "txn-1",
            v3AndBelowProducerId: 4000n,
            v3AndBelowProducerEpoch: 2,
            v3AndBelowTopics: [
              { name: "orders", partitions: [0, 1] },
              { name: "audit", partitions: [5] },
            ],
          },
    response: (v) =>
      v >= 4
        ? {
            throttleTimeMs: 67,
            errorCode: 0,
            resultsByTransaction: [
              {
                transactionalId: "txn-1",
                topicResults: [
                  { name: "orders", resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 0 }] },
                ],
              },
              { transactionalId: "txn-2", topicResults: [] },
            ],
          }
        : {
            throttleTimeMs: 67,
            resultsByTopicV3AndBelow: [
              {
                name: "orders",
                resultsByPartition: [
                  { partitionIndex: 0, partitionErrorCode: 0 },
                  { partitionIndex: 1, partitionErrorCode: 48 },
                ],
              },
            ],
          },
    parsed: (v) => ({
      throttleTimeMs: 67,
      errorCode: 0,
      resultsByTransaction:
        v >= 4
          ? [
              {
                transactionalId: "txn-1",
                topicResults: [
                  { name: "orders", resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 0 }] },
                ],
              },
              { transactionalId: "txn-2", topicResults: [] },
            ]
          : [
              {
                transactionalId: "",
                topicResults: [
                  {
                    name: "orders",
                    resultsByPartition: [
                      { partitionIndex: 0, partitionErrorCode: 0 },
                      { partitionIndex: 1, partitionErrorCode: 48 },
                    ],
                  },
                ],
              },
            ],
    }),
  }),
  defineCase({
    title: "EndTxn",
    api: "endTxn",
    key: ApiKey.EndTxn,
    versions: versions(0, 4),
    args: () => ["txn-1", 4000n, 2, true],
    request: () => ({ transactionalId: "txn-1", producerId: 4000n, producerEpoch: 2, committed: true }),
    response: () => ({ throttleTimeMs: 71, errorCode: 0 }),
    parsed: () => ({ throttleTimeMs: 71, errorCode: 0 }),
  }),
  defineCase({
    title: "SaslHandshake",
    api: "saslHandshake",
    key: ApiKey.SaslHandshake,
    versions: versions(0, 1),
    args: () => ["SCRAM-SHA-512"],
    request: () => ({ mechanism: "SCRAM-SHA-512" }),
    response: () => ({ errorCode: 0, mechanisms: ["PLAIN", "SCRAM-SHA-512"] }),
    parsed: () => ({ errorCode: 0, mechanisms: ["PLAIN", "SCRAM-SHA-512"] }),
  }),
  defineCase({
    title: "SaslAuthenticate",
    api: "saslAuthenticate",
    key: ApiKey.SaslAuthenticate,
    versions: versions(0, 2),
    args: () => [Buffer.from("\u0000alice\u0000secret")],
    request: () => ({ authBytes: Buffer.from("\u0000alice\u0000secret") }),
    response: (v) => ({
      errorCode: 0,
      errorMessage: null,
      authBytes: Buffer.from("server-final"),
      sessionLifetimeMs: v >= 1 ? 3_600_000n : 0n,
    }),
    parsed: (v) => ({
      errorCode: 0,
      errorMessage: null,
      authBytes: Buffer.from("server-final"),
      sessionLifetimeMs: v >= 1 ? 3_600_000n : 0n,
    }),
  }),
  defineCase({
    title: "AddOffsetsToTxn",
    api: "addOffsetsToTxn",
    key: ApiKey.AddOffsetsToTxn,
    versions: versions(0, 4),
    args: () => ["txn-1", 4000n, 2, "group-a"],
    request: () => ({ transactionalId: "txn-1", producerId: 4000n, producerEpoch: 2, groupId: "group-a" }),
    response: () => ({ throttleTimeMs: 73, errorCode: 0 }),
    parsed: () => ({ throttleTimeMs: 73, errorCode: 0 }),
  }),
  defineCase({
    title: "TxnOffsetCommit",
    api: "txnOffsetCommit",
    key: ApiKey.TxnOffsetCommit,
    versions: versions(0, 4),
    args: () => [
      "txn-1",
      "group-a",
      4000n,
      2,
      7,
      "member-1",
      "instance-1",
      [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 12_345n,
              committedLeaderEpoch: 4,
              committedMetadata: "meta",
            },
            { partitionIndex: 1, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    ],
    request: (v) => ({
      transactionalId: "txn-1",
      groupId: "group-a",
      producerId: 4000n,
      producerEpoch: 2,
      generationId: v >= 3 ? 7 : -1,
      memberId: v >= 3 ? "member-1" : "",
      groupInstanceId: v >= 3 ? "instance-1" : null,
      topics: [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 12_345n,
              committedLeaderEpoch: v >= 2 ? 4 : -1,
              committedMetadata: "meta",
            },
            { partitionIndex: 1, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    }),
    response: () => ({
      throttleTimeMs: 83,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            { partitionIndex: 1, errorCode: 47 },
          ],
        },
      ],
    }),
    parsed: () => ({
      throttleTimeMs: 83,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            { partitionIndex: 1, errorCode: 47 },
          ],
        },
      ],
    }),
  }),
  defineCase({
    title: "OffsetForLeaderEpoch",
    api: "offsetForLeaderEpoch",
    key: ApiKey.OffsetForLeaderEpoch,
    versions: versions(0, 4),
    args: () => [
      -1,
      [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, currentLeaderEpoch: 9, leaderEpoch: 8 },
            { partitionIndex: 3, currentLeaderEpoch: -1, leaderEpoch: 2 },
          ],
        },
      ],
    ],
    request: (v) => ({
      // Before v3 the field is absent and reads as its default, -2.
      replicaId: v >= 3 ? -1 : -2,
      topics: [
        {
          topic: "orders",
          partitions: [
            { partition: 0, currentLeaderEpoch: v >= 2 ? 9 : -1, leaderEpoch: 8 },
            { partition: 3, currentLeaderEpoch: -1, leaderEpoch: 2 },
          ],
        },
      ],
    }),
    response: (v) => ({
      throttleTimeMs: v >= 2 ? 89 : 0,
      topics: [
        {
          topic: "orders",
          partitions: [
            { errorCode: 0, partition: 0, leaderEpoch: v >= 1 ? 8 : -1, endOffset: 5000n },
            { errorCode: 74, partition: 3, leaderEpoch: -1, endOffset: -1n },
          ],
        },
      ],
    }),
    parsed: (v) => ({
      throttleTimeMs: v >= 2 ? 89 : 0,
      topics: [
        {
          topic: "orders",
          partitions: [
            { errorCode: 0, partition: 0, leaderEpoch: v >= 1 ? 8 : -1, endOffset: 5000n },
            { errorCode: 74, partition: 3, leaderEpoch: -1, endOffset: -1n },
          ],
        },
      ],
    }),
  }),
  defineCase({
    title: "DescribeCluster",
    api: "describeCluster",
    key: ApiKey.DescribeCluster,
    versions: versions(0, 1),
    args: () => [true, 2],
    request: (v) => ({ includeClusterAuthorizedOperations: true, endpointType: v >= 1 ? 2 : 1 }),
    response: (v) => ({
      throttleTimeMs: 97,
      errorCode: 0,
      errorMessage: null,
      endpointType: v >= 1 ? 2 : 1,
      clusterId: "cluster-x",
      controllerId: 3,
      brokers: [
        { brokerId: 1, host: "b1.example", port: 9092, rack: "rack-a" },
        { brokerId: 3, host: "c3.example", port: 9093, rack: null },
      ],
      clusterAuthorizedOperations: 0x0ab8,
    }),
    parsed: (v) => ({
      throttleTimeMs: 97,
      errorCode: 0,
      errorMessage: null,
      endpointType: v >= 1 ? 2 : 1,
      clusterId: "cluster-x",
      controllerId: 3,
      brokers: [
        { brokerId: 1, host: "b1.example", port: 9092, rack: "rack-a" },
        { brokerId: 3, host: "c3.example", port: 9093, rack: null },
      ],
      clusterAuthorizedOperations: 0x0ab8,
    }),
  }),
  defineCase({
    title: "ConsumerGroupHeartbeat",
    api: "consumerGroupHeartbeat",
    key: ApiKey.ConsumerGroupHeartbeat,
    versions: versions(0, 1),
    args: () => [
      "group-a",
      "member-1",
      5,
      null,
      "rack-a",
      60_000,
      ["orders", "audit"],
      "orders-.*",
      "uniform",
      [{ topicId: TOPIC_ID_HEX, partitions: [0, 1] }],
    ],
    request: (v) => ({
      groupId: "group-a",
      memberId: "member-1",
      memberEpoch: 5,
      instanceId: null,
      rackId: "rack-a",
      rebalanceTimeoutMs: 60_000,
      subscribedTopicNames: ["orders", "audit"],
      subscribedTopicRegex: v >= 1 ? "orders-.*" : null,
      serverAssignor: "uniform",
      topicPartitions: [{ topicId: TOPIC_ID, partitions: [0, 1] }],
    }),
    response: () => ({
      throttleTimeMs: 101,
      errorCode: 0,
      errorMessage: null,
      memberId: "member-1",
      memberEpoch: 6,
      heartbeatIntervalMs: 5000,
      assignment: { topicPartitions: [{ topicId: TOPIC_ID, partitions: [0, 1, 2] }] },
    }),
    parsed: () => ({
      throttleTimeMs: 101,
      errorCode: 0,
      errorMessage: null,
      memberId: "member-1",
      memberEpoch: 6,
      heartbeatIntervalMs: 5000,
      assignment: { topicPartitions: [{ topicId: TOPIC_ID_HEX, partitions: [0, 1, 2] }] },
    }),
  }),
  defineCase({
    title: "ConsumerGroupHeartbeat without an assignment",
    api: "consumerGroupHeartbeat",
    key: ApiKey.ConsumerGroupHeartbeat,
    versions: versions(0, 1),
    args: () => ["group-a", "", 0, "instance-1", null, 60_000, null, null, null, null],
    request: () => ({
      groupId: "group-a",
      memberId: "",
      memberEpoch: 0,
      instanceId: "instance-1",
      rackId: null,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: null,
    }),
    response: () => ({
      errorCode: 25,
      errorMessage: "unknown member",
      memberId: null,
      memberEpoch: -1,
      assignment: null,
    }),
    parsed: () => ({
      errorCode: 25,
      errorMessage: "unknown member",
      memberId: null,
      memberEpoch: -1,
      assignment: null,
    }),
  }),
];

// --- the tests ----------------------------------------------------------------------------

const CLIENT_ID = "ferry-compat";

for (const c of CASES) {
  for (const v of c.versions) {
    test(`${c.title} v${v}: a platformatic request decodes to its arguments and re-encodes to the same bytes`, async () => {
      const correlationId = 0x30000 + v;
      const captured = await capture(platformaticApi(c.api, v), c.args(v));
      assert.equal(captured.apiKey, c.key, "platformatic's API key");
      assert.equal(captured.apiVersion, v, "platformatic's API version");
      const frame = frameRequest(captured, correlationId, CLIENT_ID);
      const decoded = decodeRequest(frameBody(frame));
      assert.deepEqual(decoded.header, {
        requestApiKey: c.key,
        requestApiVersion: v,
        correlationId,
        clientId: CLIENT_ID,
      });
      assertMatches(decoded.body, c.request(v));
      c.checkRequest?.(decoded.body as Record<string, unknown>, v);
      assert.equal(encodeDecodedRequest(decoded).toString("hex"), frame.toString("hex"));
    });

    test(`${c.title} v${v}: platformatic parses our response to the values we encoded`, async () => {
      const correlationId = 0x40000 + v;
      const captured = await capture(platformaticApi(c.api, v), c.args(v));
      const parsed = await parseResponseFrame(captured, await c.response(v, correlationId), correlationId);
      assertMatches(parsed, c.parsed(v));
    });
  }
}

test("Heartbeat v4: a platformatic request without a client id decodes to a null client id and re-encodes", async () => {
  const captured = await capture(platformaticApi("heartbeat", 4), ["group-a", 7, "member-1", null]);
  const frame = frameRequest(captured, 5, null);
  const decoded = decodeRequest(frameBody(frame));
  assert.deepEqual(decoded.header, {
    requestApiKey: ApiKey.Heartbeat,
    requestApiVersion: 4,
    correlationId: 5,
    clientId: null,
  });
  assert.equal(encodeDecodedRequest(decoded).toString("hex"), frame.toString("hex"));
});

// A broker answers an ApiVersions version it does not know with a v0 body (KIP-511).
// platformatic's v3 parser expects that and stops after the error code; its v1, v2 and v4
// parsers read on as if the body were in their own version, so only v3 is checked.
test("ApiVersions v3: platformatic reads our KIP-511 fallback (a v0 body with UNSUPPORTED_VERSION)", async () => {
  const captured = await capture(platformaticApi("apiVersions", 3), ["ferry", "0"]);
  const parsed = await parseResponseFrame(captured, encodeApiVersionsUnsupported(9, 0, 2), 9, {
    readsAll: false,
  });
  assertMatches(parsed, { errorCode: 35, apiKeys: [] });
});
