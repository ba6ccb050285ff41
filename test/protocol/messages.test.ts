// Frame-level rules: header versions, size prefixes, KIP-511 ApiVersions fallbacks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiKey } from "../../src/protocol/generated/index.ts";
import {
  decodeRequest,
  decodeResponse,
  encodeApiVersionsUnsupported,
  encodeRequest,
  encodeRequestChunks,
  encodeResponse,
  requestHeaderVersion,
  responseHeaderVersion,
  UnsupportedRequestError,
} from "../../src/protocol/messages.ts";
import { DecodeError, EncodeError, UnsupportedVersionError } from "../../src/protocol/errors.ts";

const payload = (frame: Buffer): Buffer => {
  assert.equal(frame.readInt32BE(0), frame.length - 4, "size prefix counts the bytes after it");
  return frame.subarray(4);
};

test("request header is v1 before the flexible version and v2 from it", () => {
  assert.equal(requestHeaderVersion(ApiKey.Fetch, 11), 1);
  assert.equal(requestHeaderVersion(ApiKey.Fetch, 12), 2);
  assert.equal(requestHeaderVersion(ApiKey.Metadata, 9), 2);
  assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 0), 0);
  assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 1), 1);
});

test("response header is v1 when flexible, but ApiVersions always answers with v0", () => {
  assert.equal(responseHeaderVersion(ApiKey.Fetch, 11), 0);
  assert.equal(responseHeaderVersion(ApiKey.Fetch, 12), 1);
  assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 3), 0);
  assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 4), 0);
});

test("a flexible request carries a compact body and header tagged fields; the client id stays a classic string", () => {
  const frame = encodeRequest(ApiKey.Metadata, 12, { correlationId: 7, clientId: "ferry" }, { topics: null });
  const p = payload(frame);
  // key, version, correlation id, client id as int16-length string, then an empty tag section.
  assert.deepEqual([...p.subarray(0, 8)], [0, 3, 0, 12, 0, 0, 0, 7]);
  assert.equal(p.readInt16BE(8), 5);
  assert.equal(p.toString("utf8", 10, 15), "ferry");
  assert.equal(p[15], 0, "empty header tagged fields");
  const decoded = decodeRequest(p);
  assert.equal(decoded.header.clientId, "ferry");
  assert.deepEqual((decoded.body as { topics: unknown }).topics, null);
});

test("a request round-trips through encode and decode", () => {
  const frame = encodeRequest(
    ApiKey.ListOffsets,
    7,
    { correlationId: 99, clientId: null },
    {
      replicaId: -1,
      isolationLevel: 1,
      topics: [
        { name: "orders", partitions: [{ partitionIndex: 3, currentLeaderEpoch: 5, timestamp: -2n }] },
      ],
    },
  );
  const { header, body } = decodeRequest(payload(frame));
  assert.equal(header.correlationId, 99);
  assert.equal(header.clientId, null);
  assert.deepEqual(body, {
    replicaId: -1,
    isolationLevel: 1,
    topics: [
      {
        name: "orders",
        partitions: [{ partitionIndex: 3, currentLeaderEpoch: 5, timestamp: -2n, maxNumOffsets: 1 }],
      },
    ],
    timeoutMs: 0,
  });
});

test("an ApiVersions request at a version newer than ours is refused with its header known", () => {
  const frame = Buffer.from([0, 18, 0, 99, 0, 0, 1, 2, 0, 0, 0]);
  assert.throws(
    () => decodeRequest(frame),
    (e: unknown) =>
      e instanceof UnsupportedRequestError &&
      e.apiKey === 18 &&
      e.apiVersion === 99 &&
      e.correlationId === 258 &&
      e.code === 35,
  );
});

test("the UNSUPPORTED_VERSION answer is a v0 ApiVersions body that a v3 reader falls back to", () => {
  const frame = encodeApiVersionsUnsupported(258, 0, 4);
  const res = decodeResponse(payload(frame), ApiKey.ApiVersions, 3);
  assert.equal(res.version, 0);
  assert.equal(res.correlationId, 258);
  assert.deepEqual(res.body, {
    errorCode: 35,
    apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  });
});

test("a normal ApiVersions v3 response decodes at v3", () => {
  const frame = encodeResponse(ApiKey.ApiVersions, 3, 1, {
    errorCode: 0,
    apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 11 }],
    finalizedFeaturesEpoch: 5n,
  });
  const res = decodeResponse(payload(frame), ApiKey.ApiVersions, 3);
  assert.equal(res.version, 3);
  assert.equal((res.body as { finalizedFeaturesEpoch: bigint }).finalizedFeaturesEpoch, 5n);
});

test("trailing bytes after a request body are a decode error", () => {
  const frame = encodeRequest(
    ApiKey.Heartbeat,
    0,
    { correlationId: 1, clientId: "c" },
    { groupId: "g", generationId: 1, memberId: "m" },
  );
  const p = Buffer.concat([payload(frame), Buffer.from([0])]);
  assert.throws(() => decodeRequest(p), DecodeError);
});

