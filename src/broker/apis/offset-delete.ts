// OffsetDelete, versions 0-0: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { defineApi } from "./api.ts";

export const offsetDelete = defineApi({
  key: ApiKey.OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    if (!ctx.authorize(AclOperation.DELETE, AclResourceType.GROUP, req.groupId))
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
    const denied = req.topics.filter((t) => !ctx.authorize(AclOperation.READ, AclResourceType.TOPIC, t.name));
    if (denied.length === 0) return ctx.broker.groups.offsetDelete(req, ctx.apiVersion);
    const allowed = req.topics.filter((t) => !denied.includes(t));
    const answer = await ctx.broker.groups.offsetDelete({ ...req, topics: allowed }, ctx.apiVersion);
    if (answer.errorCode !== ErrorCode.NONE) return answer;
    const refused = denied.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      })),
    }));
    return { ...answer, topics: [...(answer.topics ?? []), ...refused] };
  },
});
