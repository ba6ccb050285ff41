// Test harness for the group coordinator: a coordinator on a fake clock and an in-memory
// store, and a client that sends every request and response through the wire codec at the
// chosen version, so each test sees exactly what a broker handler and a client would.
import type { Input } from "../../../src/protocol/codec-runtime.ts";
import { encodeAssignment, encodeSubscription } from "../../../src/protocol/consumer-protocol.ts";
import { ApiKey, type ApiKeyNumber, type ApiMessages } from "../../../src/protocol/generated/index.ts";
import {
  decodeRequestAs,
  decodeResponseAs,
  encodeRequest,
  encodeResponse,
} from "../../../src/protocol/messages.ts";
import {
  GroupCoordinator,
  type GroupCoordinatorOptions,
} from "../../../src/broker/groups/group-coordinator.ts";
import type { GroupCoordinatorConfig } from "../../../src/broker/groups/group-config.ts";
import { MemoryGroupStore, type GroupStore } from "../../../src/broker/groups/group-store.ts";
import { FakeTime } from "./fake-time.ts";

/** Small timeouts so a test's fake time stays readable. */
export const TEST_CONFIG: Partial<GroupCoordinatorConfig> = {
  initialRebalanceDelayMs: 100,
  minSessionTimeoutMs: 1_000,
  maxSessionTimeoutMs: 60_000,
  offsetsRetentionMs: 3_600_000,
  offsetsRetentionCheckIntervalMs: 600_000,
};

/**
 * Long enough for a new group's first join phase when several members arrive together: each
 * member arriving during the initial delay extends it once more (as in Kafka).
 */
export const FIRST_JOIN_WAIT_MS = 2 * (TEST_CONFIG.initialRebalanceDelayMs ?? 0);

export const SESSION_MS = 10_000;
export const REBALANCE_MS = 5_000;

type Req<K extends ApiKeyNumber> = Input<ApiMessages[K]["request"]>;
type Res<K extends ApiKeyNumber> = ApiMessages[K]["response"];

/** Encodes and decodes a request at `version`: the body a broker handler would receive. */
export function viaWire<K extends ApiKeyNumber>(
  key: K,
  version: number,
  body: Req<K>,
): ApiMessages[K]["request"] {
  const frame = encodeRequest(key, version, { correlationId: 1, clientId: "test" }, body);
  return decodeRequestAs(key, frame.subarray(4)).body;
}

/** Encodes and decodes a response at `version`: what the client would read. */
export function responseViaWire<K extends ApiKeyNumber>(
  key: K,
  version: number,
  body: Input<Res<K>>,
): Res<K> {
  return decodeResponseAs(key, version, encodeResponse(key, version, 1, body).subarray(4)).body;
}

export function subscription(topics: string[], userData: Buffer | null = null): Buffer {
  return encodeSubscription(1, { topics, userData, ownedPartitions: [] });
}

export function assignment(partitions: Record<string, number[]>): Buffer {
  return encodeAssignment(0, {
    assignedPartitions: Object.entries(partitions).map(([topic, p]) => ({ topic, partitions: p })),
    userData: null,
  });
}

export interface Harness {
  time: FakeTime;
  store: GroupStore;
  coordinator: GroupCoordinator;
  api: Api;
}

export async function startHarness(
  opts: Partial<Omit<GroupCoordinatorOptions, "clock" | "timers">> & { time?: FakeTime } = {},
): Promise<Harness> {
  const time = opts.time ?? new FakeTime();
  const store = opts.store ?? new MemoryGroupStore();
  const coordinator = await GroupCoordinator.start({
    ...opts,
    store,
    config: { ...TEST_CONFIG, ...opts.config },
    clock: time,
    timers: time,
  });
  return { time, store, coordinator, api: new Api(coordinator) };
}

/** Sends group API requests at a chosen version, through the codec both ways. */
export class Api {
  readonly coordinator: GroupCoordinator;

  constructor(coordinator: GroupCoordinator) {
    this.coordinator = coordinator;
  }

