// Requests served by a group's coordinator, with coordinator lookup and failover: committed
// offsets (OffsetFetch, OffsetCommit). Used by admin and by the group member.
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { ApiKey } from "../protocol/generated/index.ts";
import type { BrokerConnection } from "./broker-connection.ts";
import type { Cluster } from "./cluster.ts";
import { BrokerError, PartitionError } from "./errors.ts";

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** -1n when the group has no offset for the partition. */
  offset: bigint;
  metadata: string | null;
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: bigint;
  metadata?: string | null;
}

/** The generation of a commit: -1 and "" for a commit from outside the group (admin). */
export interface CommitGeneration {
  generationId: number;
  memberId: string;
  groupInstanceId?: string | null;
}

const COORDINATOR_MOVED: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NETWORK_EXCEPTION,
  ErrorCode.REQUEST_TIMED_OUT,
]);

/**
 * Runs a request against a group's coordinator with the cluster's retries; a coordinator that
 * moved or is unreachable is looked up again before the next attempt. `route` may swap the
 * cluster's shared connection for another to the same broker (the group member's own).
 */
export function withCoordinator<T>(
  cluster: Cluster,
  groupId: string,
  request: (coordinator: BrokerConnection) => Promise<T>,
  route: (shared: BrokerConnection) => BrokerConnection = (shared) => shared,
): Promise<T> {
  return cluster.withRetries(async () => {
    const coordinator = route(await cluster.coordinator(groupId));
    try {
      return await request(coordinator);
    } catch (e) {
      if (e instanceof KafkaError && COORDINATOR_MOVED.has(e.code)) cluster.invalidateCoordinator(groupId);
      throw e;
    }
  });
}

/** A group's committed offsets; `partitions` undefined means every partition it has. */
export function fetchCommittedOffsets(
  cluster: Cluster,
  groupId: string,
  partitions?: readonly { topic: string; partition: number }[],
): Promise<CommittedOffset[]> {
  const topics =
    partitions === undefined
      ? null
      : [...groupBy(partitions, (p) => p.topic)].map(([name, list]) => ({
          name,
          partitionIndexes: list.map((p) => p.partition),
        }));
  return withCoordinator(cluster, groupId, async (coordinator) => {
    const { version, body } = await coordinator.send(
      ApiKey.OffsetFetch,
      (v) => (v >= 8 ? { groups: [{ groupId, topics }] } : { groupId, topics }),
      { minVersion: partitions === undefined ? 2 : 1 },
    );
    let errorCode = body.errorCode;
    let answerTopics = body.topics;
    if (version >= 8) {
      const g = body.groups[0];
      errorCode = g?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
      answerTopics = g?.topics ?? [];
    }
    if (errorCode !== 0) {
      throw new BrokerError(errorCode, `OffsetFetch for group ${groupId}`, {
        broker: coordinator.nodeId,
        group: groupId,
      });
    }
    const out: CommittedOffset[] = [];
    for (const t of answerTopics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0)
          throw new PartitionError(p.errorCode, t.name, p.partitionIndex, coordinator.nodeId);
        out.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          metadata: p.metadata,
        });
      }
    }
    return out;
  });
}

/** Commits offsets for a group, as a member (its generation) or from outside (-1). */
export function commitOffsets(
  cluster: Cluster,
  groupId: string,
  offsets: readonly OffsetToCommit[],
  generation: CommitGeneration = { generationId: -1, memberId: "" },
): Promise<void> {
  return withCoordinator(cluster, groupId, async (coordinator) => {
    const { body } = await coordinator.send(ApiKey.OffsetCommit, (v) => ({
      groupId,
      generationIdOrMemberEpoch: generation.generationId,
      memberId: generation.memberId,
      ...(v >= 7 ? { groupInstanceId: generation.groupInstanceId ?? null } : {}),
      topics: [...groupBy(offsets, (o) => o.topic)].map(([name, list]) => ({
        name,
        partitions: list.map((o) => ({
          partitionIndex: o.partition,
          committedOffset: o.offset,
          committedMetadata: o.metadata ?? null,
        })),
      })),
    }));
    for (const t of body.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0)
          throw new PartitionError(p.errorCode, t.name, p.partitionIndex, coordinator.nodeId);
      }
    }
  });
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    let list = map.get(k);
    if (list === undefined) map.set(k, (list = []));
    list.push(item);
  }
  return map;
}
