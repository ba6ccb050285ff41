// Partition assignors for the classic consumer group protocol, as in Kafka's consumer: "range"
// (per topic, contiguous ranges in member order) and "roundrobin" (all partitions dealt in turn).
// The group member (group-member.ts) runs one on the leader before SyncGroup.

export interface AssignorMember {
  memberId: string;
  /** Topics the member subscribed to. */
  topics: readonly string[];
}

/** Per member: topic → partitions. */
export type Assignment = Map<string, Map<string, number[]>>;

export interface Assignor {
  /** The protocol name sent in JoinGroup. */
  readonly name: string;
  assign(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): Assignment;
}

function emptyAssignment(members: readonly AssignorMember[]): Assignment {
  return new Map(members.map((m) => [m.memberId, new Map<string, number[]>()]));
}

function add(assignment: Assignment, memberId: string, topic: string, partition: number): void {
  const byTopic = assignment.get(memberId);
  if (byTopic === undefined) return;
  let list = byTopic.get(topic);
  if (list === undefined) byTopic.set(topic, (list = []));
  list.push(partition);
}

/** Kafka's RangeAssignor: each topic's partitions split into contiguous ranges, earlier members get one more. */
export const rangeAssignor: Assignor = {
  name: "range",
  assign(members, partitionCounts) {
    const assignment = emptyAssignment(members);
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    for (const topic of topics) {
      const count = partitionCounts.get(topic) ?? 0;
      const subscribers = members
        .filter((m) => m.topics.includes(topic))
        .map((m) => m.memberId)
        .sort();
      const per = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      subscribers.forEach((memberId, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        for (let p = start; p < start + length; p++) add(assignment, memberId, topic, p);
      });
    }
    return assignment;
  },
};

/** Kafka's RoundRobinAssignor: every topic partition, sorted, dealt to subscribed members in turn. */
export const roundRobinAssignor: Assignor = {
  name: "roundrobin",
  assign(members, partitionCounts) {
    const assignment = emptyAssignment(members);
    const sorted = [...members].sort((a, b) =>
      a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
    );
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    let next = 0;
    for (const topic of topics) {
      const count = partitionCounts.get(topic) ?? 0;
      for (let p = 0; p < count; p++) {
        // Skip members not subscribed to this topic, as Kafka's circular iterator does.
        for (let tries = 0; tries < sorted.length; tries++) {
          const member = sorted[next++ % sorted.length];
          if (member !== undefined && member.topics.includes(topic)) {
            add(assignment, member.memberId, topic, p);
            break;
          }
        }
      }
    }
    return assignment;
  },
};
