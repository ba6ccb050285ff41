// Differential codec tests against kafkajs (an independent JavaScript client): requests
// kafkajs encodes must decode with our codec to the values it was given and re-encode to
// the same bytes, and responses we encode must decode with kafkajs' parsers to the values
// we wrote. kafkajs speaks only non-flexible versions, so this suite covers the classic
// encodings (int16 strings, int32 arrays, header v1) for every version kafkajs has.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiKey, type ApiKeyNumber } from "../../src/protocol/generated/index.ts";
import { decodeRequest, encodeDecodedRequest } from "../../src/protocol/messages.ts";
import {
  assertMatches,
  frameBody,
  responseEncoder,
  versions,
  type RequestExpectation,
  type ResponseEncoder,
  type ResponseInput,
} from "./compat-helpers.ts";
import {
  KjsCompression,
  KjsDecoder,
  kjsApi,
  kjsDecodeMessageSet,
  kjsDecodeRecordBatch,
  kjsFrame,
  kjsMessageSet,
  kjsRecord,
  kjsRecordBatch,
  type KjsResponseCodec,
} from "./kafkajs-internals.ts";

// --- the case table -----------------------------------------------------------------------

interface KafkajsCase {
  /** Test title: the API name, plus a variant when an API has several cases. */
  title: string;
  /** kafkajs' directory under src/protocol/requests. */
  dir: string;
  key: ApiKeyNumber;
  versions: number[];
  /** What kafkajs' protocol(version) is called with (an object, except for DeleteGroups). */
  args: (v: number) => unknown;
  /** The part of our decoded request body those arguments must produce. */
  request: (v: number) => unknown;
  /** Further checks on our decoded request body (e.g. records, which we keep as bytes). */
  checkRequest?: (body: Record<string, unknown>, v: number) => Promise<void>;
  response: ResponseEncoder;
  /** The part of kafkajs' decoded response our encoded response must produce. */
  decoded: (v: number) => unknown;
}

interface CaseSpec<K extends ApiKeyNumber> {
  title: string;
  dir: string;
  key: K;
  versions: number[];
  args: (v: number) => unknown;
  request: (v: number) => RequestExpectation<K>;
  checkRequest?: (body: Record<string, unknown>, v: number) => Promise<void>;
  response: (v: number) => ResponseInput<K> | Promise<ResponseInput<K>>;
  decoded: (v: number) => unknown;
}

/** Declares a case, checking its request and response bodies against API `K`'s types. */
function defineCase<K extends ApiKeyNumber>(spec: CaseSpec<K>): KafkajsCase {
  return { ...spec, response: responseEncoder(spec.key, spec.response) };
}

/** kafkajs reports throttle time as-is before KIP-219 and as client-side after it. */
function throttle(ms: number, v: number, clientSideFrom: number): Record<string, number> {
  if (v >= clientSideFrom) return { throttleTime: 0, clientSideThrottleTime: ms };
  return { throttleTime: ms };
}

function when<T extends object>(cond: boolean, fields: T): T | Record<string, never> {
  return cond ? fields : {};
}

const T0 = 1_700_000_000_000;

/** Bytes prefixed with their int32 length, as kafkajs' SASL code passes them around. */
function int32Framed(s: string): Buffer {
  const data = Buffer.from(s);
  const out = Buffer.alloc(4 + data.length);
  out.writeInt32BE(data.length, 0);
  data.copy(out, 4);
  return out;
}

const PRODUCED = [
  { key: "k1", value: "first", timestamp: T0, headers: { "trace-id": "abc", tenant: "t1" } },
  { key: null, value: "second", timestamp: T0 + 5 },
  { key: "k3", value: "", timestamp: T0 + 9 },
];

/** Checks produce records by decoding them with kafkajs' own record decoders. */
async function checkProducedRecords(records: unknown, v: number): Promise<void> {
  assert.ok(Buffer.isBuffer(records), "records must stay raw bytes");
  if (v >= 3) {
    const batch = await kjsDecodeRecordBatch(new KjsDecoder(records));
    assertMatches(
      batch.records,
      PRODUCED.map((m, i) => ({
        key: m.key === null ? null : Buffer.from(m.key),
        value: Buffer.from(m.value),
        timestamp: String(m.timestamp),
        offset: String(i),
        headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, h]) => [k, Buffer.from(h)])),
      })),
    );
  } else {
    const messages = await kjsDecodeMessageSet(new KjsDecoder(records), records.length);
    assertMatches(
      messages,
      PRODUCED.map((m) => ({
        key: m.key === null ? null : Buffer.from(m.key),
        value: Buffer.from(m.value),
        ...when(v === 2, { timestamp: String(m.timestamp) }),
      })),
    );
  }
}

const FETCHED = [
  { key: Buffer.from("fk1"), value: Buffer.from("fetched-1"), headers: { h: "1" } },
  { key: null, value: Buffer.from("fetched-2") },
];
const FETCH_BASE_OFFSET = 400;

/** Records as a broker would return them: a record batch (v4+) or a message set. */
async function fetchedRecords(v: number): Promise<Buffer> {
  if (v >= 4) {
    const batch = await kjsRecordBatch({
      firstOffset: FETCH_BASE_OFFSET,
      firstTimestamp: T0,
      maxTimestamp: T0 + 1,
      lastOffsetDelta: FETCHED.length - 1,
      records: FETCHED.map((m, i) => kjsRecord({ ...m, offsetDelta: i, timestampDelta: i })),
    });
    return batch.buffer;
  }
  return kjsMessageSet({
    messageVersion: v >= 2 ? 1 : 0,
    entries: FETCHED.map((m, i) => ({ key: m.key, value: m.value, timestamp: T0 + i })),
  }).buffer;
}