  /** JoinGroup with consumer-protocol defaults (one "range" protocol subscribing to "t"). */
  async join(
    body: Req<typeof ApiKey.JoinGroup>,
    version = 9,
    clientId = "client",
  ): Promise<Res<typeof ApiKey.JoinGroup>> {
    const req = viaWire(ApiKey.JoinGroup, version, {
      sessionTimeoutMs: SESSION_MS,
      rebalanceTimeoutMs: version >= 1 ? REBALANCE_MS : -1,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: subscription(["t"]) }],
      ...body,
    });
    const res = await this.coordinator.joinGroup(req, version, clientId, "/127.0.0.1");
    return responseViaWire(ApiKey.JoinGroup, version, res);
  }

  async sync(body: Req<typeof ApiKey.SyncGroup>, version = 5): Promise<Res<typeof ApiKey.SyncGroup>> {
    const defaults = version >= 5 ? { protocolType: "consumer", protocolName: "range" } : {};
    const req = viaWire(ApiKey.SyncGroup, version, { ...defaults, ...body });
    return responseViaWire(ApiKey.SyncGroup, version, await this.coordinator.syncGroup(req, version));
  }

  async heartbeat(body: Req<typeof ApiKey.Heartbeat>, version = 4): Promise<number> {
    const req = viaWire(ApiKey.Heartbeat, version, body);
    return responseViaWire(ApiKey.Heartbeat, version, await this.coordinator.heartbeat(req, version))
      .errorCode;
  }

  async leave(body: Req<typeof ApiKey.LeaveGroup>, version = 5): Promise<Res<typeof ApiKey.LeaveGroup>> {
    const req = viaWire(ApiKey.LeaveGroup, version, body);
    return responseViaWire(ApiKey.LeaveGroup, version, await this.coordinator.leaveGroup(req, version));
  }

  async commit(body: Req<typeof ApiKey.OffsetCommit>, version = 9): Promise<Res<typeof ApiKey.OffsetCommit>> {
    const req = viaWire(ApiKey.OffsetCommit, version, body);
    return responseViaWire(ApiKey.OffsetCommit, version, await this.coordinator.offsetCommit(req, version));
  }

  /** Commits offsets of topic partitions and returns the error code of each, in order. */
  async commitOffsets(
    groupId: string,
    generationIdOrMemberEpoch: number,
    memberId: string,
    offsets: { topic: string; partition: number; offset: bigint; metadata?: string }[],
    version = 9,
  ): Promise<number[]> {
    const byTopic = new Map<
      string,
      { partitionIndex: number; committedOffset: bigint; committedMetadata: string }[]
    >();
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? [];
      list.push({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedMetadata: o.metadata ?? "",
      });
      byTopic.set(o.topic, list);
    }
    const topics = [...byTopic].map(([name, partitions]) => ({ name, partitions }));
    const body =
      version >= 1 ? { groupId, generationIdOrMemberEpoch, memberId, topics } : { groupId, topics };
    const res = await this.commit(body, version);
    return res.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
  }

  async fetch(body: Req<typeof ApiKey.OffsetFetch>, version = 9): Promise<Res<typeof ApiKey.OffsetFetch>> {
    const req = viaWire(ApiKey.OffsetFetch, version, body);
    return responseViaWire(ApiKey.OffsetFetch, version, await this.coordinator.offsetFetch(req, version));
  }

  /** The committed offset of one partition (v9, one group), -1n when none. */
  async committed(groupId: string, topic: string, partition: number): Promise<bigint> {
    const res = await this.fetch({
      groups: [{ groupId, topics: [{ name: topic, partitionIndexes: [partition] }] }],
    });
    return res.groups[0]?.topics[0]?.partitions[0]?.committedOffset ?? -2n;
  }

  async describe(groups: string[], version = 5): Promise<Res<typeof ApiKey.DescribeGroups>["groups"]> {
    const req = viaWire(ApiKey.DescribeGroups, version, { groups });
    return responseViaWire(
      ApiKey.DescribeGroups,
      version,
      await this.coordinator.describeGroups(req, version),
    ).groups;
  }

  async list(body: Req<typeof ApiKey.ListGroups> = {}, version = 5): Promise<Res<typeof ApiKey.ListGroups>> {
    const req = viaWire(ApiKey.ListGroups, version, body);
    return responseViaWire(ApiKey.ListGroups, version, await this.coordinator.listGroups(req, version));
  }

  async deleteGroups(
    groupsNames: string[],
    version = 2,
  ): Promise<Res<typeof ApiKey.DeleteGroups>["results"]> {
    const req = viaWire(ApiKey.DeleteGroups, version, { groupsNames });
    return responseViaWire(ApiKey.DeleteGroups, version, await this.coordinator.deleteGroups(req, version))
      .results;
  }

  async offsetDelete(body: Req<typeof ApiKey.OffsetDelete>): Promise<Res<typeof ApiKey.OffsetDelete>> {
    const req = viaWire(ApiKey.OffsetDelete, 0, body);
    return responseViaWire(ApiKey.OffsetDelete, 0, await this.coordinator.offsetDelete(req, 0));
  }
}

export interface JoinedMember {
  memberId: string;
  generationId: number;
  leader: string;
}

/**
 * Forms a Stable consumer group of `n` members (v9 clients, MEMBER_ID_REQUIRED round trip
 * included); the leader assigns partition i of "t" to member i.
 */
export async function formGroup(h: Harness, groupId: string, n: number): Promise<JoinedMember[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await h.api.join({ groupId, memberId: "" }, 9, `c${i}`)).memberId);
  const joins = ids.map((memberId, i) => h.api.join({ groupId, memberId }, 9, `c${i}`));
  await h.time.advance(FIRST_JOIN_WAIT_MS);
  const joined = await Promise.all(joins);
  const leader = joined.find((j) => j.leader === j.memberId);
  if (leader === undefined) throw new Error("no leader");
  const assignments = leader.members.map((m, i) => ({
    memberId: m.memberId,
    assignment: assignment({ t: [i] }),
  }));
  const generationId = leader.generationId;
  await Promise.all(
    joined.map((j) =>
      h.api.sync({
        groupId,
        generationId,
        memberId: j.memberId,
        assignments: j.memberId === leader.memberId ? assignments : [],
      }),
    ),
  );
  return joined.map((j) => ({ memberId: j.memberId, generationId, leader: leader.memberId }));
}
