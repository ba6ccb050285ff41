// Tails the source's __consumer_offsets (every partition, read_committed, so a transactional
// offset commit counts only once its transaction commits) and hands each offset commit of a
// selected group to the CommitRelay, which commits it on the target once its records are
// copied. It starts at the log end and asks for one OffsetFetch round (group-sync.ts) for the
// state before that: the start costs the same however large the topic is. A source that
// refuses the topic (no ACL, not a Kafka-layout broker) leaves the link on polling alone,
// reported in status and retried now and then.
import type { BrokerConnection } from "../client/broker-connection.ts";
import { fetchRaw, IsolationLevel, type FetchedPartition } from "../client/consumer.ts";
import { listOffsets, OffsetSpec } from "../client/offsets.ts";
import {
  CONSUMER_OFFSETS_TOPIC,
  decodeOffsetCommitKey,
  decodeOffsetCommitValue,
} from "../protocol/consumer-offsets.ts";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { decodeBatch } from "../protocol/records/batch-codec.ts";
import { BatchAction, planChunk } from "./batch-plan.ts";
import type { CommitRelay } from "./commit-relay.ts";
import type { LinkContext } from "./link-context.ts";

/** off: no groups selected; starting; tailing; polling-only: the source refused (see reason). */
export type OffsetStreamState = "off" | "starting" | "tailing" | "polling-only";

/** Answers meaning the source will not let the link read the topic (as opposed to a passing failure). */
const REFUSED: ReadonlySet<number> = new Set([
  ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INVALID_TOPIC_EXCEPTION,
  ErrorCode.UNSUPPORTED_VERSION,
]);
/** How long a refused stream waits before trying again (ACLs may be granted meanwhile). */
const REFUSED_RETRY_MS = 30_000;
const IDLE_CHECK_MS = 200;
const PARTITION_MAX_BYTES = 1 << 20;

export class OffsetStream {
  readonly #ctx: LinkContext;
  readonly #relay: CommitRelay;
  readonly #started: () => void;
  /** __consumer_offsets partition → the next offset to read. */
  readonly #positions = new Map<number, number>();
  /** Its own connection per source broker: a long poll on the shared one would queue behind the data path's. */
  readonly #connections = new Map<number, BrokerConnection>();
  state: OffsetStreamState = "off";
  /** Why the link polls only. */
  reason: string | undefined;
  lastError: { message: string; at: number } | undefined;
  /** Records of the stream that did not decode (skipped). */
  undecodable = 0;

  /** `started` runs each time tailing starts: the OffsetFetch round that covers what came before. */
  constructor(ctx: LinkContext, relay: CommitRelay, started: () => void) {
    this.#ctx = ctx;
    this.#relay = relay;
    this.#started = started;
  }

  /** __consumer_offsets partitions tailed. */
  get partitions(): number {
    return this.#positions.size;
  }

