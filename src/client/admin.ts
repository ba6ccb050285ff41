// Admin operations: topics, partitions, configs, records, cluster, groups and their offsets.
// Each routes to where Kafka serves it (controller, leaders, coordinators) and throws typed
// errors naming the topic, partition or group that failed.
import { ErrorCode } from "../protocol/error-codes.ts";
import { ApiKey } from "../protocol/generated/index.ts";
import type { BrokerConnection } from "./broker-connection.ts";
import type { Cluster } from "./cluster.ts";
import { BrokerError, PartitionError } from "./errors.ts";
import {
  commitOffsets,
  fetchCommittedOffsets,
  withCoordinator,
  type CommittedOffset,
  type OffsetToCommit,
} from "./group-offsets.ts";
import type { TopicMetadata } from "./metadata.ts";
import { listOffsets, type OffsetAnswer, type OffsetQuery } from "./offsets.ts";

export { OffsetSpec } from "./offsets.ts";

/** Config resource types (DescribeConfigs, IncrementalAlterConfigs). */
export const ResourceType = { TOPIC: 2, BROKER: 4 } as const;

/** IncrementalAlterConfigs operations. */
export const ConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface NewTopic {
  name: string;
  numPartitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  isSensitive: boolean;
}

export interface ConfigChange {
  name: string;
  value: string | null;
  /** ConfigOp; default SET. */
  op?: number;
}

/** Whether a group state (DescribeGroups) means no member is in it: nobody would notice its offsets move. */
export function isIdleGroupState(state: string): boolean {
  return state === "Empty" || state === "Dead" || state === "";
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    assignment: Buffer;
  }[];
}

export interface ClusterDescription {
  clusterId: string | null;
  controllerId: number;
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Admin client over a Cluster (which it does not own). */
export class Admin {
  readonly #cluster: Cluster;

  constructor(cluster: Cluster) {
    this.#cluster = cluster;
  }

  /** Creates topics; throws a BrokerError naming the first topic that failed. */
  async createTopics(topics: readonly NewTopic[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.#withController(async (controller) => {
      const { body } = await controller.send(ApiKey.CreateTopics, () => ({
        topics: topics.map((t) => ({
          name: t.name,
          numPartitions: t.numPartitions ?? -1,
          replicationFactor: t.replicationFactor ?? -1,
          configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
        timeoutMs,
      }));
      for (const t of body.topics) {
        if (t.errorCode !== 0) {
          throw new BrokerError(
            t.errorCode,
            `CreateTopics ${t.name}`,
            { broker: controller.nodeId, topic: t.name },
            t.errorMessage,
          );
        }
      }
    });
    this.#cluster.invalidateMetadata();
  }

  /** Deletes topics by name. */
  async deleteTopics(names: readonly string[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.#withController(async (controller) => {
      const { body } = await controller.send(ApiKey.DeleteTopics, (v) =>
        v >= 6
          ? { topics: names.map((name) => ({ name })), timeoutMs }
          : { topicNames: [...names], timeoutMs },
      );
      for (const r of body.responses) {
        if (r.errorCode !== 0) {
          const topic = r.name ?? r.topicId;
          throw new BrokerError(
            r.errorCode,
            `DeleteTopics ${topic}`,
            { broker: controller.nodeId, topic },
            r.errorMessage,
          );
        }
      }
    });
    this.#cluster.invalidateMetadata();
  }

  /** Names of the cluster's topics (internal ones only when asked). */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    const metadata = await this.#cluster.withRetries(() => this.#cluster.refreshMetadata(null));
    return [...metadata.topics.values()]
      .filter((t) => t.errorCode === 0 && (options.includeInternal === true || !t.isInternal))
      .map((t) => t.name)
      .sort();
  }

