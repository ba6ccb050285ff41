// Static membership (KIP-345): a member with a group.instance.id that restarts and rejoins
// without its member id takes over its old place under a new id, fencing the old one. In a
// Stable group whose protocol choice does not change it keeps its assignment, with no
// rebalance, once the new member id is durable.
import type { Logger } from "../../util/logger.ts";
import type { ClassicGroup } from "./group.ts";
import { storedGroup } from "./group-records.ts";
import type { GroupRecord, GroupWriter } from "./group-store.ts";
import type { JoinParams } from "./group-manager.ts";
import { joinError, type JoinOutcome } from "./member.ts";
import { generationOutcome, type Rebalancer } from "./rebalance.ts";
import { groupWriteErrorCode } from "./write-errors.ts";

export interface StaticMemberDeps {
  rebalance: Rebalancer;
  writer: GroupWriter;
  logger: Logger;
}

export function replaceStaticMember(
  deps: StaticMemberDeps,
  group: ClassicGroup,
  p: JoinParams,
  ids: { oldMemberId: string; newMemberId: string },
  resolve: (o: JoinOutcome) => void,
): void {
  const { rebalance } = deps;
  const { oldMemberId, newMemberId } = ids;
  const instanceId = p.groupInstanceId ?? "";
  const previousLeader = group.leaderId;
  const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
  rebalance.cancelHeartbeat(group.groupId, oldMemberId);
  rebalance.scheduleHeartbeat(group.groupId, newMemberId, member.sessionTimeoutMs);
  const old = {
    protocols: member.protocols,
    rebalance: member.rebalanceTimeoutMs,
    session: member.sessionTimeoutMs,
  };
  group.updateMember(member, p.protocols, p.rebalanceTimeoutMs, p.sessionTimeoutMs, resolve);

  if (group.is("CompletingRebalance")) {
    // The leader may be assigning to the old id right now; only a new round is safe.
    rebalance.prepareRebalance(group, `static member ${instanceId} rejoined during CompletingRebalance`);
    return;
  }
  if (!group.is("Stable")) return rebalance.maybeCompleteJoinPhase(group);
  if (group.protocolName !== group.selectProtocol()) {
    rebalance.maybePrepareRebalanceOrCompleteJoin(
      group,
      `static member ${instanceId} changed the group protocol`,
    );
    return;
  }
  const record: GroupRecord = {
    kind: "group",
    groupId: group.groupId,
    value: storedGroup(group, new Map(group.members().map((m) => [m.memberId, m.assignment]))),
  };
  void deps.writer.write([record], (err) => {
    if (err !== null) {
      deps.logger.warn("could not persist static member replacement", {
        group: group.groupId,
        error: err.message,
      });
      // Undo, so the old member id (still the durable one) keeps working.
      if (group.staticMemberId(instanceId) === newMemberId) {
        group.updateMember(member, old.protocols, old.rebalance, old.session, null);
        group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
        rebalance.cancelHeartbeat(group.groupId, newMemberId);
        rebalance.scheduleHeartbeat(group.groupId, oldMemberId, member.sessionTimeoutMs);
      }
      resolve({
        ...joinError("", groupWriteErrorCode(err)),
        generationId: group.generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leader: previousLeader ?? "",
      });
    } else if (p.supportSkippingAssignment) {
      // v9+: a returning static leader learns it leads but must not reassign a stable group.
      const isLeader = group.isLeader(newMemberId);
      group.completeJoin(member, generationOutcome(group, member, isLeader, isLeader));
    } else {
      // Before v9, answering with the old leader id keeps a returning leader from running an
      // assignment that a stable group would ignore.
      group.completeJoin(member, {
        ...generationOutcome(group, member, false),
        leader: previousLeader ?? "",
      });
    }
  });
}
