// InitProducerId (key 22). v1: no change. v2: flexible. v3: existing producer id/epoch
// (KIP-360). v4-5: no change for idempotent producers. Without a transactional id, every
// call gets a fresh producer id at epoch 0, never handed out before by this data directory.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { defineApi } from "./api.ts";

export const initProducerId = defineApi({
  key: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const b = ctx.broker;
    if (req.transactionalId !== null) {
      b.log.warn("InitProducerId with a transactional id refused: transactions are not supported yet", {
        transactionalId: req.transactionalId,
      });
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1n,
        producerEpoch: -1,
      };
    }
    const id = await b.meta.allocateProducerId();
    return { throttleTimeMs: 0, errorCode: 0, producerId: BigInt(id), producerEpoch: 0 };
  },
});
