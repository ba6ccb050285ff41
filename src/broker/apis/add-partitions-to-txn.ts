// AddPartitionsToTxn (key 24). v1: no change. v2: PRODUCER_FENCED (older versions get
// INVALID_PRODUCER_EPOCH). v3: flexible. v4: several transactions per request, VerifyOnly
// and a top-level error (the form brokers use for KIP-890 verification; served here to any
// caller). v5: TRANSACTION_ABORTABLE (never answered here). Partitions that do not exist fail
// with UNKNOWN_TOPIC_OR_PARTITION and the others with OPERATION_NOT_ATTEMPTED, as in Kafka.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import type { AddPartitionsToTxnTopic } from "../../protocol/generated/add-partitions-to-txn-request.ts";
import type { AddPartitionsToTxnTopicResult } from "../../protocol/generated/add-partitions-to-txn-response.ts";
import type { Input } from "../../protocol/codec-runtime.ts";
import type { BrokerContext } from "../broker-context.ts";
import type { TopicPartition } from "../txn/txn-metadata.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi, type RequestContext } from "./api.ts";
import { fencedCode } from "./producer-fenced.ts";

type TopicResults = Input<AddPartitionsToTxnTopicResult>[];

function resultsFor(
  topics: readonly AddPartitionsToTxnTopic[],
  codeOf: (tp: TopicPartition) => number,
): TopicResults {
  return topics.map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((partition) => ({
      partitionIndex: partition,
      partitionErrorCode: codeOf({ topic: t.name, partition }),
    })),
  }));
}

/** Adds (or, verifyOnly, checks) one transaction's partitions; per-partition results. */
async function addOne(
  ctx: RequestContext,
  version: number,
  transactionalId: string,
  producerId: bigint,
  producerEpoch: number,
  topics: readonly AddPartitionsToTxnTopic[],
  verifyOnly: boolean,
): Promise<TopicResults> {
  const b: BrokerContext = ctx.broker;
  const pid = Number(producerId);
  if (!ctx.authorize(AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, transactionalId))
    return resultsFor(topics, () => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  // As Kafka: unauthorized topics fail, and nothing else of the request is attempted.
  if (topics.some((t) => !ctx.authorize(AclOperation.WRITE, AclResourceType.TOPIC, t.name)))
    return resultsFor(topics, (tp) =>
      ctx.authorize(AclOperation.WRITE, AclResourceType.TOPIC, tp.topic)
        ? ErrorCode.OPERATION_NOT_ATTEMPTED
        : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    );
  if (verifyOnly) {
    return resultsFor(topics, (tp) =>
      fencedCode(
        b.txns.verifyPartition(transactionalId, pid, producerEpoch, tp.topic, tp.partition),
        version,
        2,
      ),
    );
  }
  const partitions: TopicPartition[] = [];
  let anyUnknown = false;
  for (const t of topics)
    for (const partition of t.partitions) {
      if (b.topics.partition(t.name, partition) === undefined) anyUnknown = true;
      partitions.push({ topic: t.name, partition });
    }
  if (anyUnknown) {
    return resultsFor(topics, (tp) =>
      b.topics.partition(tp.topic, tp.partition) === undefined
        ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        : ErrorCode.OPERATION_NOT_ATTEMPTED,
    );
  }
  const code = fencedCode(
    await b.txns.addPartitions(transactionalId, pid, producerEpoch, partitions),
    version,
    2,
  );
  return resultsFor(topics, () => code);
}

export const addPartitionsToTxn = defineApi({
  key: ApiKey.AddPartitionsToTxn,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    if (v < 4) {
      const results = await addOne(
        ctx,
        v,
        req.v3AndBelowTransactionalId,
        req.v3AndBelowProducerId,
        req.v3AndBelowProducerEpoch,
        req.v3AndBelowTopics,
        false,
      );
      return { throttleTimeMs: 0, resultsByTopicV3AndBelow: results };
    }
    const resultsByTransaction = await Promise.all(
      req.transactions.map(async (t) => ({
        transactionalId: t.transactionalId,
        topicResults: await addOne(
          ctx,
          v,
          t.transactionalId,
          t.producerId,
          t.producerEpoch,
          t.topics,
          t.verifyOnly,
        ),
      })),
    );
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction };
  },
});
