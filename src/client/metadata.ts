// The client's view of the cluster from Metadata responses: brokers, and each topic's
// partitions with leader and epoch. Immutable snapshots; the cluster swaps in newer ones.
import type { MetadataResponse } from "../protocol/generated/index.ts";

export interface PartitionMetadata {
  partition: number;
  errorCode: number;
  /** -1 when the partition has no leader. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

export interface TopicMetadata {
  name: string;
  topicId: string;
  errorCode: number;
  isInternal: boolean;
  /** Indexed by partition number. */
  partitions: PartitionMetadata[];
}

export interface BrokerMetadata {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: Map<number, BrokerMetadata>;
  topics: Map<string, TopicMetadata>;
}

export function emptyMetadata(): ClusterMetadata {
  return { clusterId: null, controllerId: -1, brokers: new Map(), topics: new Map() };
}

/**
 * Merges a Metadata response into a snapshot: brokers are replaced, topics the response names
 * are replaced, other topics are kept unless the response lists every topic (`complete`).
 */
export function mergeMetadata(
  previous: ClusterMetadata,
  response: MetadataResponse,
  complete = false,
): ClusterMetadata {
  const brokers = new Map<number, BrokerMetadata>();
  for (const b of response.brokers) {
    brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
  }
  const topics = complete ? new Map<string, TopicMetadata>() : new Map(previous.topics);
  for (const t of response.topics) {
    if (t.name === null) continue;
    const partitions: PartitionMetadata[] = [];
    for (const p of t.partitions) {
      partitions[p.partitionIndex] = {
        partition: p.partitionIndex,
        errorCode: p.errorCode,
        leader: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        replicas: p.replicaNodes,
        isr: p.isrNodes,
      };
    }
    topics.set(t.name, {
      name: t.name,
      topicId: t.topicId,
      errorCode: t.errorCode,
      isInternal: t.isInternal,
      partitions,
    });
  }
  return { clusterId: response.clusterId, controllerId: response.controllerId, brokers, topics };
}
