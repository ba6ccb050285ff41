// DescribeGroups, versions 0-5: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { defineApi } from "./api.ts";

export const describeGroups = defineApi({
  key: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const answer = await ctx.broker.groups.describeGroups(req, ctx.apiVersion);
    const groups = (answer.groups ?? []).map((g) =>
      ctx.authorize(AclOperation.DESCRIBE, AclResourceType.GROUP, g.groupId ?? "")
        ? g
        : { groupId: g.groupId ?? "", errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] },
    );
    return { ...answer, groups };
  },
});
