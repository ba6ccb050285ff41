// ListOffsets (key 2). v1: one offset per partition (v0's multi-offset form is not
// served). v2: isolation level. v4: leader epochs. v6: flexible. v7: max timestamp (-3).
// v8: earliest local (-4), the same as earliest here (no tiered storage). Under
// read_committed, latest is the last stable offset and lookups by time find nothing past it.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import type { ListOffsetsPartitionResponse } from "../../protocol/generated/list-offsets-response.ts";
import type { Input } from "../../protocol/codec-runtime.ts";
import { LEADER_EPOCH } from "../broker-context.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi } from "./api.ts";
import { errorOf } from "./error-of.ts";

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;
const EARLIEST_LOCAL = -4n;
const READ_COMMITTED = 1;

export const listOffsets = defineApi({
  key: ApiKey.ListOffsets,
  minVersion: 1,
  maxVersion: 8,
  async handle(req, ctx) {
    const b = ctx.broker;
    const topics = await Promise.all(
      req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (p): Promise<Input<ListOffsetsPartitionResponse>> => {
            const partition = b.topics.partition(t.name, p.partitionIndex);
            const answer = (offset: number, timestamp: number) => ({
              partitionIndex: p.partitionIndex,
              errorCode: 0,
              timestamp: BigInt(timestamp),
              offset: BigInt(offset),
              leaderEpoch: offset < 0 || ctx.apiVersion < 4 ? -1 : LEADER_EPOCH,
            });
            const fail = (code: number) => ({
              partitionIndex: p.partitionIndex,
              errorCode: code,
              timestamp: -1n,
              offset: -1n,
            });
            if (!ctx.authorize(AclOperation.DESCRIBE, AclResourceType.TOPIC, t.name))
              return fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            if (partition === undefined) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            if (p.currentLeaderEpoch > LEADER_EPOCH) return fail(ErrorCode.UNKNOWN_LEADER_EPOCH);
            const log = partition.log;
            // read_committed: nothing at or past the last stable offset is answered (Kafka's lastFetchableOffset).
            const limit = req.isolationLevel === READ_COMMITTED ? log.lastStableOffset : Infinity;
            try {
              switch (p.timestamp) {
                case LATEST:
                  return answer(Math.min(limit, log.highWatermark), -1);
                case EARLIEST:
                case EARLIEST_LOCAL:
                  return answer(log.logStartOffset, -1);
                case MAX_TIMESTAMP: {
                  const m = await log.maxTimestamp();
                  return m === null || m.offset >= limit ? answer(-1, -1) : answer(m.offset, m.timestamp);
                }
                default: {
                  if (p.timestamp < 0n) return fail(ErrorCode.INVALID_REQUEST);
                  const found = await log.offsetForTimestamp(Number(p.timestamp));
                  return found === null || found.offset >= limit
                    ? answer(-1, -1)
                    : answer(found.offset, found.timestamp);
                }
              }
            } catch (e) {
              return fail(errorOf(e, b.log, `list offsets ${t.name}-${p.partitionIndex}`).code);
            }
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
});
