// CreatePartitions (key 37). v1: no change. v2: flexible. v3: no change.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi } from "./api.ts";
import { errorOf } from "./error-of.ts";

export const createPartitions = defineApi({
  key: ApiKey.CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx) {
    const b = ctx.broker;
    const results = [];
    for (const t of req.topics) {
      if (!ctx.authorize(AclOperation.ALTER, AclResourceType.TOPIC, t.name)) {
        results.push({
          name: t.name,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: `not authorized to alter topic '${t.name}'`,
        });
        continue;
      }
      const bad = (t.assignments ?? []).find(
        (a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== b.meta.nodeId,
      );
      if (bad !== undefined) {
        results.push({
          name: t.name,
          errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          errorMessage: `new partitions must be assigned to broker ${b.meta.nodeId} only`,
        });
        continue;
      }
      try {
        await b.topics.createPartitions(t.name, t.count, req.validateOnly);
        results.push({ name: t.name, errorCode: 0, errorMessage: null });
      } catch (e) {
        const { code, message } = errorOf(e, b.log, `create partitions ${t.name}`);
        results.push({ name: t.name, errorCode: code, errorMessage: message });
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
