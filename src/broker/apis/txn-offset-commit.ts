// TxnOffsetCommit (key 28). v1: no change. v2: committed leader epoch. v3: flexible;
// generation, member id and group instance id (KIP-447). v4: TRANSACTION_ABORTABLE (never
// answered here). The transaction coordinator checks that the group's offsets partition is in
// the producer's open transaction (an old epoch is INVALID_PRODUCER_EPOCH, as Kafka's offsets
// log answers it); the group coordinator writes the offsets as the producer's transactional
// records, which take effect when EndTxn commits.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi } from "./api.ts";

export const txnOffsetCommit = defineApi({
  key: ApiKey.TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    const b = ctx.broker;
    const producerId = Number(req.producerId);
    const refuseAll = (errorCode: number) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
      })),
    });
    if (!ctx.authorize(AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, req.transactionalId))
      return refuseAll(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!ctx.authorize(AclOperation.READ, AclResourceType.GROUP, req.groupId))
      return refuseAll(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    if (req.topics.some((t) => !ctx.authorize(AclOperation.READ, AclResourceType.TOPIC, t.name)))
      return refuseAll(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const check = b.txns.verifyOffsetCommit(req.transactionalId, producerId, req.producerEpoch, req.groupId);
    if (check !== ErrorCode.NONE) {
      const errorCode = check === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : check;
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
        })),
      };
    }
    return b.groups.txnOffsetCommit(req, ctx.apiVersion, { producerId, producerEpoch: req.producerEpoch });
  },
});
