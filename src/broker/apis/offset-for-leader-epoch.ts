// OffsetForLeaderEpoch (key 23). v1: leader epoch in the answer. v2: current leader epoch.
// v3: replica id. v4: flexible. The single node has had one leader epoch, 0, since the
// partition was created: its end offset is the log end; later epochs are unknown.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { LEADER_EPOCH } from "../broker-context.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi } from "./api.ts";

export const offsetForLeaderEpoch = defineApi({
  key: ApiKey.OffsetForLeaderEpoch,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx) {
    const b = ctx.broker;
    const topics = req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        const partition = b.topics.partition(t.topic, p.partition);
        const base = { partition: p.partition, leaderEpoch: -1, endOffset: -1n };
        if (!ctx.authorize(AclOperation.DESCRIBE, AclResourceType.TOPIC, t.topic))
          return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
        if (partition === undefined) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        if (p.currentLeaderEpoch > LEADER_EPOCH)
          return { ...base, errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH };
        if (p.leaderEpoch > LEADER_EPOCH) return { ...base, errorCode: 0 };
        return {
          partition: p.partition,
          errorCode: 0,
          leaderEpoch: LEADER_EPOCH,
          endOffset: BigInt(partition.log.logEndOffset),
        };
      }),
    }));
    return Promise.resolve({ throttleTimeMs: 0, topics });
  },
});
