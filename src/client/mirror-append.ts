// FerryMirrorAppend from the client side: appending record batches to mirror topics on a
// Ferry cluster at their source offsets, unchanged (the replication link's write path).
// Entries are routed to partition leaders, one request per leader with every partition it
// leads; retriable and leadership errors are retried with the cluster's policy. Retrying is
// safe: the broker skips batches it already has.
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { ApiKey } from "../protocol/generated/index.ts";
import type { BrokerConnection } from "./broker-connection.ts";
import type { Cluster } from "./cluster.ts";
import { PartitionError, isStaleMetadata } from "./errors.ts";
import { backoffMs, shouldRetry, sleep } from "./retry.ts";

export interface MirrorAppendEntry {
  topic: string;
  partition: number;
  /** The source partition's log start offset; -1n when unknown. The mirror's log start follows it up. */
  sourceLogStartOffset: bigint;
  /** Zero or more v2 record batches, back to back, at their source offsets (sent unchanged). */
  records: Buffer;
}

export interface MirrorAppendOptions {
  /** The request's TimeoutMs: how long the broker may take to write (default 30 s). */
  timeoutMs?: number;
}

export interface MirrorAppendResult {
  topic: string;
  partition: number;
  /** The mirror partition's offsets after the append; -1n when the broker did not say. */
  logStartOffset: bigint;
  logEndOffset: bigint;
  highWatermark: bigint;
  /** Set when the partition's append failed (after retries, for retriable errors). */
  error?: PartitionError;
}

interface Item {
  topic: string;
  partition: number;
  sourceLogStartOffset: bigint;
  records: Buffer;
  result: MirrorAppendResult;
}

interface Offsets {
  logStartOffset: bigint;
  logEndOffset: bigint;
  highWatermark: bigint;
}

/**
 * True when every broker of the cluster serves FerryMirrorAppend (negotiated through
 * ApiVersions): a Ferry cluster. Kafka brokers do not advertise the key.
 */
export async function isFerryBroker(cluster: Cluster): Promise<boolean> {
  return cluster.withRetries(async () => {
    const meta =
      cluster.cachedMetadata.brokers.size > 0 ? cluster.cachedMetadata : await cluster.refreshMetadata([]);
    const ids = [...meta.brokers.keys()];
    if (ids.length === 0) return false;
    for (const id of ids) {
      const versions = await cluster.broker(id).versions();
      if (!versions.supports(ApiKey.FerryMirrorAppend)) return false;
    }
    return true;
  });
}

/**
 * Appends batches to mirror partitions at their own offsets. Several entries for one
 * partition are sent as one, in order. Returns one result per entry, in entry order; a
 * partition that failed carries `error` (nothing is thrown for partition errors).
 */
