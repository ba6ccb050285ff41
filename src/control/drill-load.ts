// The drills' applications: a producer of sequence-numbered records (acks=all, one request in
// flight, so every acknowledgement is exact and a failed request is sent again after the
// switch), and consumers in a group that record every sequence number they process and commit
// after each fetch. Both can be moved from one cluster to another.
import { Cluster, type ClusterOptions } from "../client/cluster.ts";
import { fetchRaw } from "../client/consumer.ts";
import { fetchCommittedOffsets } from "../client/group-offsets.ts";
import { GroupMember } from "../client/group-member.ts";
import { listOffsets, OffsetSpec } from "../client/offsets.ts";
import { Producer } from "../client/producer.ts";
import { decodeBatches } from "../protocol/records/batch-codec.ts";
import { isControl, iterateBatches } from "../protocol/records/batch-header.ts";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A client Cluster for a drill's application: fails fast so a dead broker is noticed at once. */
export function drillCluster(
  bootstrap: string,
  clientId: string,
  client: Partial<ClusterOptions> = {},
): Cluster {
  return new Cluster({
    ...client,
    bootstrap,
    clientId,
    retries: 2,
    retryBackoffMs: 50,
    retryBackoffMaxMs: 200,
    connectTimeoutMs: 1_000,
    requestTimeoutMs: 5_000,
  });
}

export interface Ack {
  partition: number;
  offset: number;
  cluster: string;
  at: number;
}

/** Sequence-numbered load: record i has value "i"; one batch of `perBatch` records per request. */
export class SeqProducer {
  /** The topic on the cluster it writes to now (a prefixed link's DR topic has another name). */
  topic: string;
  readonly partitions: number;
  readonly perBatch: number;
  readonly intervalMs: number;
  readonly acks = new Map<number, Ack>();
  errors = 0;
  /** When the first acknowledgement came from each cluster. */
  readonly firstAckAt = new Map<string, number>();
  #cluster: Cluster;
  #clusterName: string;
  #producer: Producer;
  #next = 0;
  #pending: { seqs: number[]; partition: number } | undefined;
  #paused = false;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #step: Promise<void> = Promise.resolve();

  constructor(
    cluster: Cluster,
    clusterName: string,
    opts: { topic: string; partitions: number; perBatch: number; intervalMs: number },
  ) {
    this.#cluster = cluster;
    this.#clusterName = clusterName;
    this.#producer = new Producer(cluster, { acks: -1, idempotent: true });
    this.topic = opts.topic;
    this.partitions = opts.partitions;
    this.perBatch = opts.perBatch;
    this.intervalMs = opts.intervalMs;
  }

  get sent(): number {
    return this.#next;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#paused) {
        await sleep(5);
        continue;
      }
      this.#step = this.#sendOne();
      await this.#step;
      await sleep(this.intervalMs);
    }
  }

  async #sendOne(): Promise<void> {
    if (this.#pending === undefined) {
      const seqs = Array.from({ length: this.perBatch }, () => this.#next++);
      this.#pending = { seqs, partition: Math.floor((seqs[0] ?? 0) / this.perBatch) % this.partitions };
    }
    const batch = this.#pending;
    const cluster = this.#clusterName;
    try {
      const now = Date.now();
      const [result] = await this.#producer.send(
        this.topic,
        batch.seqs.map((s) => ({ value: Buffer.from(String(s)), timestamp: now })),
        { partition: batch.partition },
      );
      const base = Number(result?.baseOffset ?? -1n);
      const at = Date.now();
      batch.seqs.forEach((s, i) =>
        this.acks.set(s, { partition: batch.partition, offset: base + i, cluster, at }),
      );
      if (!this.firstAckAt.has(cluster)) this.firstAckAt.set(cluster, at);
      this.#pending = undefined;
    } catch {
      this.errors++;
      await sleep(50);
    }
  }

  /** Stops sending after the request in flight; resolves once it is answered or failed. */
  async pause(): Promise<void> {
    this.#paused = true;
    await this.#step;
  }

  resume(): void {
    this.#paused = false;
  }

  /** Moves to another cluster (and topic); a batch that failed is sent again there. */
  async switchTo(cluster: Cluster, name: string, topic = this.topic): Promise<void> {
    await this.pause();
    const old = this.#cluster;
    this.#cluster = cluster;
    this.#clusterName = name;
    this.topic = topic;
    this.#producer = new Producer(cluster, { acks: -1, idempotent: true });
    await old.close().catch(() => undefined);
  }

  /** The highest acknowledged offset + 1 per partition on one cluster. */
  ackedEnds(cluster: string): Map<number, number> {
    const out = new Map<number, number>();
    for (const a of this.acks.values()) {
      if (a.cluster === cluster) out.set(a.partition, Math.max(out.get(a.partition) ?? 0, a.offset + 1));
    }
    return out;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await this.#cluster.close().catch(() => undefined);
  }
}

/** Every sequence number consumed, with how often, across all consumers and clusters. */
export class ConsumedLog {
  readonly counts = new Map<number, number>();
  readonly firstAt = new Map<string, number>();

  add(seq: number, cluster: string): void {
    this.counts.set(seq, (this.counts.get(seq) ?? 0) + 1);
    if (!this.firstAt.has(cluster)) this.firstAt.set(cluster, Date.now());
  }
}

