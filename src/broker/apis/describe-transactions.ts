// DescribeTransactions (key 65, KIP-664). v0: flexible. The state, producer, timeout, start
// time and partitions of each transactional id; TRANSACTIONAL_ID_NOT_FOUND for unknown ones.
import { ApiKey } from "../../protocol/generated/index.ts";
import { defineApi } from "./api.ts";

export const describeTransactions = defineApi({
  key: ApiKey.DescribeTransactions,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx) {
    const transactionStates = ctx.broker.txns.describe(req.transactionalIds).map((d) => {
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
    return Promise.resolve({ throttleTimeMs: 0, transactionStates });
  },
});
