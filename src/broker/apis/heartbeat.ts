// Heartbeat, versions 0-4: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { defineApi } from "./api.ts";

export const heartbeat = defineApi({
  key: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle: (req, ctx) => ctx.broker.groups.heartbeat(req, ctx.apiVersion),
});
