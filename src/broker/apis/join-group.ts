// JoinGroup, versions 0-9: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { defineApi } from "./api.ts";

export const joinGroup = defineApi({
  key: ApiKey.JoinGroup,
  minVersion: 0,
  maxVersion: 9,
  handle: (req, ctx) => ctx.broker.groups.joinGroup(req, ctx.apiVersion, ctx.clientId, ctx.clientHost),
});
