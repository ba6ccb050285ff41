// EndTxn (key 26). v1: no change. v2: PRODUCER_FENCED (older versions get
// INVALID_PRODUCER_EPOCH). v3: flexible. v4: TRANSACTION_ABORTABLE (never answered here).
// v5 (KIP-890 part 2: a new epoch after every transaction) is not served: clients then keep
// their epoch across transactions, as with Kafka brokers without transaction.version 2.
// Answered once the decision is durable and the markers were written (or are being retried).
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi } from "./api.ts";
import { fencedCode } from "./producer-fenced.ts";

export const endTxn = defineApi({
  key: ApiKey.EndTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    if (!ctx.authorize(AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, req.transactionalId))
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    const code = await ctx.broker.txns.endTxn(
      req.transactionalId,
      Number(req.producerId),
      req.producerEpoch,
      req.committed,
    );
    return { throttleTimeMs: 0, errorCode: fencedCode(code, ctx.apiVersion, 2) };
  },
});
