// SyncGroup, versions 0-5: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { defaultSyncGroupResponse } from "../../protocol/generated/sync-group-response.ts";
import { defineApi } from "./api.ts";

export const syncGroup = defineApi({
  key: ApiKey.SyncGroup,
  minVersion: 0,
  maxVersion: 5,
  handle: (req, ctx) =>
    ctx.authorize(AclOperation.READ, AclResourceType.GROUP, req.groupId)
      ? ctx.broker.groups.syncGroup(req, ctx.apiVersion)
      : Promise.resolve({ ...defaultSyncGroupResponse(), errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED }),
});
