// OffsetDelete, versions 0-0: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { defineApi } from "./api.ts";

export const offsetDelete = defineApi({
  key: ApiKey.OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  handle: (req, ctx) => ctx.broker.groups.offsetDelete(req, ctx.apiVersion),
});
