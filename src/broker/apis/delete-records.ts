// DeleteRecords (key 21). v1: no change. v2: flexible. Moves a partition's log start
// offset forward; offset -1 means the high watermark.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { mirrorSourceOf } from "../mirror-topics.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi } from "./api.ts";
import { errorOf } from "./error-of.ts";

export const deleteRecords = defineApi({
  key: ApiKey.DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const b = ctx.broker;
    const topics = await Promise.all(
      req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (p) => {
            if (!ctx.authorize(AclOperation.DELETE, AclResourceType.TOPIC, t.name))
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: -1n,
                errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
              };
            const partition = b.topics.partition(t.name, p.partitionIndex);
            if (partition === undefined) {
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: -1n,
                errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              };
            }
            const log = partition.log;
            if (mirrorSourceOf(partition.topic) !== undefined) {
              // A mirror's log start follows its source (FerryMirrorAppend), not clients.
              b.log.debug("delete records refused: mirror topic", { topic: t.name });
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: BigInt(log.logStartOffset),
                errorCode: ErrorCode.INVALID_REQUEST,
              };
            }
            const target = p.offset === -1n ? log.highWatermark : Number(p.offset);
            if (p.offset < -1n || target > log.highWatermark) {
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: BigInt(log.logStartOffset),
                errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
              };
            }
            try {
              const low = await log.deleteRecordsBefore(target);
              return { partitionIndex: p.partitionIndex, lowWatermark: BigInt(low), errorCode: 0 };
            } catch (e) {
              const { code } = errorOf(e, b.log, `delete records ${t.name}-${p.partitionIndex}`);
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: BigInt(log.logStartOffset),
                errorCode: code,
              };
            }
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
});
