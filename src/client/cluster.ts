// The client's cluster: bootstrap, one lazily opened connection per broker, the metadata
// cache and its refresh, routing to partition leaders and group coordinators, and the retry
// policy every request above it shares. Producer, consumer, admin and group member use it.
import type { SocketFactory } from "../net/connection.ts";
import type { FramePool } from "../net/frame-pool.ts";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { ApiKey } from "../protocol/generated/index.ts";
import {
  BrokerConnection,
  type Authenticator,
  type BrokerAddress,
  type ConnectionSettings,
} from "./broker-connection.ts";
import { BrokerError, ClientClosedError, PartitionError, isStaleMetadata } from "./errors.ts";
import {
  emptyMetadata,
  mergeMetadata,
  type ClusterMetadata,
  type PartitionMetadata,
  type TopicMetadata,
} from "./metadata.ts";
import { DEFAULT_RETRY, withRetries, type RetryOptions } from "./retry.ts";

export interface ClusterOptions extends Partial<RetryOptions> {
  /** Kafka's bootstrap.servers: "host:port,host:port" or a list of "host:port". */
  bootstrap: string | readonly string[];
  clientId?: string;
  maxInFlight?: number;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Opens sockets; TLS plugs in here (a tls.connect wrapper). Default plain TCP. */
  connect?: SocketFactory;
  /** Runs on each new connection after ApiVersions; SASL plugs in here. */
  authenticate?: Authenticator;
  /** Kafka's allow.auto.create.topics for metadata requests (default false). */
  allowAutoTopicCreation?: boolean;
  /** Kafka's metadata.max.age.ms: cached metadata older than this is refreshed on use. */
  metadataMaxAgeMs?: number;
  /**
   * Reads large responses into this pool's buffers. Whoever consumes a response (fetchRaw's
   * records) may then give its buffer back once nothing refers to it.
   */
  framePool?: FramePool;
}

/** FindCoordinator key types. */
export const CoordinatorType = { GROUP: 0, TRANSACTION: 1 } as const;

/** A connected view of one Kafka cluster. */
export class Cluster {
  readonly retry: RetryOptions;
  readonly #settings: ConnectionSettings;
  readonly #bootstrap: BrokerConnection[];
  readonly #brokers = new Map<number, BrokerConnection>();
  readonly #coordinators = new Map<string, number>();
  readonly #dedicated = new Set<BrokerConnection>();
  readonly #allowAutoTopicCreation: boolean;
  readonly #metadataMaxAgeMs: number;
  #metadata: ClusterMetadata = emptyMetadata();
  #metadataAt = 0;
  #stale = false;
  #refreshing: Promise<ClusterMetadata> | undefined;
  #nextBroker = 0;
  #closed = false;

