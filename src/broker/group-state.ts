// Consumer group state kept in the broker's own log: the internal __consumer_offsets topic
// (one partition) holds every group and offset record, as Kafka's does, and is replayed
// when the broker starts. Records are appended as ordinary record batches; a transactional
// offset commit as a transactional batch of its producer, which the transaction coordinator's
// COMMIT or ABORT marker in this partition later settles (Kafka's layout).
import { decodeBatches } from "../protocol/records/batch-codec.ts";
import { encodeBatch } from "../protocol/records/batch-codec.ts";
import { isControl, isTransactional, NO_SEQUENCE } from "../protocol/records/batch-header.ts";
import { ControlRecordType, decodeControlKey } from "../protocol/records/control.ts";
import type { Logger } from "../util/logger.ts";
import type { BrokerConfig } from "./config/broker-config.ts";
import { GroupCoordinator } from "./groups/group-coordinator.ts";
import { groupCoordinatorConfig } from "./groups/group-config.ts";
import type { GroupStore, StoredRecord, StoredTxnMarker } from "./groups/group-store.ts";
import type { PartitionLog } from "./log/partition-log.ts";
import { CONSUMER_OFFSETS, type TopicManager } from "./topic-manager.ts";

const READ_CHUNK = 1 << 20;

/** A GroupStore backed by one partition log. */
export class LogGroupStore implements GroupStore {
  readonly #log: PartitionLog;
  readonly #appended: () => void;
  readonly transactional = true;

  /** `appended` wakes fetches waiting on the partition: clients (links) tail it as Kafka allows. */
  constructor(log: PartitionLog, appended: () => void = () => undefined) {
    this.#log = log;
    this.#appended = appended;
  }

  async append(records: StoredRecord[]): Promise<void> {
    const first = records[0];
    if (first === undefined) return;
    const plain = records.map((r) => ({ key: r.key, value: r.value }));
    const txn = first.txn;
    if (txn === undefined) {
      await this.#log.append(encodeBatch({ records: plain }));
      this.#appended();
      return;
    }
    // Kafka writes these with the producer's id and epoch and no sequence; an older epoch is
    // refused by the log (INVALID_PRODUCER_EPOCH), which fences a zombie's offset commits.
    const batch = encodeBatch({
      records: plain,
      producerId: BigInt(txn.producerId),
      producerEpoch: txn.producerEpoch,
      baseSequence: NO_SEQUENCE,
      transactional: true,
    });
    await this.#log.append(batch, { origin: "coordinator" });
    this.#appended();
  }

  async *load(): AsyncIterable<StoredRecord | StoredTxnMarker> {
    let offset = this.#log.logStartOffset;
    const end = this.#log.highWatermark;
    while (offset < end) {
      const bytes = await this.#log.read(offset, READ_CHUNK, { upTo: end, minOneBatch: true });
      if (bytes.length === 0) break;
      for (const batch of decodeBatches(bytes)) {
        const base = Number(batch.header.baseOffset);
        const attributes = batch.header.attributes;
        const producerId = Number(batch.header.producerId);
        if (isControl(attributes)) {
          const key = batch.records[0]?.key ?? null;
          const type = key === null ? -1 : decodeControlKey(key).type;
          if (base >= offset && (type === ControlRecordType.COMMIT || type === ControlRecordType.ABORT))
            yield { marker: type === ControlRecordType.COMMIT ? "commit" : "abort", producerId };
          offset = base + batch.header.lastOffsetDelta + 1;
          continue;
        }
        const txn = isTransactional(attributes)
          ? { producerId, producerEpoch: batch.header.producerEpoch }
          : undefined;
        for (const r of batch.records) {
          if (base + r.offsetDelta < offset || r.key === null) continue;
          const key = Buffer.from(r.key);
          const value = r.value === null ? null : Buffer.from(r.value);
          yield txn === undefined ? { key, value } : { key, value, txn };
        }
        offset = base + batch.header.lastOffsetDelta + 1;
      }
    }
  }
}

/** Opens the group coordinator over the internal topic, creating the topic when new. */
export async function openGroupCoordinator(
  topics: TopicManager,
  config: BrokerConfig,
  log: Logger,
): Promise<GroupCoordinator> {
  if (topics.topic(CONSUMER_OFFSETS) === undefined) {
    await topics.createTopic(CONSUMER_OFFSETS, {
      partitions: 1,
      replicationFactor: 1,
      // Compacted by the log cleaner; Kafka's smaller segments for this topic let it roll and be cleaned.
      configs: { "cleanup.policy": "compact", "segment.bytes": config.get("offsets.topic.segment.bytes") },
      internal: true,
    });
  }
  const partition = topics.partition(CONSUMER_OFFSETS, 0);
  if (partition === undefined) throw new Error(`${CONSUMER_OFFSETS}-0 is missing`);
  const coordinator = new GroupCoordinator({
    store: new LogGroupStore(partition.log, () => partition.notifyAppend()),
    config: groupCoordinatorConfig((name) => {
      try {
        return config.long(name);
      } catch {
        return undefined;
      }
    }),
    logger: log.child({ component: "groups" }),
    partitionExists: (topic, p) => topics.partition(topic, p) !== undefined,
  });
  await coordinator.start();
  return coordinator;
}