const CASES: KafkajsCase[] = [
  defineCase({
    title: "ApiVersions",
    dir: "apiVersions",
    key: ApiKey.ApiVersions,
    versions: versions(0, 2),
    args: () => ({}),
    request: () => ({}),
    response: (v) => ({
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 0, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      throttleTimeMs: v >= 1 ? 25 : 0,
    }),
    decoded: (v) => ({
      errorCode: 0,
      apiVersions: [
        { apiKey: 0, minVersion: 0, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      ...when(v >= 1, throttle(25, v, 2)),
    }),
  }),
  defineCase({
    title: "Metadata",
    dir: "metadata",
    key: ApiKey.Metadata,
    versions: versions(0, 6),
    args: () => ({ topics: ["orders", "payments"], allowAutoTopicCreation: false }),
    request: (v) => ({
      topics: [{ name: "orders" }, { name: "payments" }],
      allowAutoTopicCreation: v < 4,
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
          isInternal: false,
          partitions: [
            {
              errorCode: 9,
              partitionIndex: 0,
              leaderId: 1,
              replicaNodes: [1, 2],
              isrNodes: [1],
              offlineReplicas: v >= 5 ? [2] : [],
            },
            { errorCode: 0, partitionIndex: 1, leaderId: 2, replicaNodes: [2, 1], isrNodes: [2, 1] },
          ],
        },
        { errorCode: 0, name: "__consumer_offsets", isInternal: v >= 1, partitions: [] },
      ],
    }),
    decoded: (v) => ({
      ...when(v >= 3, throttle(7, v, 6)),
      brokers: [
        { nodeId: 1, host: "b1.example", port: 9092, ...when(v >= 1, { rack: "rack-a" }) },
        { nodeId: 2, host: "b2.example", port: 19092, ...when(v >= 1, { rack: null }) },
      ],
      ...when(v >= 2, { clusterId: "cluster-x" }),
      ...when(v >= 1, { controllerId: 2 }),
      topicMetadata: [
        {
          topicErrorCode: 0,
          topic: "orders",
          ...when(v >= 1, { isInternal: false }),
          partitionMetadata: [
            {
              partitionErrorCode: 9,
              partitionId: 0,
              leader: 1,
              replicas: [1, 2],
              isr: [1],
              ...when(v >= 5, { offlineReplicas: [2] }),
            },
            { partitionErrorCode: 0, partitionId: 1, leader: 2, replicas: [2, 1], isr: [2, 1] },
          ],
        },
        {
          topicErrorCode: 0,
          topic: "__consumer_offsets",
          ...when(v >= 1, { isInternal: true }),
          partitionMetadata: [],
        },
      ],
    }),
  }),
  defineCase({
    title: "Metadata for all topics",
    dir: "metadata",
    key: ApiKey.Metadata,
    versions: versions(1, 6),
    // kafkajs writes an empty "nullable array" as null, which from v1 on means all topics.
    args: () => ({ topics: [] }),
    request: () => ({ topics: null, allowAutoTopicCreation: true }),
    response: () => ({ brokers: [], controllerId: -1, topics: [] }),
    decoded: (v) => ({
      brokers: [],
      controllerId: -1,
      topicMetadata: [],
      ...when(v >= 2, { clusterId: null }),
    }),
  }),
  defineCase({
    title: "Produce",
    dir: "produce",
    key: ApiKey.Produce,
    versions: versions(0, 7),
    args: () => ({
      acks: -1,
      timeout: 30_000,
      transactionalId: "txn-1",
      producerId: 4000,
      producerEpoch: 2,
      topicData: [
        { topic: "orders", partitions: [{ partition: 3, messages: PRODUCED }] },
        { topic: "audit", partitions: [{ partition: 0, messages: PRODUCED.slice(0, 1) }] },
      ],
    }),
    request: (v) => ({
      transactionalId: v >= 3 ? "txn-1" : null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [
        { name: "orders", partitionData: [{ index: 3 }] },
        { name: "audit", partitionData: [{ index: 0 }] },
      ],
    }),
    checkRequest: async (body, v) => {
      const topics = body.topicData as { partitionData: { records: unknown }[] }[];
      const first = topics[0]?.partitionData[0];
      assert.ok(first !== undefined);
      await checkProducedRecords(first.records, v);
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
              logAppendTimeMs: v >= 2 ? 1_700_000_000_999n : -1n,
              logStartOffset: v >= 5 ? 100n : -1n,
            },
            { index: 4, errorCode: 0, baseOffset: 0n },
          ],
        },
      ],
      throttleTimeMs: v >= 1 ? 11 : 0,
    }),
    decoded: (v) => {
      const offsets =
        v >= 3
          ? { baseOffset: "1234567890123", logAppendTime: "1700000000999" }
          : { offset: "1234567890123", ...when(v >= 2, { timestamp: "1700000000999" }) };
      return {
        topics: [
          {
            topicName: "orders",
            partitions: [
              { partition: 3, errorCode: 0, ...offsets, ...when(v >= 5, { logStartOffset: "100" }) },
              { partition: 4, errorCode: 0, ...(v >= 3 ? { baseOffset: "0" } : { offset: "0" }) },
            ],
          },
        ],
        ...when(v >= 1, throttle(11, v, 6)),
      };
    },
  }),
  defineCase({
    title: "Produce with gzip",
    dir: "produce",
    key: ApiKey.Produce,
    versions: versions(2, 7),
    args: () => ({
      acks: 1,
      timeout: 5000,
      compression: KjsCompression.GZIP,
      topicData: [{ topic: "orders", partitions: [{ partition: 3, messages: PRODUCED }] }],
    }),
    request: () => ({
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: "orders", partitionData: [{ index: 3 }] }],
    }),
    checkRequest: async (body, v) => {
      const topics = body.topicData as { partitionData: { records: unknown }[] }[];
      const first = topics[0]?.partitionData[0];
      assert.ok(first !== undefined);
      await checkProducedRecords(first.records, v);
    },
    response: () => ({ responses: [] }),
    decoded: () => ({ topics: [] }),
  }),
  defineCase({
    title: "Fetch",
    dir: "fetch",
    key: ApiKey.Fetch,
    versions: versions(0, 11),
    args: () => ({
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 52_428_800,
      isolationLevel: 1,
      sessionId: 77,
      sessionEpoch: 3,
      rackId: "rack-b",
      topics: [
        {
          topic: "orders",
          partitions: [
            {
              partition: 0,
              fetchOffset: "12345678901",
              maxBytes: 1_048_576,
              currentLeaderEpoch: 5,
              logStartOffset: 10,
            },
            { partition: 7, fetchOffset: "0", maxBytes: 65_536 },
          ],
        },
      ],
      forgottenTopics: [{ topic: "old", partitions: [1, 2] }],
    }),
    request: (v) => ({
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      ...when(v >= 3, { maxBytes: 52_428_800 }),
      isolationLevel: v >= 4 ? 1 : 0,
      ...when(v >= 7, { sessionId: 77, sessionEpoch: 3 }),
      topics: [
        {
          topic: "orders",
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: v >= 9 ? 5 : -1,
              fetchOffset: 12_345_678_901n,
              logStartOffset: v >= 5 ? 10n : -1n,
              partitionMaxBytes: 1_048_576,
            },
            {
              partition: 7,
              currentLeaderEpoch: -1,
              fetchOffset: 0n,
              logStartOffset: -1n,
              partitionMaxBytes: 65_536,
            },
          ],
        },
      ],
      forgottenTopicsData: v >= 7 ? [{ topic: "old", partitions: [1, 2] }] : [],
      rackId: v >= 11 ? "rack-b" : "",
    }),
    response: async (v) => ({
      throttleTimeMs: v >= 1 ? 79 : 0,
      errorCode: 0,
      sessionId: v >= 7 ? 77 : 0,
      responses: [
        {
          topic: "orders",
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 500n,
              lastStableOffset: v >= 4 ? 450n : -1n,
              logStartOffset: v >= 5 ? 10n : -1n,
              abortedTransactions: v >= 4 ? [{ producerId: 9n, firstOffset: 400n }] : null,
              preferredReadReplica: v >= 11 ? 2 : -1,
              records: await fetchedRecords(v),
            },
            { partitionIndex: 1, errorCode: 1, highWatermark: -1n, records: null },
          ],
        },
      ],
    }),
    decoded: (v) => ({
      ...when(v >= 1, throttle(79, v, 8)),
      ...when(v >= 7, { errorCode: 0, sessionId: 77 }),
      responses: [
        {
          topicName: "orders",
          partitions: [
            {
              partition: 0,
              errorCode: 0,
              highWatermark: "500",
              ...when(v >= 4, {
                lastStableOffset: "450",
                abortedTransactions: [{ producerId: "9", firstOffset: "400" }],
              }),
              ...when(v >= 5, { lastStartOffset: "10" }),
              ...when(v >= 11, { preferredReadReplica: 2 }),
              // kafkajs' message-set encoder numbers entries from 0; a record batch has a base offset.
              messages: FETCHED.map((m, i) => ({
                key: m.key,
                value: m.value,
                offset: String(v >= 4 ? FETCH_BASE_OFFSET + i : i),
              })),
            },
            { partition: 1, errorCode: 1, highWatermark: "-1", messages: [] },
          ],
        },
      ],
    }),
  }),
  defineCase({
    title: "ListOffsets",
    dir: "listOffsets",
    key: ApiKey.ListOffsets,
    versions: versions(0, 3),
    args: () => ({
      replicaId: -1,
      isolationLevel: 1,
      topics: [
        {
          topic: "orders",
          partitions: [
            { partition: 0, timestamp: -2 },
            { partition: 1, timestamp: T0 },
          ],
        },
      ],
    }),
    request: (v) => ({
      replicaId: -1,
      isolationLevel: v >= 2 ? 1 : 0,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, timestamp: -2n, maxNumOffsets: 1 },
            { partitionIndex: 1, timestamp: BigInt(T0), maxNumOffsets: 1 },
          ],
        },
      ],
    }),
    response: (v) => ({
      throttleTimeMs: v >= 2 ? 13 : 0,
      topics: [
        {
          name: "orders",
          partitions:
            v === 0
              ? [{ partitionIndex: 0, errorCode: 0, oldStyleOffsets: [9_007_199_254_740_993n, 0n] }]
              : [{ partitionIndex: 0, errorCode: 0, timestamp: BigInt(T0), offset: 9_007_199_254_740_993n }],
        },
      ],
    }),
    decoded: (v) => ({
      ...when(v >= 2, throttle(13, v, 3)),
      responses: [
        {
          topic: "orders",
          partitions: [
            v === 0
              ? { partition: 0, errorCode: 0, offsets: ["9007199254740993", "0"] }
              : { partition: 0, errorCode: 0, timestamp: String(T0), offset: "9007199254740993" },
          ],
        },
      ],
    }),
  }),
  defineCase({
    title: "FindCoordinator",
    dir: "findCoordinator",
    key: ApiKey.FindCoordinator,
    versions: versions(0, 2),
    args: () => ({ groupId: "txn-1", coordinatorType: 1 }),
    request: (v) => ({ key: "txn-1", keyType: v >= 1 ? 1 : 0 }),
    response: (v) => ({
      throttleTimeMs: v >= 1 ? 3 : 0,
      errorCode: 15,
      errorMessage: v >= 1 ? "coordinator moving" : null,
      nodeId: 3,
      host: "coord.example",
      port: 9094,
    }),
    decoded: (v) => ({
      errorCode: 15,
      coordinator: { nodeId: 3, host: "coord.example", port: 9094 },
      ...when(v >= 1, { errorMessage: "coordinator moving", ...throttle(3, v, 2) }),
    }),
  }),
  defineCase({
    title: "JoinGroup",
    dir: "joinGroup",
    key: ApiKey.JoinGroup,
    versions: versions(0, 5),
    args: () => ({
      groupId: "group-a",
      sessionTimeout: 30_000,
      rebalanceTimeout: 60_000,
      memberId: "member-1",
      groupInstanceId: "instance-1",
      protocolType: "consumer",
      groupProtocols: [
        { name: "range", metadata: Buffer.from([0, 1, 0, 0, 0, 1]) },
        { name: "roundrobin", metadata: Buffer.alloc(0) },
      ],
    }),
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
    }),
    response: (v) => ({
      throttleTimeMs: v >= 2 ? 17 : 0,
      errorCode: 0,
      generationId: 7,
      protocolName: "range",
      leader: "member-1",
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
    decoded: (v) => ({
      ...when(v >= 2, throttle(17, v, 3)),
      errorCode: 0,
      generationId: 7,
      groupProtocol: "range",
      leaderId: "member-1",
      memberId: "member-2",
      members: [
        {
          memberId: "member-1",
          memberMetadata: Buffer.from([1, 2, 3]),
          ...when(v >= 5, { groupInstanceId: "instance-1" }),
        },
        { memberId: "member-2", memberMetadata: Buffer.alloc(0), ...when(v >= 5, { groupInstanceId: null }) },
      ],
    }),
  }),
  defineCase({
    title: "SyncGroup",
    dir: "syncGroup",
    key: ApiKey.SyncGroup,
    versions: versions(0, 3),
    args: () => ({
      groupId: "group-a",
      generationId: 7,
      memberId: "member-1",
      groupInstanceId: "instance-1",
      groupAssignment: [
        { memberId: "member-1", memberAssignment: Buffer.from("assignment-1") },
        { memberId: "member-2", memberAssignment: Buffer.alloc(0) },
      ],
    }),
    request: (v) => ({
      groupId: "group-a",
      generationId: 7,
      memberId: "member-1",
      groupInstanceId: v >= 3 ? "instance-1" : null,
      assignments: [
        { memberId: "member-1", assignment: Buffer.from("assignment-1") },
        { memberId: "member-2", assignment: Buffer.alloc(0) },
      ],
    }),
    response: (v) => ({ throttleTimeMs: v >= 1 ? 19 : 0, errorCode: 0, assignment: Buffer.from("mine") }),
    decoded: (v) => ({
      ...when(v >= 1, throttle(19, v, 2)),
      errorCode: 0,
      memberAssignment: Buffer.from("mine"),
    }),
  }),
  defineCase({
    title: "Heartbeat",
    dir: "heartbeat",
    key: ApiKey.Heartbeat,
    versions: versions(0, 3),
    args: () => ({
      groupId: "group-a",
      groupGenerationId: 7,
      memberId: "member-1",
      groupInstanceId: "instance-1",
    }),
    request: (v) => ({
      groupId: "group-a",
      generationId: 7,
      memberId: "member-1",
      groupInstanceId: v >= 3 ? "instance-1" : null,
    }),
    response: (v) => ({ throttleTimeMs: v >= 1 ? 23 : 0, errorCode: 27 }),
    decoded: (v) => ({ ...when(v >= 1, throttle(23, v, 2)), errorCode: 27 }),
  }),
  defineCase({
    title: "LeaveGroup",
    dir: "leaveGroup",
    key: ApiKey.LeaveGroup,
    versions: versions(0, 3),
    args: () => ({ groupId: "group-a", memberId: "member-1", groupInstanceId: "instance-1" }),
    request: (v) =>
      v >= 3
        ? {
            groupId: "group-a",
            memberId: "",
            members: [{ memberId: "member-1", groupInstanceId: "instance-1" }],
          }
        : { groupId: "group-a", memberId: "member-1", members: [] },
    response: (v) => ({
      throttleTimeMs: v >= 1 ? 29 : 0,
      errorCode: 0,
      members: v >= 3 ? [{ memberId: "member-1", groupInstanceId: "instance-1", errorCode: 25 }] : [],
    }),
    decoded: (v) => ({
      ...when(v >= 1, throttle(29, v, 2)),
      errorCode: 0,
      ...when(v >= 3, { members: [{ memberId: "member-1", groupInstanceId: "instance-1", errorCode: 25 }] }),
    }),
  }),
  defineCase({
    title: "OffsetCommit",
    dir: "offsetCommit",
    key: ApiKey.OffsetCommit,
    versions: versions(0, 5),
    args: () => ({
      groupId: "group-a",
      groupGenerationId: 7,
      memberId: "member-1",
      retentionTime: 86_400_000,
      topics: [
        {
          topic: "orders",
          partitions: [
            { partition: 0, offset: "12345", metadata: "meta", timestamp: T0 },
            { partition: 1, offset: "0", timestamp: T0 },
          ],
        },
      ],
    }),
    request: (v) => ({
      groupId: "group-a",
      generationIdOrMemberEpoch: v >= 1 ? 7 : -1,
      memberId: v >= 1 ? "member-1" : "",
      retentionTimeMs: v >= 2 && v <= 4 ? 86_400_000n : -1n,
      topics: [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 12_345n,
              commitTimestamp: v === 1 ? BigInt(T0) : -1n,
              committedMetadata: "meta",
            },
            { partitionIndex: 1, committedOffset: 0n, committedMetadata: null },
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
    decoded: (v) => ({
      ...when(v >= 3, throttle(31, v, 4)),
      responses: [
        {
          topic: "orders",
          partitions: [
            { partition: 0, errorCode: 0 },
            { partition: 1, errorCode: 22 },
          ],
        },
      ],
    }),
  }),
  defineCase({
    title: "OffsetFetch",
    dir: "offsetFetch",
    key: ApiKey.OffsetFetch,
    versions: versions(1, 4),
    args: () => ({
      groupId: "group-a",
      topics: [{ topic: "orders", partitions: [{ partition: 0 }, { partition: 2 }] }],
    }),
    request: () => ({ groupId: "group-a", topics: [{ name: "orders", partitionIndexes: [0, 2] }] }),
    response: (v) => ({
      throttleTimeMs: v >= 3 ? 37 : 0,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, committedOffset: 42n, metadata: "m", errorCode: 0 },
            { partitionIndex: 2, committedOffset: -1n, metadata: null, errorCode: 0 },
          ],
        },
      ],
      errorCode: v >= 2 ? 16 : 0,
    }),
    decoded: (v) => ({
      ...when(v >= 3, throttle(37, v, 4)),
      responses: [
        {
          topic: "orders",
          partitions: [
            { partition: 0, offset: "42", metadata: "m", errorCode: 0 },
            { partition: 2, offset: "-1", metadata: null, errorCode: 0 },
          ],
        },
      ],
      ...when(v >= 2, { errorCode: 16 }),
    }),
  }),
  defineCase({
    title: "CreateTopics",
    dir: "createTopics",
    key: ApiKey.CreateTopics,
    versions: versions(0, 3),
    args: () => ({
      topics: [
        {
          topic: "new-topic",
          numPartitions: 6,
          replicationFactor: 3,
          configEntries: [
            { name: "cleanup.policy", value: "compact" },
            { name: "retention.ms", value: null },
          ],
        },
        { topic: "assigned", replicaAssignment: [{ partition: 0, replicas: [1, 2] }] },
      ],
      timeout: 15_000,
      validateOnly: true,
    }),
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
        { name: "assigned", errorCode: 0, errorMessage: null },
        { name: "new-topic", errorCode: 36, errorMessage: v >= 1 ? "Topic already exists" : null },
      ],
    }),
    decoded: (v) => ({
      ...when(v >= 2, throttle(41, v, 3)),
      topicErrors: [
        { topic: "assigned", errorCode: 0, ...when(v >= 1, { errorMessage: null }) },
        { topic: "new-topic", errorCode: 36, ...when(v >= 1, { errorMessage: "Topic already exists" }) },
      ],
    }),
  }),
  defineCase({
    title: "DeleteTopics",
    dir: "deleteTopics",
    key: ApiKey.DeleteTopics,
    versions: versions(0, 1),
    args: () => ({ topics: ["old-a", "old-b"], timeout: 9000 }),
    request: () => ({ topicNames: ["old-a", "old-b"], timeoutMs: 9000 }),
    response: (v) => ({
      throttleTimeMs: v >= 1 ? 43 : 0,
      responses: [
        { name: "old-a", errorCode: 0 },
        { name: "old-b", errorCode: 3 },
      ],
    }),
    decoded: (v) => ({
      ...when(v >= 1, throttle(43, v, 1)),
      topicErrors: [
        { topic: "old-a", errorCode: 0 },
        { topic: "old-b", errorCode: 3 },
      ],
    }),
  }),
  defineCase({
    title: "DescribeConfigs",
    dir: "describeConfigs",
    key: ApiKey.DescribeConfigs,
    versions: versions(0, 2),
    args: () => ({
      resources: [
        { type: 2, name: "orders", configNames: ["retention.ms", "cleanup.policy"] },
        // An empty list goes out as null: every config of the resource.
        { type: 4, name: "1", configNames: [] },
      ],
      includeSynonyms: true,
    }),
    request: (v) => ({
      resources: [
        { resourceType: 2, resourceName: "orders", configurationKeys: ["retention.ms", "cleanup.policy"] },
        { resourceType: 4, resourceName: "1", configurationKeys: null },
      ],
      includeSynonyms: v >= 1,
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
            },
            {
              name: "sasl.jaas.config",
              value: null,
              readOnly: true,
              isDefault: v === 0,
              configSource: v >= 1 ? 5 : -1,
              isSensitive: true,
            },
          ],
        },
      ],
    }),
    decoded: (v) => ({
      ...throttle(47, v, 2),
      resources: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: "orders",
          configEntries: [
            {
              configName: "retention.ms",
              configValue: "86400000",
              readOnly: false,
              isDefault: false,
              isSensitive: false,
              ...when(v >= 1, {
                configSource: 1,
                configSynonyms: [
                  { configName: "log.retention.ms", configValue: "604800000", configSource: 4 },
                ],
              }),
            },
            {
              configName: "sasl.jaas.config",
              configValue: null,
              readOnly: true,
              // From v1 kafkajs derives isDefault from the config source (5, DEFAULT_CONFIG).
              isDefault: true,
              isSensitive: true,
              ...when(v >= 1, { configSource: 5, configSynonyms: [] }),
            },
          ],
        },
      ],
    }),
  }),
  defineCase({
    title: "InitProducerId",
    dir: "initProducerId",
    key: ApiKey.InitProducerId,
    versions: versions(0, 1),
    args: () => ({ transactionalId: "txn-1", transactionTimeout: 60_000 }),
    request: () => ({ transactionalId: "txn-1", transactionTimeoutMs: 60_000 }),
    response: () => ({ throttleTimeMs: 53, errorCode: 0, producerId: 123_456_789_012n, producerEpoch: 4 }),
    decoded: (v) => ({ ...throttle(53, v, 1), errorCode: 0, producerId: "123456789012", producerEpoch: 4 }),
  }),
  defineCase({
    title: "DescribeGroups",
    dir: "describeGroups",
    key: ApiKey.DescribeGroups,
    versions: versions(0, 2),
    args: () => ({ groupIds: ["group-a", "group-b"] }),
    request: () => ({ groups: ["group-a", "group-b"] }),
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
              clientId: "client-1",
              clientHost: "/10.0.0.1",
              memberMetadata: Buffer.from([0, 1]),
              memberAssignment: Buffer.from([0, 2]),
            },
          ],
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
    decoded: (v) => ({
      ...when(v >= 1, throttle(59, v, 2)),
      groups: [
        {
          errorCode: 0,
          groupId: "group-a",
          state: "Stable",
          protocolType: "consumer",
          protocol: "range",
          members: [
            {
              memberId: "member-1",
              clientId: "client-1",
              clientHost: "/10.0.0.1",
              memberMetadata: Buffer.from([0, 1]),
              memberAssignment: Buffer.from([0, 2]),
            },
          ],
        },
        { errorCode: 69, groupId: "group-b", state: "Dead", protocolType: "", protocol: "", members: [] },
      ],
    }),
  }),
  defineCase({
    title: "ListGroups",
    dir: "listGroups",
    key: ApiKey.ListGroups,
    versions: versions(0, 2),
    args: () => ({}),
    request: () => ({}),
    response: (v) => ({
      throttleTimeMs: v >= 1 ? 61 : 0,
      errorCode: 0,
      groups: [
        { groupId: "group-a", protocolType: "consumer" },
        { groupId: "connect-x", protocolType: "connect" },
      ],
    }),
    decoded: (v) => ({
      ...when(v >= 1, throttle(61, v, 2)),
      errorCode: 0,
      groups: [
        { groupId: "group-a", protocolType: "consumer" },
        { groupId: "connect-x", protocolType: "connect" },
      ],
    }),
  }),
  defineCase({
    title: "AddPartitionsToTxn",
    dir: "addPartitionsToTxn",
    key: ApiKey.AddPartitionsToTxn,
    versions: versions(0, 1),
    args: () => ({
      transactionalId: "txn-1",
      producerId: 4000,
      producerEpoch: 2,
      topics: [
        { topic: "orders", partitions: [0, 1] },
        { topic: "audit", partitions: [5] },
      ],
    }),
    request: () => ({
      v3AndBelowTransactionalId: "txn-1",
      v3AndBelowProducerId: 4000n,
      v3AndBelowProducerEpoch: 2,
      v3AndBelowTopics: [
        { name: "orders", partitions: [0, 1] },
        { name: "audit", partitions: [5] },
      ],
    }),
    response: () => ({
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
    }),
    decoded: (v) => ({
      ...throttle(67, v, 1),
      errors: [
        {
          topic: "orders",
          partitionErrors: [
            { partition: 0, errorCode: 0 },
            { partition: 1, errorCode: 48 },
          ],
        },
      ],
    }),
  }),
  defineCase({
    title: "EndTxn",
    dir: "endTxn",
    key: ApiKey.EndTxn,
    versions: versions(0, 1),
    args: () => ({ transactionalId: "txn-1", producerId: 4000, producerEpoch: 2, transactionResult: true }),
    request: () => ({ transactionalId: "txn-1", producerId: 4000n, producerEpoch: 2, committed: true }),
    response: () => ({ throttleTimeMs: 71, errorCode: 0 }),
    decoded: (v) => ({ ...throttle(71, v, 1), errorCode: 0 }),
  }),
  defineCase({
    title: "AddOffsetsToTxn",
    dir: "addOffsetsToTxn",
    key: ApiKey.AddOffsetsToTxn,
    versions: versions(0, 1),
    args: () => ({ transactionalId: "txn-1", producerId: 4000, producerEpoch: 2, groupId: "group-a" }),
    request: () => ({ transactionalId: "txn-1", producerId: 4000n, producerEpoch: 2, groupId: "group-a" }),
    response: () => ({ throttleTimeMs: 73, errorCode: 0 }),
    decoded: (v) => ({ ...throttle(73, v, 1), errorCode: 0 }),
  }),
  defineCase({
    title: "SaslHandshake",
    dir: "saslHandshake",
    key: ApiKey.SaslHandshake,
    versions: versions(0, 1),
    args: () => ({ mechanism: "SCRAM-SHA-512" }),
    request: () => ({ mechanism: "SCRAM-SHA-512" }),
    response: () => ({ errorCode: 0, mechanisms: ["PLAIN", "SCRAM-SHA-512"] }),
    decoded: () => ({ errorCode: 0, enabledMechanisms: ["PLAIN", "SCRAM-SHA-512"] }),
  }),
  defineCase({
    title: "SaslAuthenticate",
    dir: "saslAuthenticate",
    key: ApiKey.SaslAuthenticate,
    versions: versions(0, 1),
    // kafkajs' mechanisms hand over auth bytes already framed with their int32 length.
    args: () => ({ authBytes: int32Framed("\u0000alice\u0000secret") }),
    request: () => ({ authBytes: Buffer.from("\u0000alice\u0000secret") }),
    response: (v) => ({
      errorCode: 0,
      errorMessage: null,
      authBytes: Buffer.from("server-final"),
      sessionLifetimeMs: v >= 1 ? 3_600_000n : 0n,
    }),
    decoded: (v) => ({
      errorCode: 0,
      errorMessage: null,
      authBytes: int32Framed("server-final"),
      ...when(v >= 1, { sessionLifetimeMs: "3600000" }),
    }),
  }),
  defineCase({
    title: "TxnOffsetCommit",
    dir: "txnOffsetCommit",
    key: ApiKey.TxnOffsetCommit,
    versions: versions(0, 1),
    args: () => ({
      transactionalId: "txn-1",
      groupId: "group-a",
      producerId: 4000,
      producerEpoch: 2,
      topics: [
        {
          topic: "orders",
          partitions: [
            { partition: 0, offset: "12345", metadata: "meta" },
            { partition: 1, offset: "0", metadata: null },
          ],
        },
      ],
    }),
    request: () => ({
      transactionalId: "txn-1",
      groupId: "group-a",
      producerId: 4000n,
      producerEpoch: 2,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, committedOffset: 12_345n, committedMetadata: "meta" },
            { partitionIndex: 1, committedOffset: 0n, committedMetadata: null },
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
    decoded: (v) => ({
      ...throttle(83, v, 1),
      topics: [
        {
          topic: "orders",
          partitions: [
            { partition: 0, errorCode: 0 },
            { partition: 1, errorCode: 47 },
          ],
        },
      ],
    }),
  }),
  defineCase({
    title: "DeleteGroups",
    dir: "deleteGroups",
    key: ApiKey.DeleteGroups,
    versions: versions(0, 1),
    args: () => ["group-a", "group-b"],
    request: () => ({ groupsNames: ["group-a", "group-b"] }),
    response: () => ({
      throttleTimeMs: 89,
      results: [
        { groupId: "group-a", errorCode: 0 },
        { groupId: "group-b", errorCode: 68 },
      ],
    }),
    // kafkajs names this field throttleTimeMs in both versions (its v1 misses the rename).
    decoded: () => ({
      throttleTimeMs: 89,
      results: [
        { groupId: "group-a", errorCode: 0 },
        { groupId: "group-b", errorCode: 68 },
      ],
    }),
  }),
  defineCase({
    title: "CreatePartitions",
    dir: "createPartitions",
    key: ApiKey.CreatePartitions,
    versions: versions(0, 1),
    args: () => ({
      topicPartitions: [
        {
          topic: "orders",
          count: 8,
          assignments: [
            [1, 2],
            [2, 3],
          ],
        },
        // No assignments: kafkajs sends an empty list as null (let the broker place them).
        { topic: "audit", count: 4 },
      ],
      timeout: 12_000,
      validateOnly: true,
    }),
    request: () => ({
      topics: [
        { name: "orders", count: 8, assignments: [{ brokerIds: [1, 2] }, { brokerIds: [2, 3] }] },
        { name: "audit", count: 4, assignments: null },
      ],
      timeoutMs: 12_000,
      validateOnly: true,
    }),
    response: () => ({
      throttleTimeMs: 91,
      results: [
        { name: "audit", errorCode: 0, errorMessage: null },
        { name: "orders", errorCode: 37, errorMessage: "Number of partitions is invalid." },
      ],
    }),
    decoded: (v) => ({
      ...throttle(91, v, 1),
      topicErrors: [
        { topic: "audit", errorCode: 0, errorMessage: null },
        { topic: "orders", errorCode: 37, errorMessage: "Number of partitions is invalid." },
      ],
    }),
  }),
  defineCase({
    title: "DeleteRecords",
    dir: "deleteRecords",
    key: ApiKey.DeleteRecords,
    versions: versions(0, 1),
    args: () => ({
      topics: [
        {
          topic: "orders",
          partitions: [
            { partition: 0, offset: "5000" },
            { partition: 1, offset: "-1" },
          ],
        },
      ],
      timeout: 7000,
    }),
    request: () => ({
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, offset: 5000n },
            { partitionIndex: 1, offset: -1n },
          ],
        },
      ],
      timeoutMs: 7000,
    }),
    response: () => ({
      throttleTimeMs: 93,
      topics: [{ name: "orders", partitions: [{ partitionIndex: 0, lowWatermark: 5000n, errorCode: 0 }] }],
    }),
    decoded: (v) => ({
      ...throttle(93, v, 1),
      // The one int64 kafkajs hands back as a bigint rather than a string.
      topics: [{ topic: "orders", partitions: [{ partition: 0, lowWatermark: 5000n, errorCode: 0 }] }],
    }),
  }),
  defineCase({
    title: "AlterConfigs",
    dir: "alterConfigs",
    key: ApiKey.AlterConfigs,
    versions: versions(0, 1),
    args: () => ({
      resources: [
        {
          type: 2,
          name: "orders",
          configEntries: [
            { name: "retention.ms", value: "3600000" },
            { name: "cleanup.policy", value: null },
          ],
        },
      ],
      validateOnly: true,
    }),
    request: () => ({
      resources: [
        {
          resourceType: 2,
          resourceName: "orders",
          configs: [
            { name: "retention.ms", value: "3600000" },
            { name: "cleanup.policy", value: null },
          ],
        },
      ],
      validateOnly: true,
    }),
    response: () => ({
      throttleTimeMs: 97,
      responses: [{ errorCode: 40, errorMessage: "Invalid value", resourceType: 2, resourceName: "orders" }],
    }),
    decoded: (v) => ({
      ...throttle(97, v, 1),
      resources: [{ errorCode: 40, errorMessage: "Invalid value", resourceType: 2, resourceName: "orders" }],
    }),
  }),
  // The two flexible APIs kafkajs speaks. It frames them with its header v1 and writes the
  // header's empty tag buffer as the first byte of the body, which on the wire is header v2.
  defineCase({
    title: "ListPartitionReassignments",
    dir: "listPartitionReassignments",
    key: ApiKey.ListPartitionReassignments,
    versions: [0],
    args: () => ({ topics: [{ topic: "orders", partitions: [0, 3] }], timeout: 11_000 }),
    request: () => ({ timeoutMs: 11_000, topics: [{ name: "orders", partitionIndexes: [0, 3] }] }),
    response: () => ({
      throttleTimeMs: 103,
      errorCode: 0,
      errorMessage: null,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 3, replicas: [1, 2, 4], addingReplicas: [4], removingReplicas: [3] },
          ],
        },
      ],
    }),
    decoded: () => ({
      throttleTime: 103,
      errorCode: 0,
      topics: [
        {
          name: "orders",
          partitions: [{ partition: 3, replicas: [1, 2, 4], addingReplicas: [4], removingReplicas: [3] }],
        },
      ],
    }),
  }),
  defineCase({
    title: "ListPartitionReassignments for all topics",
    dir: "listPartitionReassignments",
    key: ApiKey.ListPartitionReassignments,
    versions: [0],
    args: () => ({}),
    request: () => ({ timeoutMs: 5000, topics: null }),
    response: () => ({ errorCode: 0, topics: [] }),
    decoded: () => ({ throttleTime: 0, errorCode: 0, topics: [] }),
  }),
  defineCase({
    title: "AlterPartitionReassignments",
    dir: "alterPartitionReassignments",
    key: ApiKey.AlterPartitionReassignments,
    versions: [0],
    args: () => ({
      topics: [{ topic: "orders", partitionAssignment: [{ partition: 3, replicas: [1, 2, 4] }] }],
      timeout: 13_000,
    }),
    request: () => ({
      timeoutMs: 13_000,
      topics: [{ name: "orders", partitions: [{ partitionIndex: 3, replicas: [1, 2, 4] }] }],
    }),
    response: () => ({
      throttleTimeMs: 107,
      errorCode: 0,
      errorMessage: null,
      responses: [
        {
          name: "orders",
          partitions: [{ partitionIndex: 3, errorCode: 0, errorMessage: null }],
        },
      ],
    }),
    decoded: () => ({
      throttleTime: 107,
      errorCode: 0,
      responses: [{ topic: "orders", partitions: [{ partition: 3, errorCode: 0 }] }],
    }),
  }),
];

