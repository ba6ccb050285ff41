// DeleteGroups, versions 0-2: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { defineApi } from "./api.ts";

export const deleteGroups = defineApi({
  key: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  handle: (req, ctx) => ctx.broker.groups.deleteGroups(req, ctx.apiVersion),
});
