// OffsetFetch, versions 0-9: the group coordinator does the work
// (src/broker/groups/); see group-coordinator.ts for what each version adds.
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { offsetFetchResponse } from "../groups/responses.ts";
import { defineApi } from "./api.ts";

export const offsetFetch = defineApi({
  key: ApiKey.OffsetFetch,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    const mayDescribeGroup = (g: string): boolean =>
      ctx.authorize(AclOperation.DESCRIBE, AclResourceType.GROUP, g);
    const mayDescribeTopic = (t: string): boolean =>
      ctx.authorize(AclOperation.DESCRIBE, AclResourceType.TOPIC, t);
    if (v < 8 && !mayDescribeGroup(req.groupId)) {
      const wanted = [{ topics: v >= 2 ? req.topics : (req.topics ?? []) }];
      return offsetFetchResponse(
        [{ groupId: req.groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] }],
        wanted,
        v,
      );
    }
    const answer = await ctx.broker.groups.offsetFetch(req, v);
    // Topics asked for by name fail when not describable; from "all topics" they are left out.
    const filter = <P extends { errorCode?: number; committedOffset?: bigint }>(
      topics: readonly { name?: string; partitions?: readonly P[] }[] | undefined,
      listed: boolean,
    ) =>
      (topics ?? []).flatMap((t) =>
        mayDescribeTopic(t.name ?? "")
          ? [t]
          : listed
            ? [
                {
                  ...t,
                  partitions: (t.partitions ?? []).map((p) => ({
                    ...p,
                    committedOffset: -1n,
                    errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                  })),
                },
              ]
            : [],
      );
    if (v < 8) return { ...answer, topics: filter(answer.topics, req.topics !== null) };
    const groups = (answer.groups ?? []).map((g) => {
      if (!mayDescribeGroup(g.groupId ?? ""))
        return { groupId: g.groupId ?? "", errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
      const asked = req.groups.find((r) => r.groupId === g.groupId);
      return { ...g, topics: filter(g.topics, asked?.topics !== null && asked?.topics !== undefined) };
    });
    return { ...answer, groups };
  },
});
