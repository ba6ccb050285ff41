// Mirror topics: topics with the Ferry setting ferry.mirror.source, written only by the
// replication link through FerryMirrorAppend (batches at their source offsets, unchanged),
// read-only for clients. Deleting the setting promotes the topic to an ordinary writable one;
// transactions the mirrored data left open are aborted then, so the last stable offset is not
// held back for ever by a producer that lives on another cluster (ABORT markers, as Kafka's
// coordinator writes for a transaction that timed out).
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { encodeEndTxnMarkerBatch } from "../protocol/records/batch-codec.ts";
import { MIRROR_SOURCE_CONFIG } from "./config/config-defs.ts";
import type { PartitionLog } from "./log/partition-log.ts";

export { MIRROR_SOURCE_CONFIG };

/** The mirror's source ("<cluster id>/<topic>"), or undefined for an ordinary topic. */
export function mirrorSourceOf(topic: {
  readonly configs: Readonly<Record<string, string>>;
}): string | undefined {
  return topic.configs[MIRROR_SOURCE_CONFIG];
}

export function isMirrorTopic(topic: { readonly configs: Readonly<Record<string, string>> }): boolean {
  return mirrorSourceOf(topic) !== undefined;
}

/** Why a client may not write to a mirror topic. */
export function mirrorReadOnlyMessage(topic: string, source: string): string {
  return (
    `topic '${topic}' is a mirror of ${source} and is read-only; ` +
    `it is written by the replication link only (delete ${MIRROR_SOURCE_CONFIG} to promote it)`
  );
}

/** The KafkaError clients get for writes (Produce, DeleteRecords) to a mirror topic. */
export function mirrorReadOnlyError(topic: string, source: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_REQUEST, mirrorReadOnlyMessage(topic, source));
}

/** One producer's transaction that is open in a log. */
export interface OpenTransaction {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  firstOffset: number;
}

/** The transactions open in a log's written data, oldest first, with their producers' epochs. */
export function openTransactions(log: PartitionLog): OpenTransaction[] {
  const open: OpenTransaction[] = [];
  for (const [producerId, firstOffset] of log.openTransactions()) {
    const s = log.producerState(producerId);
    open.push({
      producerId,
      producerEpoch: s?.producerEpoch ?? 0,
      coordinatorEpoch: Math.max(s?.coordinatorEpoch ?? 0, 0),
      firstOffset,
    });
  }
  return open.sort((a, b) => a.firstOffset - b.firstOffset);
}

/**
 * Promotion of one partition: writes an ABORT marker for every transaction the mirrored data
 * left open. Returns the transactions aborted.
 */
export async function abortOpenTransactions(log: PartitionLog, now: number): Promise<OpenTransaction[]> {
  // Appends accepted before the promotion are written first, so their transactions count.
  await log.flush();
  const open = openTransactions(log);
  for (const t of open) {
    const marker = encodeEndTxnMarkerBatch({
      commit: false,
      coordinatorEpoch: t.coordinatorEpoch,
      producerId: BigInt(t.producerId),
      producerEpoch: t.producerEpoch,
      timestamp: now,
    });
    await log.append(marker, { origin: "coordinator" });
  }
  return open;
}
