// OffsetCommit, versions 0-9: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { defineApi } from "./api.ts";

export const offsetCommit = defineApi({
  key: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx) {
    const refused = (t: { name: string; partitions: { partitionIndex: number }[] }, errorCode: number) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
    });
    if (!ctx.authorize(AclOperation.READ, AclResourceType.GROUP, req.groupId))
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => refused(t, ErrorCode.GROUP_AUTHORIZATION_FAILED)),
      };
    // Offsets of topics the caller may not read fail; the others are committed.
    const denied = req.topics.filter((t) => !ctx.authorize(AclOperation.READ, AclResourceType.TOPIC, t.name));
    if (denied.length === 0) return ctx.broker.groups.offsetCommit(req, ctx.apiVersion);
    const allowed = req.topics.filter((t) => !denied.includes(t));
    const answer =
      allowed.length > 0
        ? await ctx.broker.groups.offsetCommit({ ...req, topics: allowed }, ctx.apiVersion)
        : { throttleTimeMs: 0, topics: [] };
    return {
      ...answer,
      topics: [
        ...(answer.topics ?? []),
        ...denied.map((t) => refused(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED)),
      ],
    };
  },
});
