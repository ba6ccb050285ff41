// ListOffsets routed to partition leaders: earliest, latest, or the first offset at or after a
// timestamp. Shared by the consumer (to start) and admin.
import { ApiKey } from "../protocol/generated/index.ts";
import type { BrokerConnection } from "./broker-connection.ts";
import type { Cluster } from "./cluster.ts";
import { PartitionError } from "./errors.ts";

/** Kafka's special ListOffsets timestamps. */
export const OffsetSpec = { LATEST: -1n, EARLIEST: -2n } as const;

export interface OffsetQuery {
  topic: string;
  partition: number;
  /** OffsetSpec.LATEST, OffsetSpec.EARLIEST, or a timestamp in ms. */
  timestamp: bigint;
}

export interface OffsetAnswer {
  topic: string;
  partition: number;
  /** -1n when no record has a timestamp at or after the one asked for. */
  offset: bigint;
  timestamp: bigint;
  leaderEpoch: number;
}

/**
 * Resolves offsets for partitions, each at its leader, retrying leadership errors. A partition
 * asked about more than once (several timestamps) is asked in separate requests, since a
 * request names each partition once.
 */
export async function listOffsets(
  cluster: Cluster,
  queries: readonly OffsetQuery[],
  isolationLevel = 0,
): Promise<OffsetAnswer[]> {
  const rounds: { query: OffsetQuery; index: number }[][] = [];
  const seen = new Map<string, number>();
  queries.forEach((query, index) => {
    const key = `${query.topic}\u0000${query.partition}`;
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    (rounds[round] ??= []).push({ query, index });
  });
  const out = new Array<OffsetAnswer>(queries.length);
  for (const round of rounds) {
    const answers = await listOffsetsOnce(
      cluster,
      round.map((r) => r.query),
      isolationLevel,
    );
    round.forEach((r, i) => {
      const a = answers[i];
      if (a !== undefined) out[r.index] = a;
    });
  }
  return out;
}

async function listOffsetsOnce(
  cluster: Cluster,
  queries: readonly OffsetQuery[],
  isolationLevel: number,
): Promise<OffsetAnswer[]> {
  return cluster.withRetries(async () => {
    const byLeader = new Map<BrokerConnection, OffsetQuery[]>();
    for (const q of queries) {
      const leader = await cluster.leaderFor(q.topic, q.partition);
      let list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, (list = []));
      list.push(q);
    }
    const answers = new Map<string, OffsetAnswer>();
    await Promise.all(
      [...byLeader].map(async ([broker, list]) => {
        const topics = new Map<string, OffsetQuery[]>();
        for (const q of list) {
          let t = topics.get(q.topic);
          if (t === undefined) topics.set(q.topic, (t = []));
          t.push(q);
        }
        const { version, body } = await broker.send(ApiKey.ListOffsets, (v) => ({
          replicaId: -1,
          ...(v >= 2 ? { isolationLevel } : {}),
          topics: [...topics].map(([name, qs]) => ({
            name,
            partitions: qs.map((q) => ({
              partitionIndex: q.partition,
              timestamp: q.timestamp,
              ...(v === 0 ? { maxNumOffsets: 1 } : {}),
            })),
          })),
        }));
        for (const t of body.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== 0)
              throw new PartitionError(p.errorCode, t.name, p.partitionIndex, broker.nodeId);
            const offset = version === 0 ? (p.oldStyleOffsets[0] ?? -1n) : p.offset;
            answers.set(`${t.name}\u0000${p.partitionIndex}`, {
              topic: t.name,
              partition: p.partitionIndex,
              offset,
              timestamp: p.timestamp,
              leaderEpoch: p.leaderEpoch,
            });
          }
        }
      }),
    );
    return queries.map((q) => {
      const a = answers.get(`${q.topic}\u0000${q.partition}`);
      if (a === undefined)
        throw new PartitionError(-1, q.topic, q.partition, undefined, "no ListOffsets answer");
      return a;
    });
  });
}
