// ListTransactions (key 66, KIP-664). v0: flexible, filters by state and producer id. v1:
// DurationFilter (KIP-994): only transactions running at least that many ms (-1: all).
// State names the broker does not know come back in UnknownStateFilters.
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi } from "./api.ts";

export const listTransactions = defineApi({
  key: ApiKey.ListTransactions,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    const r = ctx.broker.txns.list(
      req.stateFilters,
      req.producerIdFilters.map(Number),
      ctx.apiVersion >= 1 ? Number(req.durationFilter) : -1,
    );
    return Promise.resolve({
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      unknownStateFilters: r.unknownStateFilters,
      // Only the transactions the caller may describe are listed, as Kafka filters them.
      transactionStates: r.transactions
        .filter((t) =>
          ctx.authorize(AclOperation.DESCRIBE, AclResourceType.TRANSACTIONAL_ID, t.transactionalId),
        )
        .map((t) => ({
          transactionalId: t.transactionalId,
          producerId: BigInt(t.producerId),
          transactionState: t.state,
        })),
    });
  },
});
