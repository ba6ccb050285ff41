// OffsetCommit, versions 0-9: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { defineApi } from "./api.ts";

export const offsetCommit = defineApi({
  key: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 9,
  handle: (req, ctx) => ctx.broker.groups.offsetCommit(req, ctx.apiVersion),
});
