// JoinGroup, versions 0-9: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { defaultJoinGroupResponse } from "../../protocol/generated/join-group-response.ts";
import { defineApi } from "./api.ts";

export const joinGroup = defineApi({
  key: ApiKey.JoinGroup,
  minVersion: 0,
  maxVersion: 9,
  handle: (req, ctx) =>
    ctx.authorize(AclOperation.READ, AclResourceType.GROUP, req.groupId)
      ? ctx.broker.groups.joinGroup(req, ctx.apiVersion, ctx.clientId, ctx.clientHost)
      : Promise.resolve({
          ...defaultJoinGroupResponse(),
          protocolName: ctx.apiVersion >= 7 ? null : "",
          errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        }),
});
