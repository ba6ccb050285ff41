// The transaction coordinator of a single-node broker (Kafka's TransactionCoordinator and
// TransactionStateManager): one TxnMetadata per transactional id, every state change written
// to the TxnStore (__transaction_state) before it takes effect or is answered, markers written
// to the transaction's partitions through a TxnMarkerWriter, timed-out transactions aborted
// with an epoch bump, idle transactional ids expired. Methods answer Kafka error codes; the
// API handlers map them to what each request version may carry.
//
// Node's single thread serialises everything; a transition being written sets `pending`, and
// requests for that id meanwhile get CONCURRENT_TRANSACTIONS (clients retry), as in Kafka.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { DecodeError } from "../../protocol/errors.ts";
import { silentLogger, type Logger } from "../../util/logger.ts";
import {
  MAX_USABLE_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  TXN_STATES,
  TxnMetadata,
  canTransition,
  unionPartitions,
  type TopicPartition,
  type TxnRecordValue,
  type TxnState,
} from "./txn-metadata.ts";
import { decodeTxnRecord, encodeTxnRecord, type TxnStore } from "./txn-records.ts";

/** Writes transaction markers; the broker's implementation appends control batches to the partitions. */
export interface TxnMarkerWriter {
  /**
   * Writes a COMMIT or ABORT marker for the producer to every partition (partitions that no
   * longer exist are skipped) and resolves once all are written; rejects if one failed.
   */
  writeMarkers(m: {
    producerId: number;
    producerEpoch: number;
    commit: boolean;
    partitions: readonly TopicPartition[];
  }): Promise<void>;
}

export interface TxnCoordinatorConfig {
  /** transaction.max.timeout.ms: the longest transaction.timeout.ms a producer may ask for. */
  maxTimeoutMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms. */
  abortTimedOutIntervalMs: number;
  /** transactional.id.expiration.ms: idle ids without an open transaction are forgotten after this. */
  idExpirationMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms. */
  removeExpiredIntervalMs: number;
  /** Wait before writing markers again after a failed attempt. */
  markerRetryBackoffMs: number;
}

export const DEFAULT_TXN_COORDINATOR_CONFIG: TxnCoordinatorConfig = {
  maxTimeoutMs: 900_000,
  abortTimedOutIntervalMs: 10_000,
  idExpirationMs: 604_800_000,
  removeExpiredIntervalMs: 3_600_000,
  markerRetryBackoffMs: 1_000,
};

export interface TxnCoordinatorOptions {
  store: TxnStore;
  markers: TxnMarkerWriter;
  /** A producer id never handed out before. */
  allocateProducerId: () => Promise<number>;
  /** The offsets partition that holds a group's transactional offset commits. */
  offsetsPartitionFor: (groupId: string) => TopicPartition;
  config?: Partial<TxnCoordinatorConfig>;
  now?: () => number;
  logger?: Logger;
  /** Run the periodic timeout and expiration checks (default true; tests call them directly). */
  timers?: boolean;
}

export interface ProducerIdAndEpoch {
  producerId: number;
  producerEpoch: number;
}

export interface InitProducerIdResult extends ProducerIdAndEpoch {
  errorCode: number;
}

/** What DescribeTransactions reports for one id. */
export interface TxnDescription {
  errorCode: number;
  transactionalId: string;
  state: TxnState | "";
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  startTimestamp: number;
  partitions: TopicPartition[];
}

type Phase = "new" | "loading" | "active" | "closed";

export class TxnCoordinator {
  readonly config: TxnCoordinatorConfig;
  readonly #store: TxnStore;
  readonly #markers: TxnMarkerWriter;
  readonly #allocate: () => Promise<number>;
  readonly #offsetsPartitionFor: (groupId: string) => TopicPartition;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #useTimers: boolean;
  readonly #txns = new Map<string, TxnMetadata>();
  /** Completions (markers, then Complete*) under way, by transaction. */
  readonly #completing = new Map<TxnMetadata, Promise<boolean>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #phase: Phase = "new";

