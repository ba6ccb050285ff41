// DR drills: two clusters (Ferry brokers as child processes, or a topology link's clusters, see
// drill-clusters.ts), a link between them, sequence-numbered acks=all load and a consumer group
// on the primary; then a planned switchover, or a `kill -9` of the primary and a forced
// failover, or that and a failback.
// Every record is accounted for by its sequence number: what was acknowledged and lost (RPO),
// how long until producing and consuming worked on DR (RTO), what was consumed twice or never.
import { Admin } from "../client/admin.ts";
import { listOffsets, OffsetSpec } from "../client/offsets.ts";
import { Link } from "../link/link.ts";
import { createLogger, silentLogger, type Logger } from "../util/logger.ts";
import { DRILL_GROUP, temporaryClusters, type DrillClusters, type DrillNode } from "./drill-clusters.ts";
import { ConsumedLog, drillCluster, SeqProducer, startConsumers, type DrillConsumer } from "./drill-load.ts";
import { failback, type FailbackReport } from "./failback.ts";
import { failover, type FailoverReport } from "./failover.ts";
import { readRange } from "./failover-state.ts";

export const DRILL_SCENARIOS = ["dr", "switchover", "failback"] as const;
export type DrillScenario = (typeof DRILL_SCENARIOS)[number];

export interface DrillOptions {
  scenario: DrillScenario;
  /** How long the load runs on the primary before the switch (default 1500 ms). */
  loadMs?: number;
  /** Records produced on the new primary after the switch (default 300). */
  afterRecords?: number;
  partitions?: number;
  consumers?: number;
  logger?: Logger;
  /** Where the drill runs (default temporaryClusters: two fresh brokers in a temp directory). */
  clusters?: () => Promise<DrillClusters>;
}

/** A drill's measurements. The first six fields are the stable ones. */
export interface DrillReport {
  scenario: DrillScenario;
  /** Records acknowledged by the primary before the failure and missing on the final primary. */
  rpoRecords: number;
  /** Age at the failure of the oldest such record (ms). */
  rpoMs: number;
  /** From the failure to the first acknowledged produce and the first consumed record on DR (the later). */
  rtoMs: number;
  /** Records the group processed more than once (beyond copies in the log itself). */
  duplicates: number;
  /** Records in the final log the group never processed. */
  skipped: number;
  /** failback: every record the old primary had past the divergence point is in the side topic; else null. */
  divergedKept: boolean | null;
  rtoProduceMs: number;
  rtoConsumeMs: number;
  acknowledged: number;
  consumed: number;
  /** Records stored twice in the final log (a batch in flight at the failure, sent again). */
  logDuplicates: number;
  /** dr/failback: acknowledged records the link had not written to DR just before the kill (bounds rpoRecords). */
  unreplicatedAtKill: number | null;
  /** dr/failback: the link's own lag (records) just before the kill. */
  linkLagAtKill: number | null;
  /** dr/failback: records the group processed on the primary beyond the offsets DR held for it after the failover: they are read again on DR. */
  groupSyncWindow: number | null;
  /**
   * dr/failback: records the group processed on the primary beyond the newest offset commit the
   * link had copied just before the kill (read from __consumer_offsets, with the records it points
   * at written to DR). Bounds groupSyncWindow: DR holds at least what the link had copied.
   */
  groupCommitsUncopiedAtKill: number | null;
  /** dr/failback: how the link was copying group offsets at the kill ("tailing": the __consumer_offsets stream). */
  groupCommitStream: string | null;
  /** dr/failback: of groupSyncWindow, records whose commit the primary never acknowledged (in flight at the kill): no link can copy those. */
  uncommittedAtKill: number | null;
  failoverMs: number;
  divergedRecords: number | null;
  failover: FailoverReport;
  failback: FailbackReport | null;
  /** What the drill ran on. */
  setup: string;
  /** What the drill created on a topology's clusters and could not remove (empty: nothing left). */
  leftOver: string[];
}

