// Topics and their partitions: creation (explicit or automatic), deletion, partition
// increases and config changes, each persisted in the metadata store before it is
// acknowledged, and the open partition logs behind them.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import type { BrokerConfig } from "./config/broker-config.ts";
import { PartitionLog } from "./log/partition-log.ts";
import { randomKafkaId, type MetadataStore, type TopicRecord } from "./metadata/metadata-store.ts";
import { collisionKey, invalidTopicName } from "./metadata/topic-names.ts";
import { abortOpenTransactions, isMirrorTopic } from "./mirror-topics.ts";
import { logConfigFor, validateTopicConfigs } from "./topic-configs.ts";
import type { Logger } from "../util/logger.ts";

/** The internal topic that stores consumer group state. */
export const CONSUMER_OFFSETS = "__consumer_offsets";

/** One partition: its log, and the fetches waiting for it to grow. */
export class Partition {
  readonly topic: TopicRecord;
  readonly index: number;
  readonly log: PartitionLog;
  readonly #waiters = new Set<() => void>();
  /** Counts changes other than appends (deletion, promotion, close): a waiting fetch reads again. */
  changes = 0;

  constructor(topic: TopicRecord, index: number, log: PartitionLog) {
    this.topic = topic;
    this.index = index;
    this.log = log;
  }

  /** Calls `wake` once, the next time data is appended; returns a cancel function. */
  onAppend(wake: () => void): () => void {
    this.#waiters.add(wake);
    return () => this.#waiters.delete(wake);
  }

  /** Wakes every waiting fetch after a change that is not an append. */
  notifyChange(): void {
    this.changes++;
    this.notifyAppend();
  }

