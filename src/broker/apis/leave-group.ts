// LeaveGroup, versions 0-5: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { defineApi } from "./api.ts";

export const leaveGroup = defineApi({
  key: ApiKey.LeaveGroup,
  minVersion: 0,
  maxVersion: 5,
  handle: (req, ctx) =>
    ctx.authorize(AclOperation.READ, AclResourceType.GROUP, req.groupId)
      ? ctx.broker.groups.leaveGroup(req, ctx.apiVersion)
      : Promise.resolve({ throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] }),
});
