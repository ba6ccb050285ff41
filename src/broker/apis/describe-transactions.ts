// DescribeTransactions (key 65, KIP-664). v0: flexible. The state, producer, timeout, start
// time and partitions of each transactional id; TRANSACTIONAL_ID_NOT_FOUND for unknown ones.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi } from "./api.ts";

export const describeTransactions = defineApi({
  key: ApiKey.DescribeTransactions,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx) {
    const allowed = req.transactionalIds.filter((id) =>
      ctx.authorize(AclOperation.DESCRIBE, AclResourceType.TRANSACTIONAL_ID, id),
    );
    const denied = req.transactionalIds
      .filter((id) => !allowed.includes(id))
      .map((transactionalId) => ({
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        transactionalId,
        transactionState: "",
        transactionTimeoutMs: 0,
        transactionStartTimeMs: -1n,
        producerId: -1n,
        producerEpoch: -1,
        topics: [],
      }));
    const described = ctx.broker.txns.describe(allowed).map((d) => {
      const byTopic = new Map<string, number[]>();
      for (const p of d.partitions) {
        const list = byTopic.get(p.topic);
        if (list === undefined) byTopic.set(p.topic, [p.partition]);
        else list.push(p.partition);
      }
      return {
        errorCode: d.errorCode,
        transactionalId: d.transactionalId,
        transactionState: d.state,
        transactionTimeoutMs: d.timeoutMs,
        transactionStartTimeMs: BigInt(d.startTimestamp),
        producerId: BigInt(d.producerId),
        producerEpoch: d.producerEpoch,
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      };
    });
    return Promise.resolve({ throttleTimeMs: 0, transactionStates: [...described, ...denied] });
  },
});