const GROUP = DRILL_GROUP;
// Group offsets travel in the link's __consumer_offsets stream; its polling backstop keeps the
// default interval, so the drill measures the stream.
const FAST_TUNING = {
  topicsIntervalMs: 200,
  configsIntervalMs: 5_000,
  checkpointIntervalMs: 100,
  fetchMaxWaitMs: 50,
  errorBackoffMs: 100,
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`drill: timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function logEnds(node: DrillNode, topic: string, partitions: number): Promise<number[]> {
  const c = drillCluster(node.bootstrap, "drill-check", node.client);
  try {
    const a = await listOffsets(
      c,
      Array.from({ length: partitions }, (_, partition) => ({
        topic,
        partition,
        timestamp: OffsetSpec.LATEST,
      })),
    );
    return a.map((x) => Number(x.offset));
  } finally {
    await c.close();
  }
}

/** Sequence numbers in a topic's partitions, with how often each is stored. */
async function seqsIn(
  node: DrillNode,
  topic: string,
  partitions: number,
  from?: number[],
): Promise<Map<number, number>> {
  const c = drillCluster(node.bootstrap, "drill-check", node.client);
  const out = new Map<number, number>();
  try {
    const ends = await listOffsets(
      c,
      Array.from({ length: partitions }, (_, partition) => ({
        topic,
        partition,
        timestamp: OffsetSpec.LATEST,
      })),
    );
    for (let p = 0; p < partitions; p++) {
      const range = await readRange(c, topic, p, from?.[p] ?? 0, Number(ends[p]?.offset ?? 0n));
      for (const r of range.records) {
        const seq = Number(r.value?.toString() ?? "NaN");
        if (Number.isInteger(seq)) out.set(seq, (out.get(seq) ?? 0) + 1);
      }
    }
  } finally {
    await c.close();
  }
  return out;
}

/** Runs one drill end to end (default on fresh brokers in a temp directory), and cleans up. */
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const log = options.logger ?? createLogger({ level: "warn" });
  const partitions = options.partitions ?? 2;
  const nConsumers = options.consumers ?? 2;
  const env = await (options.clusters ?? temporaryClusters)();
  const { primary, dr } = env;
  const TOPIC = env.topic;
  const LINK = env.link.name;
  // A prefixed link's copy has another name; failovers touch the drill's topic only.
  const drTopic = env.link.prefix + TOPIC;
  const onlyTopic = (name: string): { test: (t: string) => boolean } => ({ test: (t) => t === name });
  const leftOver: string[] = [];
  const links: Link[] = [];
  let producer: SeqProducer | undefined;
  let consumers: DrillConsumer[] = [];
  try {
    const setup = drillCluster(primary.bootstrap, "drill-setup", primary.client);
    await new Admin(setup).createTopics([{ name: TOPIC, numPartitions: partitions, replicationFactor: -1 }]);
    await setup.close();
    const link = await Link.start({
      name: LINK,
      source: primary.bootstrap,
      target: dr.bootstrap,
      filters: { topics: TOPIC.replace(/\./g, "\\."), groups: GROUP },
      prefix: env.link.prefix,
      mode: env.link.mode,
      tuning: { ...FAST_TUNING, ...env.link.tuning },
      // A DR link gives up on an unreachable source quickly, so stopping it at a failover is quick too.
      sourceClient: {
        ...primary.client,
        retries: 2,
        retryBackoffMs: 50,
        retryBackoffMaxMs: 200,
        connectTimeoutMs: 1_000,
      },
      targetClient: dr.client,
      logger: silentLogger,
    });
    links.push(link);
    const consumed = new ConsumedLog();
    consumers = await startConsumers(primary, "primary", nConsumers, GROUP, TOPIC, partitions, consumed);
    producer = new SeqProducer(drillCluster(primary.bootstrap, "drill-producer", primary.client), "primary", {
      topic: TOPIC,
      partitions,
      perBatch: 10,
      intervalMs: 5,
    });
    producer.start();
    await sleep(options.loadMs ?? 1_500);
    await until("load on the primary", () => (producer?.acks.size ?? 0) > 0);

    let failureAt: number;
    let report: FailoverReport;
    let unreplicatedAtKill: number | null = null;
    let linkLagAtKill: number | null = null;
    let groupSyncWindow: number | null = null;
    let groupCommitsUncopiedAtKill: number | null = null;
    let groupCommitStream: string | null = null;
    let uncommittedAtKill: number | null = null;
    if (options.scenario === "switchover") {
      // Planned: applications stop, the link drains, then the switch.
      failureAt = Date.now();
      await producer.pause();
      await Promise.all(consumers.map((c) => c.halt()));
      await Promise.all(consumers.map((c) => c.close()));
      report = await failover({
        link: LINK,
        target: dr.bootstrap,
        source: primary.bootstrap,
        sourceClient: primary.client,
        targetClient: dr.client,
        topics: onlyTopic(TOPIC),
        groups: (g) => g === GROUP,
        stopLink: () => link.stop(),
        logger: log,
      });
    } else {
      if (options.scenario === "failback") {
        // A link that has fallen behind (paused) at the kill, so that the old primary holds records DR never got.
        link.pause();
        await sleep(300);
      }
      // The link's own position just before the kill; acknowledgements are read after it (none come later).
      const written = new Map<number, number>();
      // The newest group offset the link had copied (its data on DR too), per partition.
      const commitCopied = new Map<number, number>();
      linkLagAtKill = 0;
      for (const r of link.replicas) {
        written.set(r.partition, r.writtenOffset);
        linkLagAtKill += r.lag;
        const c = link.commitRelay.covered(GROUP, r.sourceTopic, r.partition);
        if (c !== undefined) commitCopied.set(r.partition, c);
      }
      groupCommitStream = link.offsetStream.state;
      await primary.kill9();
      failureAt = Date.now();
      const acked = producer.ackedEnds("primary");
      unreplicatedAtKill = 0;
      for (const [p, end] of acked) unreplicatedAtKill += Math.max(0, end - (written.get(p) ?? 0));
      await Promise.all(consumers.map((c) => c.halt()));
      const processed = new Map<number, number>();
      const acknowledged = new Map<number, number>();
      for (const c of consumers) for (const [p, o] of c.positions) processed.set(p, o);
      for (const c of consumers) for (const [p, o] of c.committed) acknowledged.set(p, o);
      void Promise.all(consumers.map((c) => c.close()));
      report = await failover({
        link: LINK,
        target: dr.bootstrap,
        source: primary.bootstrap,
        sourceClient: primary.client,
        targetClient: dr.client,
        topics: onlyTopic(TOPIC),
        force: true,
        sourceTimeoutMs: 1_000,
        groups: (g) => g === GROUP,
        stopLink: () => link.stop(),
        logger: log,
      });
      const synced = new Map<number, number>();
      for (const p of report.groups.find((g) => g.group === GROUP)?.partitions ?? [])
        synced.set(p.partition, p.after);
      groupSyncWindow = 0;
      groupCommitsUncopiedAtKill = 0;
      uncommittedAtKill = 0;
      for (const p of report.partitions) {
        const pos = Math.min(processed.get(p.partition) ?? 0, p.replicatedEnd);
        const ack = Math.min(acknowledged.get(p.partition) ?? 0, p.replicatedEnd);
        uncommittedAtKill += Math.max(0, pos - Math.max(ack, synced.get(p.partition) ?? 0));
        groupSyncWindow += Math.max(0, pos - (synced.get(p.partition) ?? 0));
        groupCommitsUncopiedAtKill += Math.max(0, pos - (commitCopied.get(p.partition) ?? 0));
      }
    }
    // Applications move to DR.
    await producer.switchTo(drillCluster(dr.bootstrap, "drill-producer", dr.client), "dr", drTopic);
    producer.resume();
    consumers = await startConsumers(dr, "dr", nConsumers, GROUP, drTopic, partitions, consumed);
    const firstAck = (): number | undefined => producer?.firstAckAt.get("dr");
    await until("a produce on DR", () => firstAck() !== undefined);
    const sentBefore = producer.sent;
    await until("load on DR", () => (producer?.sent ?? 0) >= sentBefore + (options.afterRecords ?? 300));
    await until("a consume on DR", () => consumed.firstAt.has("dr"));
    const rtoProduceMs = (firstAck() ?? failureAt) - failureAt;
    const rtoConsumeMs = (consumed.firstAt.get("dr") ?? failureAt) - failureAt;
    let final: DrillNode = dr;
    let finalTopic = drTopic;
    let finalName = "dr";
    let fb: FailbackReport | null = null;
    let divergedKept: boolean | null = null;

    if (options.scenario === "failback") {
      await primary.restart();
      // What the old primary has past the divergence points, read before failback changes anything.
      const divergence = report.partitions.map((p) => p.replicatedEnd);
      const onOld = await seqsIn(primary, TOPIC, partitions, divergence);
      fb = await failback({
        link: LINK,
        oldPrimary: primary.bootstrap,
        oldClient: primary.client,
        current: dr.bootstrap,
        currentClient: dr.client,
        logger: log,
      });
      const side = await seqsIn(
        dr,
        fb.partitions.find((p) => p.sideTopic !== null)?.sideTopic ?? TOPIC,
        partitions,
      );
      divergedKept =
        fb.divergedKept &&
        [...onOld.keys()].every(
          (s) => (fb?.partitions.some((p) => p.sideTopic !== null) ?? false) && side.has(s),
        );
      const reverse = await Link.start({
        name: fb.reverseLink.name,
        source: fb.reverseLink.source,
        target: fb.reverseLink.target,
        filters: { topics: fb.reverseLink.topics, groups: GROUP },
        prefix: fb.reverseLink.prefix,
        stripPrefix: fb.reverseLink.stripPrefix,
        mode: fb.reverseLink.mode,
        tuning: { ...FAST_TUNING, ...env.link.tuning },
        sourceClient: dr.client,
        targetClient: primary.client,
        logger: silentLogger,
      });
      links.push(reverse);
      // Planned switch back: applications stop, the reverse link drains, then the switch.
      await producer.pause();
      await Promise.all(consumers.map((c) => c.halt()));
      await Promise.all(consumers.map((c) => c.close()));
      await failover({
        link: fb.reverseLink.name,
        target: primary.bootstrap,
        source: dr.bootstrap,
        sourceClient: dr.client,
        targetClient: primary.client,
        topics: onlyTopic(drTopic),
        groups: (g) => g === GROUP,
        stopLink: () => reverse.stop(),
        logger: log,
      });
      await producer.switchTo(
        drillCluster(primary.bootstrap, "drill-producer", primary.client),
        "primary-again",
        TOPIC,
      );
      producer.resume();
      consumers = await startConsumers(
        primary,
        "primary-again",
        nConsumers,
        GROUP,
        TOPIC,
        partitions,
        consumed,
      );
      const again = producer.sent;
      await until("load after the switch back", () => (producer?.sent ?? 0) >= again + 100);
      final = primary;
      finalTopic = TOPIC;
      finalName = "primary-again";
    }

    // Drain: producing stops, the group reads to the end of the final log.
    await producer.pause();
    const ends = await logEnds(final, finalTopic, partitions);
    await until(`the group to reach the end of the log on ${finalName}`, () =>
      ends.every((e, p) => consumers.some((c) => (c.positions.get(p) ?? -1) >= e)),
    );
    await Promise.all(consumers.map((c) => c.close()));
    consumers = [];
    const stored = await seqsIn(final, finalTopic, partitions);
    let rpoRecords = 0;
    let oldestLost = Infinity;
    for (const [seq, a] of producer.acks) {
      if (a.cluster !== "primary" || a.at > failureAt) continue;
      if (!stored.has(seq)) {
        rpoRecords++;
        oldestLost = Math.min(oldestLost, a.at);
      }
    }
    let duplicates = 0;
    let consumedTotal = 0;
    for (const [seq, n] of consumed.counts) {
      consumedTotal += n;
      duplicates += Math.max(0, n - Math.max(1, stored.get(seq) ?? 0));
    }
    let skipped = 0;
    let logDuplicates = 0;
    for (const [seq, n] of stored) {
      if (!consumed.counts.has(seq)) skipped++;
      logDuplicates += n - 1;
    }
    return {
      scenario: options.scenario,
      rpoRecords,
      rpoMs: rpoRecords === 0 ? 0 : failureAt - oldestLost,
      rtoMs: Math.max(rtoProduceMs, rtoConsumeMs),
      duplicates,
      skipped,
      divergedKept,
      rtoProduceMs,
      rtoConsumeMs,
      acknowledged: producer.acks.size,
      consumed: consumedTotal,
      logDuplicates,
      unreplicatedAtKill,
      linkLagAtKill,
      groupSyncWindow,
      groupCommitsUncopiedAtKill,
      groupCommitStream,
      uncommittedAtKill,
      failoverMs: report.durationMs,
      divergedRecords: fb?.divergedRecords ?? null,
      failover: report,
      failback: fb,
      setup: env.setup,
      leftOver,
    };
  } finally {
    await Promise.allSettled(consumers.map((c) => c.close()));
    await producer?.stop().catch(() => undefined);
    await Promise.allSettled(links.map((l) => l.stop()));
    leftOver.push(...(await env.close()));
  }
}