// --- the tests ----------------------------------------------------------------------------

const CLIENT_ID = "ferry-compat";

/** kafkajs' request frame (size prefix, header v1, body) and its response decoder. */
async function kafkajsRequest(
  c: KafkajsCase,
  v: number,
  correlationId: number,
): Promise<{ frame: Buffer; response: KjsResponseCodec }> {
  const { request, response } = kjsApi(c.dir).protocol({ version: v })(c.args(v));
  assert.equal(request.apiKey, c.key, "kafkajs' API key");
  assert.equal(request.apiVersion, v, "kafkajs' API version");
  const frame = await kjsFrame({ correlationId, clientId: CLIENT_ID, request });
  return { frame: frame.buffer, response };
}

for (const c of CASES) {
  for (const v of c.versions) {
    test(`${c.title} v${v}: a kafkajs request decodes to its arguments and re-encodes to the same bytes`, async () => {
      const correlationId = 0x10000 + v;
      const { frame } = await kafkajsRequest(c, v, correlationId);
      const decoded = decodeRequest(frameBody(frame));
      assert.deepEqual(decoded.header, {
        requestApiKey: c.key,
        requestApiVersion: v,
        correlationId,
        clientId: CLIENT_ID,
      });
      assertMatches(decoded.body, c.request(v));
      await c.checkRequest?.(decoded.body as Record<string, unknown>, v);
      assert.equal(encodeDecodedRequest(decoded).toString("hex"), frame.toString("hex"));
    });

    test(`${c.title} v${v}: kafkajs decodes our response to the values we encoded`, async () => {
      const correlationId = 0x20000 + v;
      const { response } = await kafkajsRequest(c, v, correlationId);
      const body = frameBody(await c.response(v, correlationId));
      // kafkajs' connection reads the correlation id and hands the rest on; the decoders of
      // its two flexible APIs read the response header's tag buffer themselves.
      assert.equal(body.readInt32BE(0), correlationId);
      assertMatches(await response.decode(body.subarray(4)), c.decoded(v));
    });
  }
}