  /** Fresh metadata of topics: partitions, leaders, replicas. */
  async describeTopics(names: readonly string[]): Promise<TopicMetadata[]> {
    return this.#cluster.withRetries(async () => {
      await this.#cluster.refreshMetadata(names);
      return this.#cluster.topics(names);
    });
  }

  /** Raises a topic's partition count to `count`. */
  async createPartitions(topic: string, count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.#withController(async (controller) => {
      const { body } = await controller.send(ApiKey.CreatePartitions, () => ({
        topics: [{ name: topic, count, assignments: null }],
        timeoutMs,
      }));
      for (const r of body.results) {
        if (r.errorCode !== 0) {
          throw new BrokerError(
            r.errorCode,
            `CreatePartitions ${r.name}`,
            { broker: controller.nodeId, topic: r.name },
            r.errorMessage,
          );
        }
      }
    });
    this.#cluster.invalidateMetadata();
  }

  /** A resource's configs (all, or the named keys). Broker resources go to that broker. */
  async describeConfigs(
    resourceType: number,
    name: string,
    keys?: readonly string[],
  ): Promise<ConfigEntry[]> {
    return this.#cluster.withRetries(async () => {
      const broker = await this.#brokerForResource(resourceType, name);
      const { body } = await broker.send(ApiKey.DescribeConfigs, () => ({
        resources: [
          { resourceType, resourceName: name, configurationKeys: keys === undefined ? null : [...keys] },
        ],
      }));
      const result = body.results[0];
      if (result === undefined)
        throw new BrokerError(ErrorCode.UNKNOWN_SERVER_ERROR, `DescribeConfigs ${name}: no result`);
      if (result.errorCode !== 0) {
        throw new BrokerError(
          result.errorCode,
          `DescribeConfigs ${name}`,
          { broker: broker.nodeId, topic: name },
          result.errorMessage,
        );
      }
      return result.configs.map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        isDefault: c.isDefault || c.configSource === 5,
        isSensitive: c.isSensitive,
      }));
    });
  }

  /** Changes configs of a resource key by key (set, delete, append, subtract). */
  async incrementalAlterConfigs(
    resourceType: number,
    name: string,
    changes: readonly ConfigChange[],
  ): Promise<void> {
    await this.#cluster.withRetries(async () => {
      const broker = await this.#brokerForResource(resourceType, name);
      const { body } = await broker.send(ApiKey.IncrementalAlterConfigs, () => ({
        resources: [
          {
            resourceType,
            resourceName: name,
            configs: changes.map((c) => ({
              name: c.name,
              value: c.value,
              configOperation: c.op ?? ConfigOp.SET,
            })),
          },
        ],
      }));
      for (const r of body.responses) {
        if (r.errorCode !== 0) {
          throw new BrokerError(
            r.errorCode,
            `IncrementalAlterConfigs ${r.resourceName}`,
            { broker: broker.nodeId, topic: r.resourceName },
            r.errorMessage,
          );
        }
      }
    });
  }

  /** Offsets by OffsetSpec (earliest, latest) or timestamp, per partition. */
  listOffsets(queries: readonly OffsetQuery[], isolationLevel = 0): Promise<OffsetAnswer[]> {
    return listOffsets(this.#cluster, queries, isolationLevel);
  }

  /** Deletes records below `offset` (-1n: the high watermark); returns the new low watermarks. */
  async deleteRecords(
    targets: readonly { topic: string; partition: number; offset: bigint }[],
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<{ topic: string; partition: number; lowWatermark: bigint }[]> {
    return this.#cluster.withRetries(async () => {
      const byLeader = new Map<BrokerConnection, (typeof targets)[number][]>();
      for (const t of targets) {
        const leader = await this.#cluster.leaderFor(t.topic, t.partition);
        let list = byLeader.get(leader);
        if (list === undefined) byLeader.set(leader, (list = []));
        list.push(t);
      }
      const out: { topic: string; partition: number; lowWatermark: bigint }[] = [];
      await Promise.all(
        [...byLeader].map(async ([broker, list]) => {
          const topics = new Map<string, { partitionIndex: number; offset: bigint }[]>();
          for (const t of list) {
            let ps = topics.get(t.topic);
            if (ps === undefined) topics.set(t.topic, (ps = []));
            ps.push({ partitionIndex: t.partition, offset: t.offset });
          }
          const { body } = await broker.send(ApiKey.DeleteRecords, () => ({
            topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
            timeoutMs,
          }));
          for (const t of body.topics) {
            for (const p of t.partitions) {
              if (p.errorCode !== 0)
                throw new PartitionError(p.errorCode, t.name, p.partitionIndex, broker.nodeId);
              out.push({ topic: t.name, partition: p.partitionIndex, lowWatermark: p.lowWatermark });
            }
          }
        }),
      );
      return out;
    });
  }

  /** Cluster id, controller and brokers (DescribeCluster where supported, else Metadata). */
  async describeCluster(): Promise<ClusterDescription> {
    return this.#cluster.withRetries(async () => {
      const broker = await this.#cluster.anyBroker();
      if (!(await broker.versions()).supports(ApiKey.DescribeCluster)) {
        const m = await this.#cluster.refreshMetadata([]);
        return { clusterId: m.clusterId, controllerId: m.controllerId, brokers: [...m.brokers.values()] };
      }
      const { body } = await broker.send(ApiKey.DescribeCluster, () => ({}));
      if (body.errorCode !== 0) {
        throw new BrokerError(
          body.errorCode,
          "DescribeCluster",
          { broker: broker.nodeId },
          body.errorMessage,
        );
      }
      return {
        clusterId: body.clusterId,
        controllerId: body.controllerId,
        brokers: body.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack })),
      };
    });
  }

  /** Every group on every broker. */
  async listGroups(): Promise<{ groupId: string; protocolType: string; state: string }[]> {
    const metadata = await this.#cluster.withRetries(() => this.#cluster.refreshMetadata([]));
    const lists = await Promise.all(
      [...metadata.brokers.keys()].map((id) =>
        this.#cluster.withRetries(async () => {
          const broker = this.#cluster.broker(id);
          const { body } = await broker.send(ApiKey.ListGroups, () => ({}));
          if (body.errorCode !== 0) throw new BrokerError(body.errorCode, "ListGroups", { broker: id });
          return body.groups.map((g) => ({
            groupId: g.groupId,
            protocolType: g.protocolType,
            state: g.groupState,
          }));
        }),
      ),
    );
    return lists.flat().sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  /** Groups' state, protocol and members, each from its coordinator. */
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return Promise.all(
      groupIds.map((groupId) =>
        withCoordinator(this.#cluster, groupId, async (coordinator) => {
          const { body } = await coordinator.send(ApiKey.DescribeGroups, () => ({ groups: [groupId] }));
          const g = body.groups[0];
          if (g === undefined)
            throw new BrokerError(ErrorCode.UNKNOWN_SERVER_ERROR, `DescribeGroups ${groupId}: no answer`);
          if (g.errorCode !== 0) {
            throw new BrokerError(g.errorCode, `DescribeGroups ${groupId}`, {
              broker: coordinator.nodeId,
              group: groupId,
            });
          }
          return {
            groupId: g.groupId,
            state: g.groupState,
            protocolType: g.protocolType,
            protocol: g.protocolData,
            members: g.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              assignment: m.memberAssignment,
            })),
          };
        }),
      ),
    );
  }

  /** Deletes empty groups. */
  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    await Promise.all(
      groupIds.map((groupId) =>
        withCoordinator(this.#cluster, groupId, async (coordinator) => {
          const { body } = await coordinator.send(ApiKey.DeleteGroups, () => ({ groupsNames: [groupId] }));
          for (const r of body.results) {
            if (r.errorCode !== 0) {
              throw new BrokerError(r.errorCode, `DeleteGroups ${r.groupId}`, {
                broker: coordinator.nodeId,
                group: r.groupId,
              });
            }
          }
        }),
      ),
    );
  }

  /** A group's committed offsets (OffsetFetch); all partitions when none are named. */
  fetchOffsets(
    groupId: string,
    partitions?: readonly { topic: string; partition: number }[],
  ): Promise<CommittedOffset[]> {
    return fetchCommittedOffsets(this.#cluster, groupId, partitions);
  }

  /** Sets a group's committed offsets from outside the group (OffsetCommit, generation -1). */
  alterOffsets(groupId: string, offsets: readonly OffsetToCommit[]): Promise<void> {
    return commitOffsets(this.#cluster, groupId, offsets);
  }

  #withController<T>(request: (controller: BrokerConnection) => Promise<T>): Promise<T> {
    return this.#cluster.withRetries(async () => {
      try {
        return await request(await this.#cluster.controller());
      } catch (e) {
        if (e instanceof BrokerError && e.code === ErrorCode.NOT_CONTROLLER)
          this.#cluster.invalidateMetadata();
        throw e;
      }
    });
  }

  async #brokerForResource(resourceType: number, name: string): Promise<BrokerConnection> {
    if (resourceType === ResourceType.BROKER && name !== "") {
      await this.#cluster.refreshMetadata([]);
      return this.#cluster.broker(Number(name));
    }
    return this.#cluster.anyBroker();
  }
}