  constructor(opts: TxnCoordinatorOptions) {
    this.config = { ...DEFAULT_TXN_COORDINATOR_CONFIG, ...opts.config };
    this.#store = opts.store;
    this.#markers = opts.markers;
    this.#allocate = opts.allocateProducerId;
    this.#offsetsPartitionFor = opts.offsetsPartitionFor;
    this.#now = opts.now ?? Date.now;
    this.#log = opts.logger ?? silentLogger;
    this.#useTimers = opts.timers ?? true;
  }

  /**
   * Loads every transactional id from the store. Transactions found in PrepareCommit or
   * PrepareAbort (the broker stopped between the decision and its markers) are completed in
   * the background; Ongoing ones keep their start time and are aborted when they time out.
   */
  async start(): Promise<void> {
    if (this.#phase !== "new") throw new Error(`transaction coordinator cannot start: it is ${this.#phase}`);
    this.#phase = "loading";
    let n = 0;
    for await (const stored of this.#store.load()) {
      let rec: ReturnType<typeof decodeTxnRecord>;
      try {
        rec = decodeTxnRecord(stored);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new DecodeError(`transaction log record ${n} (key ${stored.key.toString("hex")}): ${why}`);
      }
      if (rec.value === null) this.#txns.delete(rec.transactionalId);
      else {
        const existing = this.#txns.get(rec.transactionalId);
        if (existing === undefined)
          this.#txns.set(rec.transactionalId, new TxnMetadata(rec.transactionalId, rec.value));
        else existing.apply(rec.value);
      }
      n++;
    }
    this.#phase = "active";
    let resumed = 0;
    for (const md of this.#txns.values()) {
      if (md.state === "PrepareCommit" || md.state === "PrepareAbort") {
        resumed++;
        void this.#complete(md);
      }
    }
    if (this.#useTimers) {
      this.#every(this.config.abortTimedOutIntervalMs, () => this.abortTimedOut());
      this.#every(this.config.removeExpiredIntervalMs, () => this.expireTransactionalIds());
    }
    this.#log.info("transaction coordinator loaded", {
      records: n,
      transactionalIds: this.#txns.size,
      completing: resumed,
    });
  }

  /** Stops the timers and waits for completions under way. */
  async close(): Promise<void> {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#completing.values()]);
  }

  #every(ms: number, task: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      task().catch((e: unknown) => this.#log.error("transaction housekeeping failed", { error: String(e) }));
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }

  #unavailable(): number | null {
    if (this.#phase === "active") return null;
    return this.#phase === "loading"
      ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
      : ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }

  /** The live state of an id (tests, DescribeProducers). */
  transaction(transactionalId: string): TxnMetadata | undefined {
    return this.#txns.get(transactionalId);
  }

  /**
   * InitProducerId with a transactional id: a new id gets a producer id at epoch 0; a known
   * one gets its epoch bumped (a new producer id once epochs run out), fencing older
   * instances. An open transaction is aborted first (with its own epoch bump). `expected`
   * (v3+, KIP-360) is the producer id and epoch a live producer presents to resume.
   */
  async initProducerId(
    transactionalId: string,
    timeoutMs: number,
    expected: ProducerIdAndEpoch | null,
    fenced = false,
  ): Promise<InitProducerIdResult> {
    const fail = (errorCode: number): InitProducerIdResult => ({
      errorCode,
      producerId: NO_PRODUCER_ID,
      producerEpoch: NO_PRODUCER_EPOCH,
    });
    const unavailable = this.#unavailable();
    if (unavailable !== null) return fail(unavailable);
    if (transactionalId === "") return fail(ErrorCode.INVALID_REQUEST);
    if (!(timeoutMs > 0 && timeoutMs <= this.config.maxTimeoutMs))
      return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);

    let md = this.#txns.get(transactionalId);
    if (md === undefined) {
      const producerId = await this.#allocate();
      md = this.#txns.get(transactionalId);
      if (md === undefined) {
        md = new TxnMetadata(transactionalId, {
          producerId,
          producerEpoch: NO_PRODUCER_EPOCH,
          lastProducerId: NO_PRODUCER_ID,
          lastProducerEpoch: NO_PRODUCER_EPOCH,
          timeoutMs,
          state: "Empty",
          partitions: [],
          lastUpdateTimestamp: this.#now(),
          startTimestamp: -1,
        });
        this.#txns.set(transactionalId, md);
      }
    }
    if (md.pending !== null) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
    if (expected !== null && !this.#isValidProducerId(md, expected)) return fail(ErrorCode.PRODUCER_FENCED);

    switch (md.state) {
      case "PrepareCommit":
      case "PrepareAbort":
      case "Dead":
      case "PrepareEpochFence":
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      case "Ongoing": {
        // Fence the instance that owns the open transaction: abort it with a bumped epoch,
        // then bump again for the caller (Kafka answers CONCURRENT_TRANSACTIONS and the
        // client retries; doing the retry here gives the same result sooner).
        if (fenced) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
        const aborted = await this.#abortBySelf(
          md,
          "a new producer instance initialised the transactional id",
        );
        if (!aborted) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
        return this.initProducerId(transactionalId, timeoutMs, expected, true);
      }
      case "Empty":
      case "CompleteCommit":
      case "CompleteAbort":
        break;
    }

    const now = this.#now();
    let next: TxnRecordValue;
    if (
      md.producerEpoch >= MAX_USABLE_EPOCH &&
      (expected === null || expected.producerEpoch === md.producerEpoch)
    ) {
      md.pending = "Empty";
      let producerId: number;
      try {
        producerId = await this.#allocate();
      } finally {
        md.pending = null;
      }
      next = {
        ...md.snapshot(),
        producerId,
        producerEpoch: 0,
        lastProducerId: md.producerId,
        lastProducerEpoch: expected !== null ? md.producerEpoch : NO_PRODUCER_EPOCH,
      };
    } else {
      const bumped = md.producerEpoch + 1;
      if (expected === null) {
        next = { ...md.snapshot(), producerEpoch: bumped, lastProducerEpoch: NO_PRODUCER_EPOCH };
      } else if (md.producerEpoch === NO_PRODUCER_EPOCH || expected.producerEpoch === md.producerEpoch) {
        next = { ...md.snapshot(), producerEpoch: bumped, lastProducerEpoch: md.producerEpoch };
      } else if (expected.producerEpoch === md.lastProducerEpoch) {
        // A retry of a bump whose answer was lost: the same answer again.
        next = md.snapshot();
      } else {
        return fail(ErrorCode.PRODUCER_FENCED);
      }
    }
    next = {
      ...next,
      timeoutMs,
      state: "Empty",
      partitions: [],
      lastUpdateTimestamp: now,
      startTimestamp: -1,
    };
    const error = await this.#write(md, next, "Empty");
    if (error !== ErrorCode.NONE) return fail(error);
    this.#log.info("initialised transactional id", {
      transactionalId,
      producerId: md.producerId,
      producerEpoch: md.producerEpoch,
    });
    return { errorCode: ErrorCode.NONE, producerId: md.producerId, producerEpoch: md.producerEpoch };
  }

  /** Kafka's isValidProducerId: whether a producer presenting `expected` may (re)initialise. */
  #isValidProducerId(md: TxnMetadata, expected: ProducerIdAndEpoch): boolean {
    return (
      md.producerEpoch === NO_PRODUCER_EPOCH ||
      expected.producerId === md.producerId ||
      (expected.producerId === md.lastProducerId && expected.producerEpoch >= MAX_USABLE_EPOCH)
    );
  }

  /** The error for a client request on md with this producer id and epoch, or null when they are current. */
  #checkProducer(md: TxnMetadata | undefined, producerId: number, producerEpoch: number): number | null {
    if (md === undefined || md.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (md.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    return null;
  }

  /**
   * AddPartitionsToTxn (and AddOffsetsToTxn through it): adds partitions to the producer's
   * transaction, starting it if none is open. One error code for the whole request.
   */
  async addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly TopicPartition[],
  ): Promise<number> {
    const unavailable = this.#unavailable();
    if (unavailable !== null) return unavailable;
    if (transactionalId === "") return ErrorCode.INVALID_REQUEST;
    const md = this.#txns.get(transactionalId);
    const bad = this.#checkProducer(md, producerId, producerEpoch);
    if (bad !== null || md === undefined) return bad ?? ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (md.pending !== null) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (md.state === "PrepareCommit" || md.state === "PrepareAbort") return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (md.state === "Ongoing" && md.hasAll(partitions)) return ErrorCode.NONE;
    if (!canTransition(md.state, "Ongoing")) return ErrorCode.INVALID_TXN_STATE;
    const now = this.#now();
    const next: TxnRecordValue = {
      ...md.snapshot(),
      state: "Ongoing",
      partitions: unionPartitions(md.partitionList(), partitions),
      startTimestamp: md.state === "Ongoing" ? md.startTimestamp : now,
      lastUpdateTimestamp: now,
    };
    return this.#write(md, next, "Ongoing");
  }

  /** AddOffsetsToTxn: adds the group's offsets partition to the transaction. */
  addOffsets(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
  ): Promise<number> {
    return this.addPartitions(transactionalId, producerId, producerEpoch, [
      this.#offsetsPartitionFor(groupId),
    ]);
  }

  /**
   * Whether a producer may write transactional data to a partition now (KIP-890's
   * verification, done in-process): NONE when the partition is in its open transaction.
   */
  verifyPartition(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): number {
    const unavailable = this.#unavailable();
    if (unavailable !== null) return unavailable;
    const md = this.#txns.get(transactionalId);
    const bad = this.#checkProducer(md, producerId, producerEpoch);
    if (bad !== null || md === undefined) return bad ?? ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    // Adding other partitions (pending Ongoing) does not stop writes to those already in.
    if (
      (md.pending !== null && md.pending !== "Ongoing") ||
      md.state === "PrepareCommit" ||
      md.state === "PrepareAbort"
    )
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (md.state !== "Ongoing" || !md.hasPartition(topic, partition)) return ErrorCode.INVALID_TXN_STATE;
    return ErrorCode.NONE;
  }

  /** Whether a TxnOffsetCommit for the group belongs to the producer's open transaction. */
  verifyOffsetCommit(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
  ): number {
    const p = this.#offsetsPartitionFor(groupId);
    return this.verifyPartition(transactionalId, producerId, producerEpoch, p.topic, p.partition);
  }

  /**
   * EndTxn: commits or aborts the producer's transaction. Answered once the decision
   * (PrepareCommit/PrepareAbort) is durable and the markers were attempted; markers that
   * failed are retried in the background until they are written.
   */
  async endTxn(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
  ): Promise<number> {
    const unavailable = this.#unavailable();
    if (unavailable !== null) return unavailable;
    if (transactionalId === "") return ErrorCode.INVALID_REQUEST;
    const md = this.#txns.get(transactionalId);
    const bad = this.#checkProducer(md, producerId, producerEpoch);
    if (bad !== null || md === undefined) return bad ?? ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (md.pending !== null) return ErrorCode.CONCURRENT_TRANSACTIONS;
    switch (md.state) {
      case "Ongoing":
        break;
      case "CompleteCommit":
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case "CompleteAbort":
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      case "PrepareCommit":
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case "PrepareAbort":
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      case "Empty":
      case "Dead":
      case "PrepareEpochFence":
        return ErrorCode.INVALID_TXN_STATE;
    }
    const state: TxnState = commit ? "PrepareCommit" : "PrepareAbort";
    const error = await this.#write(md, { ...md.snapshot(), state, lastUpdateTimestamp: this.#now() }, state);
    if (error !== ErrorCode.NONE) return error;
    await this.#complete(md);
    return ErrorCode.NONE;
  }

  /**
   * Aborts an Ongoing transaction on the coordinator's own initiative (timeout, fencing):
   * the epoch is bumped so the producer that owned it is fenced. True once the abort is
   * complete (markers written).
   */
  async #abortBySelf(md: TxnMetadata, why: string): Promise<boolean> {
    if (md.state !== "Ongoing" || md.pending !== null) return false;
    const epoch = md.producerEpoch < 0x7fff ? md.producerEpoch + 1 : md.producerEpoch;
    this.#log.info("aborting transaction", {
      transactionalId: md.transactionalId,
      producerId: md.producerId,
      fencedEpoch: md.producerEpoch,
      reason: why,
    });
    const next: TxnRecordValue = {
      ...md.snapshot(),
      producerEpoch: epoch,
      lastProducerEpoch: NO_PRODUCER_EPOCH,
      state: "PrepareAbort",
      lastUpdateTimestamp: this.#now(),
    };
    const error = await this.#write(md, next, "PrepareEpochFence");
    if (error !== ErrorCode.NONE) return false;
    return this.#complete(md);
  }

  /** Writes the markers of a Prepare* transaction, then its Complete* state; retries on failure. */
  #complete(md: TxnMetadata): Promise<boolean> {
    const running = this.#completing.get(md);
    if (running !== undefined) return running;
    const done = this.#doComplete(md).finally(() => this.#completing.delete(md));
    this.#completing.set(md, done);
    return done;
  }

  async #doComplete(md: TxnMetadata): Promise<boolean> {
    if (md.state !== "PrepareCommit" && md.state !== "PrepareAbort") return false;
    const commit = md.state === "PrepareCommit";
    const retry = (why: string): boolean => {
      this.#log.warn("transaction markers not written yet; retrying", {
        transactionalId: md.transactionalId,
        producerId: md.producerId,
        error: why,
      });
      if (this.#phase === "active") {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          void this.#complete(md);
        }, this.config.markerRetryBackoffMs);
        timer.unref();
        this.#timers.add(timer);
      }
      return false;
    };
    try {
      await this.#markers.writeMarkers({
        producerId: md.producerId,
        producerEpoch: md.producerEpoch,
        commit,
        partitions: md.partitionList(),
      });
    } catch (e) {
      return retry(e instanceof Error ? e.message : String(e));
    }
    const state: TxnState = commit ? "CompleteCommit" : "CompleteAbort";
    const next = { ...md.snapshot(), state, partitions: [], lastUpdateTimestamp: this.#now() };
    const error = await this.#write(md, next, state);
    if (error !== ErrorCode.NONE) return retry(`writing ${state} failed with error ${error}`);
    return true;
  }

  /** Writes a transition and applies it once durable; the error code when the write failed. */
  async #write(md: TxnMetadata, next: TxnRecordValue, pending: TxnState): Promise<number> {
    if (!canTransition(md.state, next.state))
      throw new Error(`illegal transaction transition ${md.state} → ${next.state} for ${md.transactionalId}`);
    md.pending = pending;
    try {
      await this.#store.append([encodeTxnRecord(md.transactionalId, next)]);
    } catch (e) {
      this.#log.error("writing transaction state failed", {
        transactionalId: md.transactionalId,
        state: next.state,
        error: e instanceof Error ? e.message : String(e),
      });
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    } finally {
      md.pending = null;
    }
    md.apply(next);
    return ErrorCode.NONE;
  }

  /** Aborts (with an epoch bump) every Ongoing transaction older than its timeout; resolves with how many. */
  async abortTimedOut(): Promise<number> {
    if (this.#phase !== "active") return 0;
    const now = this.#now();
    const expired = [...this.#txns.values()].filter(
      (md) => md.state === "Ongoing" && md.pending === null && md.startTimestamp + md.timeoutMs < now,
    );
    const results = await Promise.all(
      expired.map((md) => this.#abortBySelf(md, `transaction.timeout.ms (${md.timeoutMs}) passed`)),
    );
    return results.filter(Boolean).length;
  }

  /** Forgets ids idle for transactional.id.expiration.ms with no open transaction; resolves with how many. */
  async expireTransactionalIds(): Promise<number> {
    if (this.#phase !== "active") return 0;
    const now = this.#now();
    let n = 0;
    for (const md of [...this.#txns.values()]) {
      const idle = md.state === "Empty" || md.state === "CompleteCommit" || md.state === "CompleteAbort";
      if (!idle || md.pending !== null || now - md.lastUpdateTimestamp < this.config.idExpirationMs) continue;
      md.pending = "Dead";
      try {
        await this.#store.append([encodeTxnRecord(md.transactionalId, null)]);
        this.#txns.delete(md.transactionalId);
        md.state = "Dead";
        n++;
      } catch (e) {
        this.#log.error("expiring a transactional id failed", {
          transactionalId: md.transactionalId,
          error: e instanceof Error ? e.message : String(e),
        });
      } finally {
        md.pending = null;
      }
    }
    if (n > 0) this.#log.info("expired transactional ids", { count: n });
    return n;
  }

  /** DescribeTransactions: one description per id. */
  describe(transactionalIds: readonly string[]): TxnDescription[] {
    const unavailable = this.#unavailable();
    return transactionalIds.map((transactionalId) => {
      const none: TxnDescription = {
        errorCode: ErrorCode.NONE,
        transactionalId,
        state: "",
        producerId: NO_PRODUCER_ID,
        producerEpoch: NO_PRODUCER_EPOCH,
        timeoutMs: 0,
        startTimestamp: -1,
        partitions: [],
      };
      if (unavailable !== null) return { ...none, errorCode: unavailable };
      if (transactionalId === "") return { ...none, errorCode: ErrorCode.INVALID_REQUEST };
      const md = this.#txns.get(transactionalId);
      if (md === undefined || md.state === "Dead")
        return { ...none, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
      return {
        errorCode: ErrorCode.NONE,
        transactionalId,
        state: md.state,
        producerId: md.producerId,
        producerEpoch: md.producerEpoch,
        timeoutMs: md.timeoutMs,
        startTimestamp: md.startTimestamp,
        partitions: md.partitionList(),
      };
    });
  }

  /**
   * ListTransactions: ids filtered by state names, producer ids and (v1) a minimum running
   * time (-1: any). Unknown state names are reported back, as Kafka does.
   */
  list(
    stateFilters: readonly string[],
    producerIdFilters: readonly number[],
    durationFilterMs: number,
  ): {
    errorCode: number;
    unknownStateFilters: string[];
    transactions: { transactionalId: string; producerId: number; state: TxnState }[];
  } {
    const unavailable = this.#unavailable();
    const known = new Set<string>(TXN_STATES);
    const unknownStateFilters = stateFilters.filter((s) => !known.has(s));
    if (unavailable !== null) return { errorCode: unavailable, unknownStateFilters, transactions: [] };
    const states = new Set(stateFilters);
    const pids = new Set(producerIdFilters);
    const now = this.#now();
    const transactions = [];
    for (const md of this.#txns.values()) {
      if (md.state === "Dead") continue;
      if (states.size > 0 && !states.has(md.state)) continue;
      if (pids.size > 0 && !pids.has(md.producerId)) continue;
      if (durationFilterMs >= 0 && (md.startTimestamp < 0 || now - md.startTimestamp < durationFilterMs))
        continue;
      transactions.push({ transactionalId: md.transactionalId, producerId: md.producerId, state: md.state });
    }
    return { errorCode: ErrorCode.NONE, unknownStateFilters, transactions };
  }
}
