// The record layout of Kafka's __consumer_offsets topic, shared by the broker (its group store
// keeps exactly these records) and the link (it tails a source's __consumer_offsets to copy
// offset commits as they happen). Big-endian, Kafka's encodings: int16-length strings (-1 for
// null), int32-length bytes and int32-count arrays, except the flexible value v4 (compact
// strings and a tagged-field section):
//
//   key   int16 version
//         0|1 offset commit:  group string, topic string, partition int32
//         2   group metadata: group string
//         3+  newer coordinators' records (consumer/share groups): not offsets, skipped by readers
//   value (null = tombstone: the offset, or the whole group, is deleted)
//     offset commit: int16 version, then
//         0 offset int64, metadata string, commitTimestamp int64
//         1 offset int64, metadata string, commitTimestamp int64, expireTimestamp int64
//         2 offset int64, metadata string, commitTimestamp int64
//         3 offset int64, leaderEpoch int32, metadata string, commitTimestamp int64
//         4 offset int64, leaderEpoch int32, metadata compact string, commitTimestamp int64, tagged fields
//       (written as 3, or as 1 when the commit carried a retention time, as Kafka does)
//     group metadata: int16 version (written as 3), then protocolType string,
//       generation int32, protocol nullable string, leader nullable string,
//       currentStateTimestamp int64 (v2+, -1 unknown), members [memberId string,
//       groupInstanceId nullable string (v3+), clientId string, clientHost string,
//       rebalanceTimeout int32 (v1+), sessionTimeout int32, subscription bytes, assignment bytes]
//
// The last record for a key wins; compaction may remove all but the last one per key.
import { DecodeError } from "./errors.ts";
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

/** The internal topic holding every group's committed offsets and metadata. */
export const CONSUMER_OFFSETS_TOPIC = "__consumer_offsets";

export interface OffsetCommitValue {
  readonly offset: bigint;
  /** -1 when the committer did not know it (OffsetCommit before v6). */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: number;
  /** Set only by OffsetCommit v2-4 with an explicit retention time; it then overrides retention. */
  readonly expireTimestampMs: number | null;
}

export interface OffsetCommitKey {
  groupId: string;
  topic: string;
  partition: number;
}

export interface GroupMetadataMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  /** "" when the group has none (a group that only holds offsets). */
  protocolType: string;
  generationId: number;
  protocolName: string | null;
  leaderId: string | null;
  stateTimestampMs: number | null;
  members: GroupMetadataMember[];
}

export type ConsumerOffsetsRecord =
  | { kind: "offset"; groupId: string; topic: string; partition: number; value: OffsetCommitValue | null }
  | { kind: "group"; groupId: string; value: GroupMetadataValue | null };

const OFFSET_KEY_VERSION = 1;
const GROUP_KEY_VERSION = 2;
const GROUP_VALUE_VERSION = 3;
const LAST_OFFSET_VALUE_VERSION = 4;

/** Encodes a record as the broker stores it (key v1/v2; offset value v3 or v1; group value v3). */
export function encodeConsumerOffsetsRecord(r: ConsumerOffsetsRecord): { key: Buffer; value: Buffer | null } {
  const k = new Writer(64);
  if (r.kind === "offset") {
    k.int16(OFFSET_KEY_VERSION).string(r.groupId).string(r.topic).int32(r.partition);
    return { key: copy(k), value: r.value === null ? null : encodeOffsetValue(r.value) };
  }
  k.int16(GROUP_KEY_VERSION).string(r.groupId);
  return { key: copy(k), value: r.value === null ? null : encodeGroupValue(r.value) };
}

function copy(w: Writer): Buffer {
  return Buffer.from(w.finish());
}

function encodeOffsetValue(o: OffsetCommitValue): Buffer {
  const w = new Writer(64);
  if (o.expireTimestampMs !== null) {
    w.int16(1).int64(o.offset).string(o.metadata).int64(BigInt(o.commitTimestampMs));
    w.int64(BigInt(o.expireTimestampMs));
  } else {
    w.int16(3).int64(o.offset).int32(o.leaderEpoch).string(o.metadata).int64(BigInt(o.commitTimestampMs));
  }
  return copy(w);
}