/** One member of the drill's consumer group on one cluster. */
export class DrillConsumer {
  readonly member: GroupMember;
  /** Next offset to process per partition (what this member has processed). */
  readonly positions = new Map<number, number>();
  /** Offsets per partition whose commit the cluster acknowledged (processed records beyond them were never committed). */
  readonly committed = new Map<number, number>();
  readonly #cluster: Cluster;
  readonly #clusterName: string;
  readonly #topic: string;
  readonly #log: ConsumedLog;
  #assignmentKey = "";
  #stopped = false;
  #loop: Promise<void> | undefined;
  errors = 0;

  constructor(
    cluster: Cluster,
    clusterName: string,
    group: string,
    topic: string,
    log: ConsumedLog,
    sessionTimeoutMs = 3_000,
  ) {
    this.#cluster = cluster;
    this.#clusterName = clusterName;
    this.#topic = topic;
    this.#log = log;
    this.member = new GroupMember(cluster, {
      groupId: group,
      topics: [topic],
      sessionTimeoutMs,
      rebalanceTimeoutMs: 3_000,
      heartbeatIntervalMs: 100,
      onError: () => void this.errors++,
    });
  }

  get assigned(): readonly number[] {
    return this.member.assignment.get(this.#topic) ?? [];
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#poll();
      } catch {
        this.errors++;
        this.#assignmentKey = "";
        await sleep(50);
      }
    }
  }

  async #poll(): Promise<void> {
    const assigned = this.assigned;
    const key = `${this.member.generationId}:${assigned.join(",")}`;
    if (key !== this.#assignmentKey) {
      this.positions.clear();
      this.committed.clear();
      if (assigned.length > 0) await this.#loadPositions(assigned);
      this.#assignmentKey = key;
    }
    if (assigned.length === 0) {
      await sleep(20);
      return;
    }
    const answers = await fetchRaw(
      this.#cluster,
      assigned.map((p) => ({ topic: this.#topic, partition: p, offset: BigInt(this.positions.get(p) ?? 0) })),
      { maxWaitMs: 100 },
    );
    const commits = [];
    for (const a of answers) {
      if (a.error !== undefined) throw a.error;
      let end = 0;
      for (const span of iterateBatches(a.records)) if (!span.truncated) end = span.end;
      const from = this.positions.get(a.partition) ?? 0;
      let next = from;
      for (const batch of decodeBatches(a.records.subarray(0, end))) {
        const base = Number(batch.header.baseOffset);
        next = Math.max(next, base + batch.header.lastOffsetDelta + 1);
        if (isControl(batch.header.attributes)) continue;
        for (const r of batch.records) {
          if (base + r.offsetDelta < from || r.value === null) continue;
          this.#log.add(Number(r.value.toString()), this.#clusterName);
        }
      }
      if (next > from) {
        this.positions.set(a.partition, next);
        commits.push({ topic: this.#topic, partition: a.partition, offset: BigInt(next) });
      }
    }
    if (commits.length > 0) {
      await this.member.commit(commits);
      for (const c of commits) this.committed.set(c.partition, Number(c.offset));
    }
  }

  async #loadPositions(assigned: readonly number[]): Promise<void> {
    const committed = await fetchCommittedOffsets(
      this.#cluster,
      this.member.groupId,
      assigned.map((partition) => ({ topic: this.#topic, partition })),
    );
    const starts = await listOffsets(
      this.#cluster,
      assigned.map((partition) => ({ topic: this.#topic, partition, timestamp: OffsetSpec.EARLIEST })),
    );
    for (const p of assigned) {
      const c = committed.find((x) => x.partition === p)?.offset ?? -1n;
      const s = starts.find((x) => x.partition === p)?.offset ?? 0n;
      this.positions.set(p, Number(c >= 0n ? c : s));
      if (c >= 0n) this.committed.set(p, Number(c));
    }
  }

  /** Stops after the poll under way (its records are processed and committed, or the commit failed). */
  async halt(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  /** Leaves the group (bounded: a dead coordinator does not hold it up) and closes the client. */
  async close(): Promise<void> {
    await this.halt();
    await Promise.race([this.member.close().catch(() => undefined), sleep(1_000)]);
    await this.#cluster.close().catch(() => undefined);
  }
}

/** How the drill's applications reach a cluster: its servers, client settings, and the session timeout its brokers accept. */
export interface DrillEndpoint {
  bootstrap: string;
  client?: Partial<ClusterOptions>;
  /** Default 3000 (the drill's own brokers allow it; Kafka's group.min.session.timeout.ms is 6000). */
  sessionTimeoutMs?: number;
}

/** Starts `n` members on one cluster and waits until they share one generation covering every partition. */
export async function startConsumers(
  at: string | DrillEndpoint,
  clusterName: string,
  n: number,
  group: string,
  topic: string,
  partitions: number,
  log: ConsumedLog,
): Promise<DrillConsumer[]> {
  const e = typeof at === "string" ? { bootstrap: at } : at;
  const consumers = Array.from(
    { length: n },
    (_, i) =>
      new DrillConsumer(
        drillCluster(e.bootstrap, `drill-consumer-${i}`, e.client),
        clusterName,
        group,
        topic,
        log,
        e.sessionTimeoutMs,
      ),
  );
  await Promise.all(consumers.map((c) => c.member.join()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const gens = new Set(consumers.map((c) => c.member.generationId));
    const covered = consumers.reduce((k, c) => k + c.assigned.length, 0);
    if (gens.size === 1 && covered === partitions) break;
    if (Date.now() > deadline) throw new Error("the drill's consumer group did not settle");
    await sleep(20);
  }
  for (const c of consumers) c.start();
  return consumers;
}
