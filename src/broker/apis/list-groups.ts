// ListGroups, versions 0-5: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType, CLUSTER_RESOURCE } from "../security/acls.ts";
import { defineApi } from "./api.ts";

export const listGroups = defineApi({
  key: ApiKey.ListGroups,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const answer = await ctx.broker.groups.listGroups(req, ctx.apiVersion);
    // DESCRIBE on the cluster lists every group; otherwise those the caller may describe.
    if (ctx.authorize(AclOperation.DESCRIBE, AclResourceType.CLUSTER, CLUSTER_RESOURCE)) return answer;
    const groups = (answer.groups ?? []).filter((g) =>
      ctx.authorize(AclOperation.DESCRIBE, AclResourceType.GROUP, g.groupId ?? ""),
    );
    return { ...answer, groups };
  },
});