function encodeGroupValue(g: GroupMetadataValue): Buffer {
  const w = new Writer(256);
  w.int16(GROUP_VALUE_VERSION).string(g.protocolType).int32(g.generationId);
  w.nullableString(g.protocolName)
    .nullableString(g.leaderId)
    .int64(BigInt(g.stateTimestampMs ?? -1));
  w.int32(g.members.length);
  for (const m of g.members) {
    w.string(m.memberId).nullableString(m.groupInstanceId).string(m.clientId).string(m.clientHost);
    w.int32(m.rebalanceTimeoutMs).int32(m.sessionTimeoutMs).bytes(m.subscription).bytes(m.assignment);
  }
  return copy(w);
}

/** Decodes one record; throws DecodeError for key or value versions it does not know. */
export function decodeConsumerOffsetsRecord(key: Buffer, value: Buffer | null): ConsumerOffsetsRecord {
  const offsetKey = decodeOffsetCommitKey(key);
  if (offsetKey !== undefined)
    return { kind: "offset", ...offsetKey, value: value === null ? null : decodeOffsetCommitValue(value) };
  const k = new Reader(key);
  const keyVersion = k.int16();
  if (keyVersion === GROUP_KEY_VERSION) {
    const groupId = k.string();
    end(k, "group metadata key");
    return { kind: "group", groupId, value: value === null ? null : decodeGroupValue(value) };
  }
  throw new DecodeError(`__consumer_offsets: unknown key version ${keyVersion}`);
}

/** The group, topic and partition of an offset commit key; undefined for any other kind of key. */
export function decodeOffsetCommitKey(key: Buffer): OffsetCommitKey | undefined {
  const k = new Reader(key);
  const keyVersion = k.int16();
  if (keyVersion !== 0 && keyVersion !== OFFSET_KEY_VERSION) return undefined;
  const groupId = k.string();
  const topic = k.string();
  const partition = k.int32();
  end(k, "offset commit key");
  return { groupId, topic, partition };
}

/** Decodes an offset commit value, versions 0 to 4. */
export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  const r = new Reader(value);
  const v = r.int16();
  if (v < 0 || v > LAST_OFFSET_VALUE_VERSION)
    throw new DecodeError(`__consumer_offsets: unknown offset commit value version ${v}`);
  const offset = r.int64();
  const leaderEpoch = v >= 3 ? r.int32() : -1;
  const metadata = v >= 4 ? r.compactString() : r.string();
  const commitTimestampMs = Number(r.int64());
  const expire = v === 1 ? Number(r.int64()) : -1;
  if (v >= 4) r.skipTaggedFields();
  end(r, "offset commit value");
  return {
    offset,
    leaderEpoch,
    metadata,
    commitTimestampMs,
    expireTimestampMs: expire === -1 ? null : expire,
  };
}

function end(r: Reader, what: string): void {
  if (r.remaining !== 0)
    throw new DecodeError(`__consumer_offsets: ${r.remaining} trailing bytes after the ${what}`);
}

function decodeGroupValue(value: Buffer): GroupMetadataValue {
  const r = new Reader(value);
  const v = r.int16();
  if (v < 0 || v > GROUP_VALUE_VERSION)
    throw new DecodeError(`__consumer_offsets: unknown group metadata version ${v}`);
  const protocolType = r.string();
  const generationId = r.int32();
  const protocolName = r.nullableString();
  const leaderId = r.nullableString();
  const ts = v >= 2 ? Number(r.int64()) : -1;
  const n = r.arrayLength();
  const members: GroupMetadataMember[] = [];
  for (let i = 0; i < n; i++) {
    const memberId = r.string();
    const groupInstanceId = v >= 3 ? r.nullableString() : null;
    const clientId = r.string();
    const clientHost = r.string();
    const rebalance = v >= 1 ? r.int32() : -1;
    const sessionTimeoutMs = r.int32();
    // Copies: the record's buffer may be a large read the members must not keep alive.
    const subscription = Buffer.from(r.bytes());
    const assignment = Buffer.from(r.bytes());
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      // Kafka's rule for records from before rebalance timeouts existed.
      rebalanceTimeoutMs: rebalance === -1 ? sessionTimeoutMs : rebalance,
      sessionTimeoutMs,
      subscription,
      assignment,
    });
  }
  end(r, "group metadata value");
  return {
    protocolType,
    generationId,
    protocolName,
    leaderId,
    stateTimestampMs: ts === -1 ? null : ts,
    members,
  };
}
