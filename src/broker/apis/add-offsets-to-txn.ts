// AddOffsetsToTxn (key 25). v1: no change. v2: PRODUCER_FENCED (older versions get
// INVALID_PRODUCER_EPOCH). v3: flexible. v4: TRANSACTION_ABORTABLE (never answered here).
// Adds the group's offsets partition to the transaction, so that TxnOffsetCommit may follow
// and EndTxn writes a marker there too.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi } from "./api.ts";
import { fencedCode } from "./producer-fenced.ts";

export const addOffsetsToTxn = defineApi({
  key: ApiKey.AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    if (!ctx.authorize(AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, req.transactionalId))
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    if (!ctx.authorize(AclOperation.READ, AclResourceType.GROUP, req.groupId))
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const code = await ctx.broker.txns.addOffsets(
      req.transactionalId,
      Number(req.producerId),
      req.producerEpoch,
      req.groupId,
    );
    return { throttleTimeMs: 0, errorCode: fencedCode(code, ctx.apiVersion, 2) };
  },
});