  /** Wakes every waiting fetch. */
  notifyAppend(): void {
    if (this.#waiters.size === 0) return;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }
}

export interface CreateTopicOptions {
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
  validateOnly?: boolean;
  internal?: boolean;
}

export class TopicManager {
  readonly #meta: MetadataStore;
  readonly #config: BrokerConfig;
  readonly #log: Logger;
  readonly #partitions = new Map<string, Partition[]>();
  /** Creations in progress, so concurrent auto-creates of one topic create it once. */
  readonly #creating = new Map<string, Promise<TopicRecord>>();

  constructor(meta: MetadataStore, config: BrokerConfig, log: Logger) {
    this.#meta = meta;
    this.#config = config;
    this.#log = log;
  }

  /** Opens (and recovers) the logs of every known topic. */
  async load(): Promise<void> {
    for (const topic of this.#meta.topics()) await this.#openPartitions(topic, 0);
  }

  #dir(topic: string, partition: number): string {
    return join(this.#meta.dataDir, `${topic}-${partition}`);
  }

  async #openPartitions(topic: TopicRecord, from: number, to = topic.partitions): Promise<void> {
    const list = this.#partitions.get(topic.name) ?? [];
    const cfg = logConfigFor(topic.configs, this.#config);
    for (let p = from; p < to; p++) {
      const log = await PartitionLog.open(this.#dir(topic.name, p), cfg);
      list[p] = new Partition(topic, p, log);
    }
    this.#partitions.set(topic.name, list);
  }

  topic(name: string): TopicRecord | undefined {
    return this.#meta.topic(name);
  }

  topicById(id: string): TopicRecord | undefined {
    return this.#meta.topicById(id);
  }

  topics(): TopicRecord[] {
    return [...this.#meta.topics()].sort((a, b) => a.name.localeCompare(b.name));
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.#partitions.get(topic)?.[index];
  }

  partitionsOf(topic: string): readonly Partition[] {
    return this.#partitions.get(topic) ?? [];
  }

  /** Creates a topic; throws KafkaErrors with CreateTopics' error codes. */
  async createTopic(name: string, opts: CreateTopicOptions): Promise<TopicRecord> {
    const bad = invalidTopicName(name);
    if (bad !== null) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, bad);
    if (name === CONSUMER_OFFSETS && opts.internal !== true) {
      throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `${name} is reserved for the broker`);
    }
    if (this.#meta.topic(name) !== undefined || this.#creating.has(name)) {
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic '${name}' already exists`);
    }
    for (const t of this.#meta.topics()) {
      if (collisionKey(t.name) === collisionKey(name)) {
        throw new KafkaError(
          ErrorCode.INVALID_TOPIC_EXCEPTION,
          `topic '${name}' collides with existing topic '${t.name}'`,
        );
      }
    }
    if (!Number.isInteger(opts.partitions) || opts.partitions < 1) {
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `number of partitions must be at least 1, got ${opts.partitions}`,
      );
    }
    if (opts.replicationFactor !== 1) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `replication factor ${opts.replicationFactor} is larger than the 1 broker of this single-node cluster`,
      );
    }
    validateTopicConfigs(opts.configs);
    const topic: TopicRecord = {
      name,
      id: randomKafkaId(),
      partitions: opts.partitions,
      configs: { ...opts.configs },
      internal: opts.internal === true,
    };
    if (opts.validateOnly === true) return topic;
    const work = (async () => {
      await this.#openPartitions(topic, 0);
      await this.#meta.addTopic(topic);
      this.#log.info("topic created", { topic: name, partitions: topic.partitions, id: topic.id });
      return topic;
    })();
    this.#creating.set(name, work);
    try {
      return await work;
    } finally {
      this.#creating.delete(name);
    }
  }

  /** The topic, created with broker defaults if auto-creation is on; undefined otherwise. */
  async autoCreate(name: string): Promise<TopicRecord | undefined> {
    const existing = this.#meta.topic(name) ?? (await this.#creating.get(name));
    if (existing !== undefined) return existing;
    if (!this.#config.bool("auto.create.topics.enable") || invalidTopicName(name) !== null) return undefined;
    try {
      return await this.createTopic(name, {
        partitions: this.#config.int("num.partitions"),
        replicationFactor: 1,
        configs: {},
      });
    } catch (e) {
      if (e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS) return this.#meta.topic(name);
      throw e;
    }
  }

  async deleteTopic(name: string): Promise<void> {
    const topic = this.#meta.topic(name);
    if (topic === undefined)
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic '${name}'`);
    if (!this.#config.bool("delete.topic.enable")) {
      throw new KafkaError(
        ErrorCode.TOPIC_DELETION_DISABLED,
        "topic deletion is disabled (delete.topic.enable=false)",
      );
    }
    if (topic.internal)
      throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `${name} is an internal topic`);
    // Forget the topic durably first: a crash after this point leaves only orphan files.
    await this.#meta.removeTopic(name);
    const parts = this.#partitions.get(name) ?? [];
    this.#partitions.delete(name);
    for (const p of parts) {
      p.notifyChange();
      await p.log.delete();
    }
    this.#log.info("topic deleted", { topic: name });
  }

  async createPartitions(name: string, count: number, validateOnly: boolean): Promise<void> {
    const topic = this.#meta.topic(name);
    if (topic === undefined)
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic '${name}'`);
    if (count < topic.partitions) {
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `topic has ${topic.partitions} partitions; cannot reduce to ${count}`,
      );
    }
    if (count === topic.partitions) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `topic already has ${topic.partitions} partitions`);
    }
    if (validateOnly) return;
    await this.#openPartitions(topic, topic.partitions, count);
    await this.#meta.updateTopic(name, { partitions: count });
    this.#log.info("partitions added", { topic: name, partitions: count });
  }

  /**
   * Replaces a topic's config overrides (already validated) and applies them to its logs.
   * Dropping ferry.mirror.source promotes a mirror topic (see mirror-topics.ts).
   */
  async setConfigs(name: string, configs: Record<string, string>): Promise<void> {
    validateTopicConfigs(configs);
    const before = this.#meta.topic(name);
    if (before?.internal === true && isMirrorTopic({ configs })) {
      throw new KafkaError(ErrorCode.INVALID_CONFIG, `internal topic '${name}' cannot be a mirror`);
    }
    const promoted = before !== undefined && isMirrorTopic(before) && !isMirrorTopic({ configs });
    await this.#meta.updateTopic(name, { configs });
    const cfg = logConfigFor(configs, this.#config);
    for (const p of this.partitionsOf(name)) p.log.setConfig(cfg);
    if (promoted) await this.#promote(name);
  }

  /** A mirror topic became writable: transactions its source left open are aborted. */
  async #promote(name: string): Promise<void> {
    for (const p of this.partitionsOf(name)) {
      const aborted = await abortOpenTransactions(p.log, Date.now());
      if (aborted.length === 0) continue;
      p.notifyChange();
      this.#log.info("promoted mirror: open transactions aborted", {
        topic: name,
        partition: p.index,
        producers: aborted.map((t) => t.producerId).join(","),
      });
    }
    this.#log.info("mirror topic promoted", { topic: name });
  }

  /** Applies retention to every partition; returns segments deleted. */
  async applyRetention(): Promise<number> {
    let deleted = 0;
    for (const parts of this.#partitions.values())
      for (const p of parts) deleted += await p.log.applyRetention();
    return deleted;
  }

  async close(): Promise<void> {
    for (const parts of this.#partitions.values()) {
      for (const p of parts) {
        p.notifyChange();
        await p.log.close();
      }
    }
    this.#partitions.clear();
  }

  /** Removes partition directories of topics that no longer exist (a crash mid-deletion). */
  async removeOrphans(dirs: string[]): Promise<void> {
    for (const d of dirs) {
      const m = /^(.+)-(\d+)$/.exec(d);
      if (m === null || m[1] === undefined) continue;
      const topic = this.#meta.topic(m[1]);
      if (topic === undefined || Number(m[2]) >= topic.partitions) {
        await rm(join(this.#meta.dataDir, d), { recursive: true, force: true });
        this.#log.warn("removed files of a deleted topic", { dir: d });
      }
    }
  }
}
