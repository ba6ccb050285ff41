// Conversions between a live group and its stored record (what Kafka keeps in
// __consumer_offsets): members with their metadata for the chosen protocol and assignments.
import { ClassicGroup } from "./group.ts";
import type { StoredGroup } from "./group-store.ts";
import { ClassicGroupMember, EMPTY_BYTES } from "./member.ts";

/** The group's record, with the given assignments (missing members get an empty one). */
export function storedGroup(group: ClassicGroup, assignments: ReadonlyMap<string, Buffer>): StoredGroup {
  const protocol = group.protocolName;
  return {
    protocolType: group.protocolType ?? "",
    generationId: group.generationId,
    protocolName: protocol,
    leaderId: group.leaderId,
    stateTimestampMs: group.stateTimestampMs,
    members:
      protocol === null
        ? []
        : group.members().map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            rebalanceTimeoutMs: m.rebalanceTimeoutMs,
            sessionTimeoutMs: m.sessionTimeoutMs,
            subscription: m.metadata(protocol),
            assignment: assignments.get(m.memberId) ?? EMPTY_BYTES,
          })),
  };
}

/**
 * A group rebuilt from its record: Stable with its members (who stay only if they heartbeat),
 * or Empty. Members come back with the one protocol the group had chosen, as in Kafka.
 */
export function groupFromStored(groupId: string, stored: StoredGroup, nowMs: number): ClassicGroup {
  const protocol = stored.protocolName;
  const hasMembers = stored.members.length > 0 && protocol !== null;
  const group = new ClassicGroup(groupId, nowMs, hasMembers ? "Stable" : "Empty");
  group.generationId = stored.generationId;
  group.protocolType = stored.protocolType === "" ? null : stored.protocolType;
  group.stateTimestampMs = stored.stateTimestampMs;
  if (hasMembers) {
    group.protocolName = protocol;
    for (const m of stored.members) {
      const member = new ClassicGroupMember({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        protocolType: stored.protocolType,
        protocols: [{ name: protocol, metadata: m.subscription }],
        assignment: m.assignment,
      });
      group.add(member, null);
    }
    if (stored.leaderId !== null && group.has(stored.leaderId)) group.leaderId = stored.leaderId;
  }
  group.subscribedTopics = group.computeSubscribedTopics();
  return group;
}