  /** Runs until the link stops. */
  async run(): Promise<void> {
    const ctx = this.#ctx;
    while (!ctx.signal.aborted) {
      if (ctx.filter.filters.groups === "") {
        this.state = "off";
        this.reason = undefined;
        this.#positions.clear();
        this.#closeConnections();
        await pause(IDLE_CHECK_MS, ctx.signal);
        continue;
      }
      if (this.state !== "tailing") {
        if (!(await this.#start())) {
          await pause(
            this.state === "polling-only" ? REFUSED_RETRY_MS : ctx.tuning.errorBackoffMs,
            ctx.signal,
          );
        }
        continue;
      }
      await this.#tailOnce();
    }
    this.#closeConnections();
  }

  /** Finds the partitions and their ends; false when the stream cannot start now. */
  async #start(): Promise<boolean> {
    const ctx = this.#ctx;
    if (this.state === "off") this.state = "starting";
    try {
      const meta = await ctx.source.topic(CONSUMER_OFFSETS_TOPIC);
      const partitions = meta.partitions.map((p) => p.partition);
      if (!meta.isInternal) {
        // librdkafka's mock cluster makes up an ordinary, empty topic of that name for any asker.
        this.#refuse(
          `the source's ${CONSUMER_OFFSETS_TOPIC} is not an internal topic: its brokers keep group offsets elsewhere`,
        );
        return false;
      }
      if (partitions.length === 0) {
        this.#refuse(`the source has no ${CONSUMER_OFFSETS_TOPIC} partitions`);
        return false;
      }
      const ends = await listOffsets(
        ctx.source,
        partitions.map((partition) => ({
          topic: CONSUMER_OFFSETS_TOPIC,
          partition,
          timestamp: OffsetSpec.LATEST,
        })),
        IsolationLevel.READ_COMMITTED,
      );
      this.#positions.clear();
      for (const e of ends) this.#positions.set(e.partition, Number(e.offset));
    } catch (e) {
      this.#failed(e);
      return false;
    }
    this.state = "tailing";
    this.reason = undefined;
    this.lastError = undefined;
    ctx.logger.info("tailing the source's consumer offsets", { partitions: this.#positions.size });
    this.#started();
    return true;
  }

  async #tailOnce(): Promise<void> {
    const ctx = this.#ctx;
    let answers: FetchedPartition[];
    try {
      answers = await fetchRaw(
        ctx.source,
        [...this.#positions].map(([partition, offset]) => ({
          topic: CONSUMER_OFFSETS_TOPIC,
          partition,
          offset: BigInt(offset),
        })),
        {
          maxWaitMs: ctx.tuning.fetchMaxWaitMs,
          partitionMaxBytes: PARTITION_MAX_BYTES,
          maxBytes: PARTITION_MAX_BYTES * 8,
          isolationLevel: IsolationLevel.READ_COMMITTED,
          route: (shared) => this.#connection(shared),
        },
      );
    } catch (e) {
      if (ctx.signal.aborted) return;
      this.#failed(e);
      await pause(ctx.tuning.errorBackoffMs, ctx.signal);
      return;
    }
    let outOfRange = false;
    let failed = false;
    for (const a of answers) {
      if (a.error !== undefined) {
        if (a.error.code === ErrorCode.OFFSET_OUT_OF_RANGE) outOfRange = true;
        else {
          this.#failed(a.error);
          if (this.state === "polling-only") return;
          failed = true;
        }
        continue;
      }
      try {
        this.#read(a);
      } catch (e) {
        // A batch the link cannot read (an ancient message format) would stop the stream for good.
        this.#refuse(`${CONSUMER_OFFSETS_TOPIC}[${a.partition}] is unreadable: ${(e as Error).message}`);
        return;
      }
    }
    this.#relay.kick();
    if (failed) await pause(ctx.tuning.errorBackoffMs, ctx.signal);
    if (outOfRange) {
      // The position left the log (records deleted, or the log cut back): start again at the end,
      // with an OffsetFetch round for what was skipped.
      this.state = "starting";
      ctx.logger.warn("consumer offsets position out of range; restarting at the log end");
    }
  }

  #connection(shared: BrokerConnection): BrokerConnection {
    const have = this.#connections.get(shared.nodeId);
    if (have !== undefined && have.host === shared.host && have.port === shared.port) return have;
    if (have !== undefined) void this.#ctx.source.closeDedicated(have).catch(() => undefined);
    const c = this.#ctx.source.dedicatedConnection(shared.nodeId);
    this.#connections.set(shared.nodeId, c);
    return c;
  }

  #closeConnections(): void {
    for (const c of this.#connections.values())
      void this.#ctx.source.closeDedicated(c).catch(() => undefined);
    this.#connections.clear();
  }

  /** Hands the offset commits of selected groups in one partition's answer to the relay. */
  #read(a: FetchedPartition): void {
    const from = this.#positions.get(a.partition) ?? 0;
    if (a.records.length === 0) return;
    const plan = planChunk(a.records, from, {
      translate: true,
      abortedTransactions: a.abortedTransactions,
    });
    for (const b of plan.batches) {
      if (b.action !== BatchAction.COPY && b.action !== BatchAction.REENCODE) continue;
      const batch = decodeBatch(a.records, b.start);
      for (const r of batch.records) {
        if (b.baseOffset + r.offsetDelta < from || r.key === null) continue;
        this.#offer(r.key, r.value);
      }
    }
    this.#positions.set(a.partition, plan.nextOffset);
  }

  #offer(key: Buffer, value: Buffer | null): void {
    const ctx = this.#ctx;
    try {
      const k = decodeOffsetCommitKey(key);
      // Deleted offsets (null) are not deleted on the target: a target offset only moves forward.
      if (k === undefined || value === null || !ctx.filter.matchesGroup(k.groupId)) return;
      const v = decodeOffsetCommitValue(value);
      ctx.metrics.groupCommitsRead++;
      this.#relay.offer(k.groupId, k.topic, k.partition, v);
    } catch (e) {
      this.undecodable++;
      this.lastError = {
        message: `undecodable ${CONSUMER_OFFSETS_TOPIC} record: ${(e as Error).message}`,
        at: Date.now(),
      };
    }
  }

  #failed(e: unknown): void {
    if (e instanceof KafkaError && REFUSED.has(e.code)) {
      this.#refuse(`cannot tail ${CONSUMER_OFFSETS_TOPIC}: ${e.message}`);
      return;
    }
    this.#ctx.metrics.errors++;
    this.lastError = { message: (e as Error).message, at: Date.now() };
  }

  #refuse(reason: string): void {
    if (this.state !== "polling-only" || this.reason !== reason) {
      this.#ctx.logger.warn("group offsets: polling only", { reason });
    }
    this.state = "polling-only";
    this.reason = reason;
    this.#positions.clear();
    this.#closeConnections();
  }
}

/** Waits ms, or less if the signal aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
