// Consumer group state kept in the broker's own log: the internal __consumer_offsets topic
// (one partition) holds every group and offset record, as Kafka's does, and is replayed
// when the broker starts. Records are appended as ordinary record batches.
import { decodeBatches } from "../protocol/records/batch-codec.ts";
import { encodeBatch } from "../protocol/records/batch-codec.ts";
import type { Logger } from "../util/logger.ts";
import type { BrokerConfig } from "./config/broker-config.ts";
import { GroupCoordinator } from "./groups/group-coordinator.ts";
import { groupCoordinatorConfig } from "./groups/group-config.ts";
import type { GroupStore, StoredRecord } from "./groups/group-store.ts";
import type { PartitionLog } from "./log/partition-log.ts";
import { CONSUMER_OFFSETS, type TopicManager } from "./topic-manager.ts";

const READ_CHUNK = 1 << 20;

/** A GroupStore backed by one partition log. */
export class LogGroupStore implements GroupStore {
  readonly #log: PartitionLog;

  constructor(log: PartitionLog) {
    this.#log = log;
  }

  async append(records: StoredRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.#log.append(encodeBatch({ records: records.map((r) => ({ key: r.key, value: r.value })) }));
  }

  async *load(): AsyncIterable<StoredRecord> {
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
      configs: { "cleanup.policy": "compact" },
      internal: true,
    });
  }
  const partition = topics.partition(CONSUMER_OFFSETS, 0);
  if (partition === undefined) throw new Error(`${CONSUMER_OFFSETS}-0 is missing`);
  const coordinator = new GroupCoordinator({
    store: new LogGroupStore(partition.log),
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