test("a truncated response is a decode error, never another exception", () => {
  const frame = encodeResponse(ApiKey.Metadata, 12, 5, {
    brokers: [{ nodeId: 1, host: "localhost", port: 9092, rack: null }],
    topics: [{ name: "t", topicId: "AAAAAAAAAAAAAAAAAAAAAA", partitions: [] }],
  });
  const p = payload(frame);
  for (let cut = 0; cut < p.length; cut++) {
    assert.throws(
      () => decodeResponse(p.subarray(0, cut), ApiKey.Metadata, 12),
      DecodeError,
      `cut at ${cut}`,
    );
  }
});

test("writing a field the version lacks is refused unless the field is ignorable", () => {
  // Fetch v11 has no LastFetchedEpoch, and the spec marks it not ignorable.
  assert.throws(
    () =>
      encodeRequest(
        ApiKey.Fetch,
        11,
        { correlationId: 1, clientId: null },
        {
          topics: [{ topic: "t", partitions: [{ partition: 0, lastFetchedEpoch: 4 }] }],
        },
      ),
    UnsupportedVersionError,
  );
  // Fetch v3 has no IsolationLevel, but it is ignorable: dropped silently, as Kafka does.
  const frame = encodeRequest(ApiKey.Fetch, 3, { correlationId: 1, clientId: null }, { isolationLevel: 1 });
  assert.equal((decodeRequest(payload(frame)).body as { isolationLevel: number }).isolationLevel, 0);
});

test("null in a version where a field is not nullable is refused on write", () => {
  assert.throws(
    () => encodeRequest(ApiKey.Metadata, 0, { correlationId: 1, clientId: null }, { topics: null }),
    EncodeError,
  );
});

test("a response with a null where the spec forbids one reads as empty, so its error code is seen; a request is refused", () => {
  // SyncGroup v3 response as librdkafka's mock cluster writes a failure: throttle, error
  // REBALANCE_IN_PROGRESS (27), assignment length -1.
  const response = Buffer.alloc(4 + 4 + 2 + 4);
  response.writeInt32BE(7, 0);
  response.writeInt16BE(27, 8);
  response.writeInt32BE(-1, 10);
  const decoded = decodeResponse(response, ApiKey.SyncGroup, 3);
  const body = decoded.body as { errorCode: number; assignment: Buffer };
  assert.equal(decoded.correlationId, 7);
  assert.equal(body.errorCode, 27);
  assert.equal(body.assignment.length, 0);
  // The same null in a request (SyncGroup v3: group id, generation, member id, instance id,
  // one assignment whose bytes are null) is a decode error.
  const request = Buffer.concat([
    Buffer.from([0, 14, 0, 3, 0, 0, 0, 1, 0xff, 0xff]), // key, version, correlation id, null client id
    Buffer.from([0, 1, 0x67, 0, 0, 0, 1, 0, 1, 0x6d, 0xff, 0xff]), // "g", generation 1, "m", null instance
    Buffer.from([0, 0, 0, 1, 0, 1, 0x6d, 0xff, 0xff, 0xff, 0xff]), // [{ "m", null }]
  ]);
  assert.throws(
    () => decodeRequest(request),
    (e: unknown) =>
      e instanceof DecodeError && /Assignment: null in a version where it is not nullable/.test(e.message),
  );
});

test("an int32 field out of range is a typed encode error", () => {
  assert.throws(
    () => encodeRequest(ApiKey.Heartbeat, 0, { correlationId: 1, clientId: null }, { generationId: 2 ** 40 }),
    EncodeError,
  );
});

test("an unknown API key is refused with UNSUPPORTED_VERSION and the correlation id kept", () => {
  assert.throws(
    () => decodeRequest(Buffer.from([0x7f, 0x00, 0, 0, 0, 0, 0, 9])),
    (e: unknown) => e instanceof UnsupportedRequestError && e.correlationId === 9,
  );
});

test("a framed request references large record batches instead of copying them, and joins to the same bytes", () => {
  const big = Buffer.alloc(64 * 1024, 7);
  const small = Buffer.alloc(100, 9);
  const body = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: [
      {
        name: "t",
        partitionData: [
          { index: 0, records: big },
          { index: 1, records: small },
        ],
      },
    ],
  };
  for (const version of [3, 9]) {
    const chunks = encodeRequestChunks(ApiKey.Produce, version, { correlationId: 5, clientId: "c" }, body);
    assert.ok(chunks.includes(big), "the 64 KiB batch is one of the chunks, not a copy");
    assert.ok(!chunks.includes(small), "a small batch is copied into the frame");
    const joined = Buffer.concat(chunks);
    assert.equal(joined.readInt32BE(0), joined.length - 4);
    assert.deepEqual(
      joined,
      encodeRequest(ApiKey.Produce, version, { correlationId: 5, clientId: "c" }, body),
    );
    const decoded = decodeRequest(joined.subarray(4));
    assert.deepEqual(
      (decoded.body as { topicData: { partitionData: { records: Buffer }[] }[] }).topicData[0]
        ?.partitionData[0]?.records,
      big,
    );
  }
});
