// Transaction state kept in the broker's own log: the internal, compacted __transaction_state
// topic (one partition) holds every transactional id's state in Kafka's record layout and is
// replayed when the broker starts. Markers go straight into the partitions' logs as control
// batches; a marker in the offsets partition also settles the group coordinator's pending
// transactional offset commits.
import { decodeBatches, encodeBatch, encodeEndTxnMarkerBatch } from "../protocol/records/batch-codec.ts";
import type { Logger } from "../util/logger.ts";
import type { BrokerConfig } from "./config/broker-config.ts";
import type { GroupCoordinator } from "./groups/group-coordinator.ts";
import type { PartitionLog } from "./log/partition-log.ts";
import type { MetadataStore } from "./metadata/metadata-store.ts";
import { CONSUMER_OFFSETS, type TopicManager } from "./topic-manager.ts";
import { TxnCoordinator, type TxnMarkerWriter } from "./txn/txn-coordinator.ts";
import type { TopicPartition } from "./txn/txn-metadata.ts";
import type { TxnStore, TxnStoredRecord } from "./txn/txn-records.ts";

/** The internal topic that stores transaction state. */
export const TRANSACTION_STATE = "__transaction_state";

/** The coordinator epoch written into markers: one node that never loses leadership. */
export const COORDINATOR_EPOCH = 0;

const READ_CHUNK = 1 << 20;

/** A TxnStore backed by one partition log. */
export class LogTxnStore implements TxnStore {
  readonly #log: PartitionLog;

  constructor(log: PartitionLog) {
    this.#log = log;
  }

  async append(records: TxnStoredRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.#log.append(encodeBatch({ records: records.map((r) => ({ key: r.key, value: r.value })) }));
  }

  async *load(): AsyncIterable<TxnStoredRecord> {
    let offset = this.#log.logStartOffset;
    const end = this.#log.highWatermark;
    while (offset < end) {
      const bytes = await this.#log.read(offset, READ_CHUNK, { upTo: end, minOneBatch: true });
      if (bytes.length === 0) break;
      for (const batch of decodeBatches(bytes)) {
        const base = Number(batch.header.baseOffset);
        for (const r of batch.records) {
          if (base + r.offsetDelta < offset || r.key === null) continue;
          yield { key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) };
        }
        offset = base + batch.header.lastOffsetDelta + 1;
      }
    }
  }
}

/** Writes markers by appending control batches to the partitions' logs (the broker's WriteTxnMarkers). */
export function logMarkerWriter(
  topics: TopicManager,
  groups: GroupCoordinator,
  now: () => number,
): TxnMarkerWriter {
  return {
    async writeMarkers({ producerId, producerEpoch, commit, partitions }) {
      await Promise.all(
        partitions.map(async (tp) => {
          const p = topics.partition(tp.topic, tp.partition);
          if (p === undefined) return; // deleted since it joined the transaction
          const marker = encodeEndTxnMarkerBatch({
            commit,
            coordinatorEpoch: COORDINATOR_EPOCH,
            producerId: BigInt(producerId),
            producerEpoch,
            timestamp: now(),
          });
          await p.log.append(marker, { origin: "coordinator" });
          p.notifyAppend();
          if (tp.topic === CONSUMER_OFFSETS) groups.completeTransaction(producerId, commit);
        }),
      );
    },
  };
}

/** Opens the transaction coordinator over the internal topic, creating the topic when new. */
export async function openTxnCoordinator(
  topics: TopicManager,
  groups: GroupCoordinator,
  meta: MetadataStore,
  config: BrokerConfig,
  log: Logger,
): Promise<TxnCoordinator> {
  if (topics.topic(TRANSACTION_STATE) === undefined) {
    await topics.createTopic(TRANSACTION_STATE, {
      partitions: 1,
      replicationFactor: 1,
      configs: { "cleanup.policy": "compact" },
      internal: true,
    });
  }
  const partition = topics.partition(TRANSACTION_STATE, 0);
  if (partition === undefined) throw new Error(`${TRANSACTION_STATE}-0 is missing`);
  const offsetsPartition: TopicPartition = { topic: CONSUMER_OFFSETS, partition: 0 };
  const coordinator = new TxnCoordinator({
    store: new LogTxnStore(partition.log),
    markers: logMarkerWriter(topics, groups, Date.now),
    allocateProducerId: () => meta.allocateProducerId(),
    offsetsPartitionFor: () => offsetsPartition,
    config: {
      maxTimeoutMs: config.int("transaction.max.timeout.ms"),
      abortTimedOutIntervalMs: config.int("transaction.abort.timed.out.transaction.cleanup.interval.ms"),
      idExpirationMs: config.int("transactional.id.expiration.ms"),
      removeExpiredIntervalMs: config.int("transaction.remove.expired.transaction.cleanup.interval.ms"),
    },
    logger: log.child({ component: "txn" }),
  });
  await coordinator.start();
  return coordinator;
}