export async function mirrorAppend(
  cluster: Cluster,
  entries: readonly MirrorAppendEntry[],
  options: MirrorAppendOptions = {},
): Promise<MirrorAppendResult[]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const byPartition = new Map<string, Item>();
  const itemOf: Item[] = [];
  for (const e of entries) {
    const key = `${e.topic}\u0000${e.partition}`;
    let item = byPartition.get(key);
    if (item === undefined) {
      item = {
        topic: e.topic,
        partition: e.partition,
        sourceLogStartOffset: e.sourceLogStartOffset,
        records: e.records,
        result: {
          topic: e.topic,
          partition: e.partition,
          logStartOffset: -1n,
          logEndOffset: -1n,
          highWatermark: -1n,
        },
      };
      byPartition.set(key, item);
    } else {
      item.records = Buffer.concat([item.records, e.records]);
      if (e.sourceLogStartOffset > item.sourceLogStartOffset)
        item.sourceLogStartOffset = e.sourceLogStartOffset;
    }
    itemOf.push(item);
  }

  let pending = [...byPartition.values()];
  for (let attempt = 1; pending.length > 0; attempt++) {
    const failures: { item: Item; error: unknown }[] = [];
    const groups = new Map<BrokerConnection, Item[]>();
    for (const item of pending) {
      try {
        const leader = await cluster.leaderFor(item.topic, item.partition);
        let group = groups.get(leader);
        if (group === undefined) groups.set(leader, (group = []));
        group.push(item);
      } catch (error) {
        failures.push({ item, error });
      }
    }
    await Promise.all(
      [...groups].map(async ([broker, group]) => {
        try {
          const answers = await appendTo(broker, group, timeoutMs);
          group.forEach((item, i) => {
            const answer = answers[i];
            if (answer === undefined) return;
            // Offsets come with errors too (a straddling batch: where the mirror ends).
            if (answer.offsets !== null) Object.assign(item.result, answer.offsets);
            if (answer.error !== null) failures.push({ item, error: answer.error });
          });
        } catch (error) {
          for (const item of group) failures.push({ item, error });
        }
      }),
    );
    const retry: Item[] = [];
    for (const { item, error } of failures) {
      if (retriable(error, attempt, cluster) && !cluster.closed) retry.push(item);
      else item.result.error = partitionErrorOf(error, item);
    }
    if (retry.length === 0) break;
    if (failures.some((f) => f.error instanceof KafkaError && isStaleMetadata(f.error.code))) {
      cluster.invalidateMetadata();
    }
    await sleep(backoffMs(cluster.retry, attempt));
    pending = retry;
  }
  return itemOf.map((item) => ({ ...item.result }));
}

/** Retriable by the cluster's policy; CORRUPT_MESSAGE is not: the same bytes would fail again. */
function retriable(error: unknown, attempt: number, cluster: Cluster): boolean {
  if (error instanceof KafkaError && error.code === ErrorCode.CORRUPT_MESSAGE) return false;
  return shouldRetry(error, attempt, cluster.retry);
}

function partitionErrorOf(error: unknown, item: Item): PartitionError {
  if (error instanceof PartitionError) return error;
  if (error instanceof KafkaError) {
    const e = new PartitionError(error.code, item.topic, item.partition, undefined, error.message);
    e.cause = error;
    return e;
  }
  throw error;
}

interface Answer {
  /** Null when the broker did not know them (-1). */
  offsets: Offsets | null;
  error: PartitionError | null;
}

/** One FerryMirrorAppend request; per item the offsets and the partition's error, if any. */
async function appendTo(
  broker: BrokerConnection,
  items: readonly Item[],
  timeoutMs: number,
): Promise<Answer[]> {
  const topics = new Map<string, { index: number; sourceLogStartOffset: bigint; records: Buffer }[]>();
  for (const item of items) {
    let list = topics.get(item.topic);
    if (list === undefined) topics.set(item.topic, (list = []));
    list.push({
      index: item.partition,
      sourceLogStartOffset: item.sourceLogStartOffset,
      records: item.records,
    });
  }
  const { body } = await broker.send(ApiKey.FerryMirrorAppend, () => ({
    timeoutMs,
    topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
  }));
  const answers = new Map<string, Answer>();
  for (const t of body.topics) {
    for (const p of t.partitions) {
      answers.set(`${t.name}\u0000${p.index}`, {
        offsets:
          p.logEndOffset < 0n
            ? null
            : {
                logStartOffset: p.logStartOffset,
                logEndOffset: p.logEndOffset,
                highWatermark: p.highWatermark,
              },
        error:
          p.errorCode === 0
            ? null
            : new PartitionError(p.errorCode, t.name, p.index, broker.nodeId, p.errorMessage),
      });
    }
  }
  return items.map(
    (item) =>
      answers.get(`${item.topic}\u0000${item.partition}`) ?? {
        offsets: null,
        error: new PartitionError(
          ErrorCode.UNKNOWN_SERVER_ERROR,
          item.topic,
          item.partition,
          broker.nodeId,
          "no answer",
        ),
      },
  );
}
