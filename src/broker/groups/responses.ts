// Response bodies of the group APIs at each version: what each version can carry (JoinGroup's
// protocol name is not nullable before v7), per-partition results in request order, and
// OffsetFetch's two layouts (one group before v8, several from v8).
import type { Input } from "../../protocol/codec-runtime.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { DescribedGroup } from "../../protocol/generated/describe-groups-response.ts";
import type { JoinGroupResponse } from "../../protocol/generated/join-group-response.ts";
import type { OffsetFetchResponse } from "../../protocol/generated/offset-fetch-response.ts";
import type { SyncGroupResponse } from "../../protocol/generated/sync-group-response.ts";
import type { ClassicGroup } from "./group.ts";
import { EMPTY_BYTES, type JoinOutcome, type SyncOutcome } from "./member.ts";
import type { FetchedTopic, PartitionError } from "./offset-manager.ts";

/** Results grouped by topic, in the order the request named the topics and partitions. */
export function groupedByTopic(
  request: readonly { name: string; partitions: readonly number[] }[],
  results: readonly PartitionError[],
): { name: string; partitions: { partition: number; errorCode: number }[] }[] {
  const codes = new Map<string, Map<number, number>>();
  for (const r of results) {
    let byPartition = codes.get(r.topic);
    if (byPartition === undefined) codes.set(r.topic, (byPartition = new Map<number, number>()));
    byPartition.set(r.partition, r.errorCode);
  }
  return request.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((partition) => ({
      partition,
      errorCode: codes.get(t.name)?.get(partition) ?? ErrorCode.UNKNOWN_SERVER_ERROR,
    })),
  }));
}

export interface FetchedGroup {
  groupId: string;
  errorCode: number;
  topics: FetchedTopic[];
}

type WantedTopics = readonly { name: string; partitionIndexes: readonly number[] }[] | null;

/** The OffsetFetch response at `version` for the groups fetched. */
export function offsetFetchResponse(
  groups: readonly FetchedGroup[],
  wanted: readonly { topics: WantedTopics }[],
  version: number,
): Input<OffsetFetchResponse> {
  if (version >= 8) return { throttleTimeMs: 0, groups };
  const g = groups[0];
  if (g === undefined) return { throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE };
  if (version < 2 && g.errorCode !== ErrorCode.NONE) {
    // No group-level error field before v2: every requested partition carries it.
    const topics = (wanted[0]?.topics ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => ({
        partitionIndex,
        committedOffset: -1n,
        committedLeaderEpoch: -1,
        metadata: "",
        errorCode: g.errorCode,
      })),
    }));
    return { throttleTimeMs: 0, topics };
  }
  return { throttleTimeMs: 0, topics: g.topics, errorCode: version >= 2 ? g.errorCode : ErrorCode.NONE };
}

export function joinResponse(outcome: JoinOutcome, version: number): Input<JoinGroupResponse> {
  return {
    throttleTimeMs: 0,
    errorCode: outcome.errorCode,
    generationId: outcome.generationId,
    protocolType: version >= 7 ? outcome.protocolType : null,
    // Before v7 the protocol name is not nullable ("" for none); from v7, "" is sent as null.
    protocolName: version >= 7 ? outcome.protocolName || null : (outcome.protocolName ?? ""),
    leader: outcome.leader,
    skipAssignment: version >= 9 && outcome.skipAssignment,
    memberId: outcome.memberId,
    members: outcome.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: version >= 5 ? m.groupInstanceId : null,
      metadata: m.metadata,
    })),
  };
}

export function syncResponse(outcome: SyncOutcome, version: number): Input<SyncGroupResponse> {
  return {
    throttleTimeMs: 0,
    errorCode: outcome.errorCode,
    protocolType: version >= 5 ? outcome.protocolType : null,
    protocolName: version >= 5 ? outcome.protocolName : null,
    assignment: outcome.assignment,
  };
}

/** A live group as DescribeGroups shows it. */
export function describedGroup(g: ClassicGroup, version: number): Input<DescribedGroup> {
  // Member metadata is only meaningful once the group settled on a protocol.
  const protocol = g.is("Stable") ? g.protocolName : null;
  return {
    errorCode: ErrorCode.NONE,
    groupId: g.groupId,
    groupState: g.state,
    protocolType: g.protocolType ?? "",
    protocolData: protocol ?? "",
    members: g.members().map((m) => ({
      memberId: m.memberId,
      groupInstanceId: version >= 4 ? m.groupInstanceId : null,
      clientId: m.clientId,
      clientHost: m.clientHost,
      memberMetadata: protocol === null ? EMPTY_BYTES : m.metadata(protocol),
      memberAssignment: m.assignment,
    })),
  };
}
