// One transactional id's state as the transaction coordinator keeps it (Kafka's
// TransactionMetadata), and the state machine it moves through:
//
//   Empty ──AddPartitions──▶ Ongoing ──EndTxn(commit)──▶ PrepareCommit ──markers──▶ CompleteCommit
//                               │  └────EndTxn(abort)───▶ PrepareAbort ──markers──▶ CompleteAbort
//                               └──timeout / new producer instance: PrepareEpochFence ─▶ PrepareAbort
//   Complete* ──AddPartitions──▶ Ongoing;  Empty/Complete* ──InitProducerId──▶ Empty (epoch + 1)
//   Empty/Complete* ──transactional.id.expiration.ms──▶ Dead (tombstoned)
//
// PrepareEpochFence is never written to the log: it marks, in memory, an abort the coordinator
// started on its own (it bumps the epoch to fence the producer that owned the transaction).

/** Kafka's TransactionState names; the index is the status byte stored in __transaction_state. */
export const TXN_STATES = [
  "Empty",
  "Ongoing",
  "PrepareCommit",
  "PrepareAbort",
  "CompleteCommit",
  "CompleteAbort",
  "Dead",
  "PrepareEpochFence",
] as const;

export type TxnState = (typeof TXN_STATES)[number];

/** The states each state may be entered from (Kafka's validPreviousStates). */
const VALID_PREVIOUS: Readonly<Record<TxnState, readonly TxnState[]>> = {
  Empty: ["Empty", "CompleteCommit", "CompleteAbort"],
  Ongoing: ["Ongoing", "Empty", "CompleteCommit", "CompleteAbort"],
  PrepareCommit: ["Ongoing"],
  PrepareAbort: ["Ongoing", "PrepareEpochFence"],
  CompleteCommit: ["PrepareCommit"],
  CompleteAbort: ["PrepareAbort"],
  Dead: ["Empty", "CompleteCommit", "CompleteAbort"],
  PrepareEpochFence: ["Ongoing"],
};

/** Whether the state machine allows moving from `from` to `to`. */
export function canTransition(from: TxnState, to: TxnState): boolean {
  return VALID_PREVIOUS[to].includes(from);
}

/** The status byte of a state. */
export function txnStatusOf(state: TxnState): number {
  return TXN_STATES.indexOf(state);
}

/** The state of a status byte, or undefined for an unknown one. */
export function txnStateOf(status: number): TxnState | undefined {
  return TXN_STATES[status];
}

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
/** Epochs at or above this are exhausted: the next bump takes a new producer id (Kafka's rule). */
export const MAX_USABLE_EPOCH = 0x7fff - 1;

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** What one write to __transaction_state records: the whole state after a transition. */
export interface TxnRecordValue {
  producerId: number;
  producerEpoch: number;
  /** The producer id and epoch a retried InitProducerId may still present (kept in memory only, as Kafka's v0 record does not store them). */
  lastProducerId: number;
  lastProducerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  partitions: readonly TopicPartition[];
  lastUpdateTimestamp: number;
  /** -1 when no transaction is open. */
  startTimestamp: number;
}

/** A transactional id's live state. */
export class TxnMetadata {
  readonly transactionalId: string;
  producerId: number;
  producerEpoch: number;
  /** The producer id and epoch before the last bump, so a retried InitProducerId gets the same answer. */
  lastProducerId: number;
  lastProducerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  /** Partitions in the open transaction, as "topic" → partition numbers. */
  readonly partitions = new Map<string, Set<number>>();
  startTimestamp = -1;
  lastUpdateTimestamp: number;
  /** A transition being written to the log (or an abort being set up); other requests wait for it. */
  pending: TxnState | null = null;

  constructor(transactionalId: string, value: TxnRecordValue) {
    this.transactionalId = transactionalId;
    this.producerId = value.producerId;
    this.producerEpoch = value.producerEpoch;
    this.lastProducerId = value.lastProducerId;
    this.lastProducerEpoch = value.lastProducerEpoch;
    this.timeoutMs = value.timeoutMs;
    this.state = value.state;
    this.lastUpdateTimestamp = value.lastUpdateTimestamp;
    this.apply(value);
  }

  /** The partitions of the open transaction as a list. */
  partitionList(): TopicPartition[] {
    const out: TopicPartition[] = [];
    for (const [topic, set] of this.partitions) for (const partition of set) out.push({ topic, partition });
    return out;
  }

  hasPartition(topic: string, partition: number): boolean {
    return this.partitions.get(topic)?.has(partition) === true;
  }

  /** Whether every given partition is in the transaction already. */
  hasAll(partitions: readonly TopicPartition[]): boolean {
    return partitions.every((p) => this.hasPartition(p.topic, p.partition));
  }

  /** The state as it is now, ready to change and write. */
  snapshot(): TxnRecordValue {
    return {
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      lastProducerId: this.lastProducerId,
      lastProducerEpoch: this.lastProducerEpoch,
      timeoutMs: this.timeoutMs,
      state: this.state,
      partitions: this.partitionList(),
      lastUpdateTimestamp: this.lastUpdateTimestamp,
      startTimestamp: this.startTimestamp,
    };
  }

  /** Takes a written (or replayed) record's values. */
  apply(value: TxnRecordValue): void {
    this.lastProducerId = value.lastProducerId;
    this.lastProducerEpoch = value.lastProducerEpoch;
    this.producerId = value.producerId;
    this.producerEpoch = value.producerEpoch;
    this.timeoutMs = value.timeoutMs;
    this.state = value.state;
    this.lastUpdateTimestamp = value.lastUpdateTimestamp;
    this.startTimestamp = value.startTimestamp;
    this.partitions.clear();
    for (const p of value.partitions) {
      let set = this.partitions.get(p.topic);
      if (set === undefined) this.partitions.set(p.topic, (set = new Set()));
      set.add(p.partition);
    }
  }
}

/** The partitions of a and b together, without duplicates, a's first. */
export function unionPartitions(
  a: readonly TopicPartition[],
  b: readonly TopicPartition[],
): TopicPartition[] {
  const seen = new Set(a.map((p) => `${p.topic}\u0000${p.partition}`));
  const out = a.slice();
  for (const p of b) {
    const key = `${p.topic}\u0000${p.partition}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}
