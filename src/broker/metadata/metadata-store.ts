// The broker's own metadata, persisted in the data directory: cluster identity, the
// topics with their ids, partition counts and config overrides, and the producer-id
// blocks handed out so far. Every change is written durably before it is acknowledged.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile, writeJsonFile } from "./json-file.ts";

export interface TopicRecord {
  name: string;
  /** Kafka topic id (URL-safe base64 of 16 bytes). */
  id: string;
  partitions: number;
  /** Topic-level config overrides (Kafka names). */
  configs: Record<string, string>;
  internal: boolean;
}

interface MetaFile {
  version: 1;
  clusterId: string;
  nodeId: number;
  /** Producer ids below this were handed out (persisted in blocks). */
  producerIdBlockEnd: number;
}

interface TopicsFile {
  version: 1;
  topics: TopicRecord[];
}

/** The data directory belongs to another cluster or node. */
export class MetadataMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MetadataMismatchError";
  }
}

const PRODUCER_ID_BLOCK = 1000;

/** A random Kafka-style id: 16 random bytes, URL-safe base64, never all zero. */
export function randomKafkaId(): string {
  const b = randomBytes(16);
  b[0] = (b[0] as number) & 0x7f; // like Kafka's Uuid.randomUuid, avoid a leading '-'
  return b.toString("base64url");
}

export class MetadataStore {
  readonly dataDir: string;
  readonly clusterId: string;
  readonly nodeId: number;
  readonly #topics = new Map<string, TopicRecord>();
  #producerIdBlockEnd: number;
  #nextProducerId: number;
  #writes: Promise<void> = Promise.resolve();
  /** The save of the newest producer-id block; ids from it are handed out once it is durable. */
  #blockSaved: Promise<void> = Promise.resolve();

  private constructor(dataDir: string, meta: MetaFile, topics: TopicRecord[]) {
    this.dataDir = dataDir;
    this.clusterId = meta.clusterId;
    this.nodeId = meta.nodeId;
    this.#producerIdBlockEnd = meta.producerIdBlockEnd;
    // Ids of a block that was only partly used before a restart are never reused.
    this.#nextProducerId = meta.producerIdBlockEnd;
    for (const t of topics) this.#topics.set(t.name, t);
  }

  /** Opens or initialises the metadata of a data directory. */
  static async open(dataDir: string, opts: { clusterId?: string; nodeId: number }): Promise<MetadataStore> {
    await mkdir(dataDir, { recursive: true });
    const metaPath = join(dataDir, "meta.json");
    let meta = (await readJsonFile(metaPath)) as MetaFile | undefined;
    if (meta === undefined) {
      meta = {
        version: 1,
        clusterId: opts.clusterId ?? randomKafkaId(),
        nodeId: opts.nodeId,
        producerIdBlockEnd: 0,
      };
      await writeJsonFile(metaPath, meta);
    } else {
      if (opts.clusterId !== undefined && opts.clusterId !== meta.clusterId) {
        throw new MetadataMismatchError(
          `${dataDir} belongs to cluster ${meta.clusterId}, not ${opts.clusterId}; use another --data-dir or omit --cluster-id`,
        );
      }
      if (opts.nodeId !== meta.nodeId) {
        throw new MetadataMismatchError(`${dataDir} belongs to node ${meta.nodeId}, not ${opts.nodeId}`);
      }
    }
    const topics =
      ((await readJsonFile(join(dataDir, "topics.json"))) as TopicsFile | undefined)?.topics ?? [];
    return new MetadataStore(dataDir, meta, topics);
  }

  topic(name: string): TopicRecord | undefined {
    return this.#topics.get(name);
  }

  topicById(id: string): TopicRecord | undefined {
    for (const t of this.#topics.values()) if (t.id === id) return t;
    return undefined;
  }

  topics(): IterableIterator<TopicRecord> {
    return this.#topics.values();
  }

  /** Adds a topic and persists the change. */
  async addTopic(topic: TopicRecord): Promise<void> {
    this.#topics.set(topic.name, topic);
    await this.#saveTopics();
  }

  async removeTopic(name: string): Promise<void> {
    this.#topics.delete(name);
    await this.#saveTopics();
  }

  async updateTopic(
    name: string,
    change: Partial<Pick<TopicRecord, "partitions" | "configs">>,
  ): Promise<void> {
    const t = this.#topics.get(name);
    if (t === undefined) return;
    // In place: partitions and handlers hold this record, so they all see the change.
    Object.assign(t, change);
    await this.#saveTopics();
  }

  /** A new producer id, never handed out before by this data directory. */
  async allocateProducerId(): Promise<number> {
    if (this.#nextProducerId >= this.#producerIdBlockEnd) {
      this.#producerIdBlockEnd = this.#nextProducerId + PRODUCER_ID_BLOCK;
      this.#blockSaved = this.#saveMeta();
    }
    const id = this.#nextProducerId++;
    await this.#blockSaved;
    return id;
  }

  #saveTopics(): Promise<void> {
    const snapshot: TopicsFile = { version: 1, topics: [...this.#topics.values()] };
    return this.#enqueue(() => writeJsonFile(join(this.dataDir, "topics.json"), snapshot));
  }

  #saveMeta(): Promise<void> {
    const meta: MetaFile = {
      version: 1,
      clusterId: this.clusterId,
      nodeId: this.nodeId,
      producerIdBlockEnd: this.#producerIdBlockEnd,
    };
    return this.#enqueue(() => writeJsonFile(join(this.dataDir, "meta.json"), meta));
  }

  /** Writes happen one at a time, in order, so an older snapshot never lands last. */
  #enqueue(write: () => Promise<void>): Promise<void> {
    const next = this.#writes.then(write);
    this.#writes = next.catch(() => undefined);
    return next;
  }
}