  constructor(options: ClusterOptions) {
    this.retry = {
      retries: options.retries ?? DEFAULT_RETRY.retries,
      retryBackoffMs: options.retryBackoffMs ?? DEFAULT_RETRY.retryBackoffMs,
      retryBackoffMaxMs: options.retryBackoffMaxMs ?? DEFAULT_RETRY.retryBackoffMaxMs,
      unknownTopicRetries: options.unknownTopicRetries ?? DEFAULT_RETRY.unknownTopicRetries,
    };
    this.#settings = {
      clientId: options.clientId ?? "ferry",
      maxInFlight: options.maxInFlight ?? 5,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      ...(options.connect === undefined ? {} : { connect: options.connect }),
      ...(options.authenticate === undefined ? {} : { authenticate: options.authenticate }),
      ...(options.framePool === undefined ? {} : { framePool: options.framePool }),
    };
    this.#allowAutoTopicCreation = options.allowAutoTopicCreation ?? false;
    this.#metadataMaxAgeMs = options.metadataMaxAgeMs ?? 300_000;
    this.#bootstrap = parseBootstrap(options.bootstrap).map(
      (address, i) => new BrokerConnection({ ...address, nodeId: -1 - i }, this.#settings),
    );
    if (this.#bootstrap.length === 0) throw new RangeError("bootstrap lists no broker");
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The latest metadata snapshot (possibly empty before the first refresh). */
  get cachedMetadata(): ClusterMetadata {
    return this.#metadata;
  }

  /** Marks the metadata stale: the next routing decision refreshes it first. */
  invalidateMetadata(): void {
    this.#stale = true;
  }

  /**
   * Fetches metadata for `topics` (null: every topic) from any reachable broker and merges it
   * into the cache. Concurrent refreshes of the same kind share one request.
   */
  refreshMetadata(topics: readonly string[] | null = null): Promise<ClusterMetadata> {
    if (this.#closed) return Promise.reject(new ClientClosedError("cluster"));
    const running = this.#refreshing;
    // A running refresh for all topics serves any caller; otherwise chain after it.
    const start = async (): Promise<ClusterMetadata> => {
      if (running !== undefined) await running.catch(() => undefined);
      return this.#fetchMetadata(topics);
    };
    const refresh = topics === null && running !== undefined ? running : start();
    if (topics === null) {
      this.#refreshing = refresh;
      const clear = (): void => {
        if (this.#refreshing === refresh) this.#refreshing = undefined;
      };
      refresh.then(clear, clear);
    }
    return refresh;
  }

  /** Metadata of topics, refreshed when missing, stale or old; throws for topics in error. */
  async topics(names: readonly string[]): Promise<TopicMetadata[]> {
    const missing = (): string[] => names.filter((n) => !this.#metadata.topics.has(n));
    if (this.#stale || this.#tooOld() || missing().length > 0) {
      await this.refreshMetadata(this.#stale || this.#tooOld() ? [...this.#knownTopics(), ...names] : names);
    }
    return names.map((name) => {
      const topic = this.#metadata.topics.get(name);
      if (topic === undefined) throw new PartitionError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, -1);
      if (topic.errorCode !== 0) throw new PartitionError(topic.errorCode, name, -1);
      return topic;
    });
  }

  /** A topic's metadata; see topics(). */
  async topic(name: string): Promise<TopicMetadata> {
    const [topic] = await this.topics([name]);
    if (topic === undefined) throw new PartitionError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, -1);
    return topic;
  }

  /** The partition's metadata; throws PartitionError when it has no usable leader. */
  async partition(topic: string, partition: number): Promise<PartitionMetadata> {
    const t = await this.topic(topic);
    const p = t.partitions[partition];
    if (p === undefined) throw new PartitionError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, topic, partition);
    if (p.errorCode !== 0 && p.errorCode !== ErrorCode.REPLICA_NOT_AVAILABLE) {
      throw new PartitionError(p.errorCode, topic, partition, p.leader);
    }
    if (p.leader < 0) throw new PartitionError(ErrorCode.LEADER_NOT_AVAILABLE, topic, partition);
    return p;
  }

  /** The connection to a partition's leader. */
  async leaderFor(topic: string, partition: number): Promise<BrokerConnection> {
    const p = await this.partition(topic, partition);
    return this.broker(p.leader, { topic, partition });
  }

  /** The connection to a broker by node id (known from metadata). */
  broker(nodeId: number, context: { topic?: string; partition?: number } = {}): BrokerConnection {
    if (this.#closed) throw new ClientClosedError("cluster");
    const address = this.#metadata.brokers.get(nodeId);
    if (address === undefined) {
      this.#stale = true;
      if (context.topic !== undefined) {
        throw new PartitionError(
          ErrorCode.LEADER_NOT_AVAILABLE,
          context.topic,
          context.partition ?? -1,
          nodeId,
          "leader is not in the broker list",
        );
      }
      throw new BrokerError(ErrorCode.BROKER_NOT_AVAILABLE, `broker ${nodeId} is unknown`, {
        broker: nodeId,
      });
    }
    let connection = this.#brokers.get(nodeId);
    if (connection !== undefined && (connection.host !== address.host || connection.port !== address.port)) {
      void connection.close();
      connection = undefined;
    }
    if (connection === undefined) {
      connection = new BrokerConnection(address, this.#settings);
      this.#brokers.set(nodeId, connection);
    }
    return connection;
  }

  /**
   * A connection to a broker outside the shared pool, for requests the broker parks (JoinGroup
   * waits for the whole group): brokers answer one connection's requests in order, so a parked
   * request would hold up everything behind it. The caller closes it; close() closes it too.
   */
  dedicatedConnection(nodeId: number): BrokerConnection {
    const shared = this.broker(nodeId);
    const connection = new BrokerConnection({ nodeId, host: shared.host, port: shared.port }, this.#settings);
    this.#dedicated.add(connection);
    return connection;
  }

  /** Closes a connection from dedicatedConnection(). */
  async closeDedicated(connection: BrokerConnection): Promise<void> {
    this.#dedicated.delete(connection);
    await connection.close();
  }

  /** Some reachable broker for requests any broker serves (rotating over the known ones). */
  async anyBroker(): Promise<BrokerConnection> {
    if (this.#metadata.brokers.size === 0) await this.refreshMetadata([]);
    const ids = [...this.#metadata.brokers.keys()];
    const id = ids[this.#nextBroker++ % ids.length];
    if (id === undefined) throw new BrokerError(ErrorCode.BROKER_NOT_AVAILABLE, "no broker is known");
    return this.broker(id);
  }

  /** The controller (for admin requests Kafka 2.x only serves there); any broker if none. */
  async controller(): Promise<BrokerConnection> {
    if (this.#metadata.brokers.size === 0 || this.#stale) await this.refreshMetadata([]);
    const id = this.#metadata.controllerId;
    return id >= 0 && this.#metadata.brokers.has(id) ? this.broker(id) : this.anyBroker();
  }

  /** The coordinator of a group (or transactional id), found with FindCoordinator and cached. */
  async coordinator(key: string, keyType: number = CoordinatorType.GROUP): Promise<BrokerConnection> {
    const cacheKey = `${keyType}:${key}`;
    const known = this.#coordinators.get(cacheKey);
    if (known !== undefined && this.#metadata.brokers.has(known)) return this.broker(known);
    const via = await this.anyBroker();
    const { version, body } = await via.send(ApiKey.FindCoordinator, (v) =>
      v >= 4 ? { keyType, coordinatorKeys: [key] } : { key, keyType },
    );
    let nodeId = body.nodeId;
    let errorCode = body.errorCode;
    let message = body.errorMessage;
    if (version >= 4) {
      const c = body.coordinators.find((x) => x.key === key) ?? body.coordinators[0];
      if (c === undefined)
        throw new BrokerError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `coordinator of ${key}`);
      ({ nodeId, errorCode, errorMessage: message } = c);
    }
    if (errorCode !== 0) {
      throw new BrokerError(
        errorCode,
        `FindCoordinator for ${key}`,
        { broker: via.nodeId, group: key },
        message,
      );
    }
    this.#coordinators.set(cacheKey, nodeId);
    if (!this.#metadata.brokers.has(nodeId)) await this.refreshMetadata([]);
    return this.broker(nodeId);
  }

  /** Forgets a cached coordinator (after NOT_COORDINATOR or a network error). */
  invalidateCoordinator(key: string, keyType: number = CoordinatorType.GROUP): void {
    this.#coordinators.delete(`${keyType}:${key}`);
  }

  /**
   * Runs `attempt` with the cluster's retry policy; before each retry, errors that say the
   * metadata is stale mark it so, and routing refreshes it.
   */
  withRetries<T>(attempt: (n: number) => Promise<T>): Promise<T> {
    return withRetries(this.retry, attempt, (error) => {
      if (this.#closed) throw new ClientClosedError("cluster");
      if (isStaleMetadata(error.code)) this.#stale = true;
    });
  }

  /** Closes every connection; pending requests reject with ConnectionError or ClientClosedError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const all = [...this.#bootstrap, ...this.#brokers.values(), ...this.#dedicated];
    this.#brokers.clear();
    this.#dedicated.clear();
    await Promise.all(all.map((b) => b.close()));
  }

  #tooOld(): boolean {
    return Date.now() - this.#metadataAt > this.#metadataMaxAgeMs;
  }

  #knownTopics(): string[] {
    return [...this.#metadata.topics.keys()];
  }

  async #fetchMetadata(topics: readonly string[] | null): Promise<ClusterMetadata> {
    const names = topics === null ? null : [...new Set(topics)];
    const candidates = [
      ...[...this.#metadata.brokers.keys()].map((id) => this.broker(id)),
      ...this.#bootstrap,
    ];
    let lastError: KafkaError | undefined;
    for (let i = 0; i < candidates.length; i++) {
      const broker = candidates[(this.#nextBroker + i) % candidates.length];
      if (broker === undefined) continue;
      try {
        const { body } = await broker.send(ApiKey.Metadata, (v) => ({
          topics: names === null ? (v === 0 ? [] : null) : names.map((name) => ({ name })),
          ...(v >= 4 ? { allowAutoTopicCreation: this.#allowAutoTopicCreation } : {}),
        }));
        this.#nextBroker++;
        this.#metadata = mergeMetadata(this.#metadata, body, names === null);
        this.#metadataAt = Date.now();
        this.#stale = false;
        return this.#metadata;
      } catch (e) {
        if (this.#closed) throw new ClientClosedError("cluster");
        if (!(e instanceof KafkaError) || !e.retriable) throw e;
        lastError = e;
      }
    }
    throw lastError ?? new BrokerError(ErrorCode.BROKER_NOT_AVAILABLE, "no broker answered Metadata");
  }
}

/** Parses "host:port,host:port" (IPv6 as [addr]:port). */
export function parseBootstrap(bootstrap: string | readonly string[]): Omit<BrokerAddress, "nodeId">[] {
  const list = typeof bootstrap === "string" ? bootstrap.split(",") : bootstrap;
  return list
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const colon = s.lastIndexOf(":");
      const port = Number(s.slice(colon + 1));
      if (colon < 1 || !Number.isInteger(port) || port <= 0 || port > 65535) {
        throw new RangeError(`bad broker address "${s}": expected host:port`);
      }
      const host = s.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
      return { host, port };
    });
}
