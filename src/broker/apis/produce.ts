// Produce (key 0). v3: transactional id, magic-2 batches only. v5: log start offset. v7:
// ZStandard allowed. v8: record errors and error message. v9: flexible. v10: current
// leader and node endpoints (tagged, on NOT_LEADER only). v11: no change (KIP-951).
// Batches are appended as received (offsets assigned, leader epoch stamped); partitions
// of one request are written concurrently. A transactional batch is accepted only for a
// partition in its producer's open transaction, at the transaction's current epoch (checked
// with the transaction coordinator in-process, as KIP-890's verification does).
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import type { PartitionProduceResponse } from "../../protocol/generated/produce-response.ts";
import type { Input } from "../../protocol/codec-runtime.ts";
import {
  ATTRIBUTES_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  isControl,
  isTransactional,
} from "../../protocol/records/batch-header.ts";
import { readInt64 } from "../log/int64.ts";
import { RecordValidationError } from "../log/log-validator.ts";
import { mirrorReadOnlyMessage, mirrorSourceOf } from "../mirror-topics.ts";
import { CONSUMER_OFFSETS } from "../topic-manager.ts";
import type { TxnCoordinator } from "../txn/txn-coordinator.ts";
import { TRANSACTION_STATE } from "../txn-state.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { allSettled, defineApi } from "./api.ts";
import { errorOf } from "./error-of.ts";

function failed(index: number, code: number, message: string | null): Input<PartitionProduceResponse> {
  return {
    index,
    errorCode: code,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    errorMessage: message,
  };
}

/**
 * Why a transactional batch may not be appended, or null (also for other batches). Errors as
 * Kafka's produce path answers them: no transactional id TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
 * an old epoch INVALID_PRODUCER_EPOCH, a partition outside the transaction INVALID_TXN_STATE,
 * a transaction being ended NOT_ENOUGH_REPLICAS (retriable, as Kafka maps CONCURRENT_TRANSACTIONS).
 */
function checkTransactional(
  records: Buffer,
  transactionalId: string | null,
  topic: string,
  partition: number,
  txns: TxnCoordinator,
): { code: number; message: string } | null {
  const attributes = records.readInt16BE(ATTRIBUTES_OFFSET);
  if (!isTransactional(attributes) || isControl(attributes)) return null;
  if (transactionalId === null) {
    return {
      code: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      message: "a transactional batch needs the request's transactional id",
    };
  }
  const producerId = readInt64(records, PRODUCER_ID_OFFSET);
  const epoch = records.readInt16BE(PRODUCER_EPOCH_OFFSET);
  const code = txns.verifyPartition(transactionalId, producerId, epoch, topic, partition);
  switch (code) {
    case ErrorCode.NONE:
      return null;
    case ErrorCode.PRODUCER_FENCED:
      return {
        code: ErrorCode.INVALID_PRODUCER_EPOCH,
        message: `producer ${producerId} epoch ${epoch} is not the current epoch of '${transactionalId}'`,
      };
    case ErrorCode.CONCURRENT_TRANSACTIONS:
      return {
        code: ErrorCode.NOT_ENOUGH_REPLICAS,
        message: `the transaction of '${transactionalId}' is being completed; retry`,
      };
    case ErrorCode.INVALID_TXN_STATE:
      return {
        code,
        message: `${topic}-${partition} is not in the open transaction of '${transactionalId}'`,
      };
    default:
      return { code, message: `transaction check for '${transactionalId}' failed` };
  }
}

export const produce = defineApi({
  key: ApiKey.Produce,
  minVersion: 3,
  maxVersion: 11,
  // Advertised from v0 like Kafka 4 (KAFKA-18659): librdkafka before the fix for its issue
  // #4956 (Debian 12 ships 2.0.2) sends gzip, snappy and lz4 batches uncompressed unless the
  // broker's Produce range includes v0. Clients pick the highest common version, and v0-v2
  // requests are still refused by the dispatcher.
  advertisedMinVersion: 0,
  // Every append has finished (written, or refused) before handle() returns, acks=0 included.
  requestDoneWhenSettled: true,
  async handle(req, ctx) {
    const b = ctx.broker;
    const acks = req.acks;
    const refuseAll = (code: number, message: string) =>
      req.topicData.map((t) => ({
        name: t.name,
        partitionResponses: t.partitionData.map((p) => failed(p.index, code, message)),
      }));
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      return {
        responses: refuseAll(ErrorCode.INVALID_REQUIRED_ACKS, `acks must be 0, 1 or -1, got ${acks}`),
      };
    }
    if (
      req.transactionalId !== null &&
      !ctx.authorize(AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, req.transactionalId)
    ) {
      const responses = refuseAll(
        ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        "not authorized for the transactional id",
      );
      return acks === 0 ? null : { responses, throttleTimeMs: 0 };
    }
    const responses = await allSettled(
      req.topicData.map(async (t) => ({
        name: t.name,
        partitionResponses: await allSettled(
          t.partitionData.map(async (p): Promise<Input<PartitionProduceResponse>> => {
            if (!ctx.authorize(AclOperation.WRITE, AclResourceType.TOPIC, t.name))
              return failed(
                p.index,
                ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                `not authorized to write to ${t.name}`,
              );
            const partition = b.topics.partition(t.name, p.index);
            if (partition === undefined) {
              return failed(
                p.index,
                ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                `unknown topic or partition ${t.name}-${p.index}`,
              );
            }
            if (t.name === CONSUMER_OFFSETS || t.name === TRANSACTION_STATE) {
              return failed(
                p.index,
                ErrorCode.INVALID_TOPIC_EXCEPTION,
                `${t.name} is written by the broker only`,
              );
            }
            const mirrorOf = mirrorSourceOf(partition.topic);
            if (mirrorOf !== undefined) {
              return failed(p.index, ErrorCode.INVALID_REQUEST, mirrorReadOnlyMessage(t.name, mirrorOf));
            }
            if (p.records === null || p.records.length === 0) {
              return failed(p.index, ErrorCode.INVALID_RECORD, "no record batches in the request");
            }
            if (p.records.length >= RECORD_BATCH_OVERHEAD) {
              const refused = checkTransactional(p.records, req.transactionalId, t.name, p.index, b.txns);
              if (refused !== null) return failed(p.index, refused.code, refused.message);
            }
            try {
              const r = await partition.log.append(p.records, { requireZeroBaseOffset: true });
              partition.notifyAppend();
              return {
                index: p.index,
                errorCode: 0,
                baseOffset: BigInt(r.baseOffset),
                logAppendTimeMs: BigInt(r.logAppendTime),
                logStartOffset: BigInt(r.logStartOffset),
                errorMessage: null,
              };
            } catch (e) {
              const { code, message } = errorOf(e, b.log, `produce ${t.name}-${p.index}`);
              const out = failed(p.index, code, message);
              if (e instanceof RecordValidationError) {
                return {
                  ...out,
                  recordErrors: e.recordErrors.map((r) => ({
                    batchIndex: r.batchIndex,
                    batchIndexErrorMessage: r.message,
                  })),
                };
              }
              return out;
            }
          }),
        ),
      })),
    );
    return acks === 0 ? null : { responses, throttleTimeMs: 0 };
  },
});
