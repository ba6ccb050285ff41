// DeleteGroups, versions 0-2: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { defineApi } from "./api.ts";

export const deleteGroups = defineApi({
  key: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const mayDelete = (g: string): boolean => ctx.authorize(AclOperation.DELETE, AclResourceType.GROUP, g);
    const allowed = req.groupsNames.filter(mayDelete);
    const answer = await ctx.broker.groups.deleteGroups({ ...req, groupsNames: allowed }, ctx.apiVersion);
    const denied = [...new Set(req.groupsNames.filter((g) => !mayDelete(g)))].map((groupId) => ({
      groupId,
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
    }));
    return { ...answer, results: [...(answer.results ?? []), ...denied] };
  },
});
