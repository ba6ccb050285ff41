// DescribeGroups, versions 0-5: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { defineApi } from "./api.ts";

export const describeGroups = defineApi({
  key: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 5,
  handle: (req, ctx) => ctx.broker.groups.describeGroups(req, ctx.apiVersion),
});
