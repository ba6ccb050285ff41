// InitProducerId (key 22). v1: no change. v2: flexible. v3: existing producer id/epoch
// (KIP-360). v4: PRODUCER_FENCED (older versions get INVALID_PRODUCER_EPOCH). v5:
// TRANSACTION_ABORTABLE (never answered here). Without a transactional id, every call gets a
// fresh producer id at epoch 0, never handed out before by this data directory (what Kafka
// does too, even when an idempotent producer presents its old id). With one, the transaction
// coordinator answers (src/broker/txn/): epoch bumps, fencing, aborting an open transaction.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType, CLUSTER_RESOURCE } from "../security/acls.ts";
import { defineApi } from "./api.ts";
import { fencedCode } from "./producer-fenced.ts";

export const initProducerId = defineApi({
  key: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const b = ctx.broker;
    const refuse = (errorCode: number) => ({
      throttleTimeMs: 0,
      errorCode,
      producerId: -1n,
      producerEpoch: -1,
    });
    if (req.transactionalId !== null) {
      if (!ctx.authorize(AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, req.transactionalId))
        return refuse(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      const expected =
        ctx.apiVersion >= 3 && req.producerId >= 0n
          ? { producerId: Number(req.producerId), producerEpoch: req.producerEpoch }
          : null;
      const r = await b.txns.initProducerId(req.transactionalId, req.transactionTimeoutMs, expected);
      return {
        throttleTimeMs: 0,
        errorCode: fencedCode(r.errorCode, ctx.apiVersion, 4),
        producerId: BigInt(r.producerId),
        producerEpoch: r.producerEpoch,
      };
    }
    // Idempotence needs IDEMPOTENT_WRITE on the cluster, or WRITE on some topic (KIP-679).
    if (
      !ctx.authorize(AclOperation.IDEMPOTENT_WRITE, AclResourceType.CLUSTER, CLUSTER_RESOURCE) &&
      !b.security.authorizeByResourceType(ctx.session, AclOperation.WRITE, AclResourceType.TOPIC)
    )
      return refuse(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const id = await b.meta.allocateProducerId();
    return { throttleTimeMs: 0, errorCode: 0, producerId: BigInt(id), producerEpoch: 0 };
  },
});
