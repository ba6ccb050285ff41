// Produce (key 0). v3: transactional id, magic-2 batches only. v5: log start offset. v7:
// ZStandard allowed. v8: record errors and error message. v9: flexible. v10: current
// leader and node endpoints (tagged, on NOT_LEADER only). v11: no change (KIP-951).
// Batches are appended as received (offsets assigned, leader epoch stamped); partitions
// of one request are written concurrently.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import type { PartitionProduceResponse } from "../../protocol/generated/produce-response.ts";
import type { Input } from "../../protocol/codec-runtime.ts";
import { isTransactional, readBatchHeader } from "../../protocol/records/batch-header.ts";
import { RecordValidationError } from "../log/log-validator.ts";
import { CONSUMER_OFFSETS } from "../topic-manager.ts";
import { defineApi } from "./api.ts";
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

export const produce = defineApi({
  key: ApiKey.Produce,
  minVersion: 3,
  maxVersion: 11,
  // Advertised from v0 like Kafka 4 (KAFKA-18659): librdkafka before the fix for its issue
  // #4956 (Debian 12 ships 2.0.2) sends gzip, snappy and lz4 batches uncompressed unless the
  // broker's Produce range includes v0. Clients pick the highest common version, and v0-v2
  // requests are still refused by the dispatcher.
  advertisedMinVersion: 0,
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
    if (req.transactionalId !== null) {
      b.log.warn("transactional produce refused: transactions are not supported yet", {
        clientId: ctx.clientId,
      });
      return {
        responses: refuseAll(
          ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
          "transactions are not supported by this Ferry broker yet",
        ),
      };
    }
    const responses = await Promise.all(
      req.topicData.map(async (t) => ({
        name: t.name,
        partitionResponses: await Promise.all(
          t.partitionData.map(async (p): Promise<Input<PartitionProduceResponse>> => {
            const partition = b.topics.partition(t.name, p.index);
            if (partition === undefined) {
              return failed(
                p.index,
                ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                `unknown topic or partition ${t.name}-${p.index}`,
              );
            }
            if (t.name === CONSUMER_OFFSETS) {
              return failed(
                p.index,
                ErrorCode.INVALID_TOPIC_EXCEPTION,
                `${CONSUMER_OFFSETS} is written by the broker only`,
              );
            }
            if (p.records === null || p.records.length === 0) {
              return failed(p.index, ErrorCode.INVALID_RECORD, "no record batches in the request");
            }
            if (p.records.length >= 61 && isTransactional(readBatchHeader(p.records, 0).attributes)) {
              return failed(
                p.index,
                ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                "transactional batches are not supported by this Ferry broker yet",
              );
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
