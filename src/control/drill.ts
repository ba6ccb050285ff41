// DR drills on embedded clusters: two Ferry brokers as child processes, a mirror link between
// them, sequence-numbered acks=all load and a consumer group on the primary; then a planned
// switchover, or a `kill -9` of the primary and a forced failover, or that and a failback.
// Every record is accounted for by its sequence number: what was acknowledged and lost (RPO),
// how long until producing and consuming worked on DR (RTO), what was consumed twice or never.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Admin } from "../client/admin.ts";
import { listOffsets, OffsetSpec } from "../client/offsets.ts";
import { Link } from "../link/link.ts";
import { createLogger, silentLogger, type Logger } from "../util/logger.ts";
import { spawnDrillBroker, type DrillBroker } from "./drill-brokers.ts";
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
  /** dr/failback: records the group processed on the primary after the link's last group offset sync: they are read again on DR. */
  groupSyncWindow: number | null;
  failoverMs: number;
  divergedRecords: number | null;
  failover: FailoverReport;
  failback: FailbackReport | null;
}

const TOPIC = "drill.orders";
const GROUP = "drill-consumers";
const LINK = "drill";
const FAST_TUNING = {
  topicsIntervalMs: 200,
  groupsIntervalMs: 100,
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

async function logEnds(bootstrap: string, partitions: number): Promise<number[]> {
  const c = drillCluster(bootstrap, "drill-check");
  try {
    const a = await listOffsets(
      c,
      Array.from({ length: partitions }, (_, partition) => ({
        topic: TOPIC,
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
  bootstrap: string,
  topic: string,
  partitions: number,
  from?: number[],
): Promise<Map<number, number>> {
  const c = drillCluster(bootstrap, "drill-check");
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
      for (const r of await readRange(c, topic, p, from?.[p] ?? 0, Number(ends[p]?.offset ?? 0n))) {
        const seq = Number(r.value?.toString() ?? "NaN");
        if (Number.isInteger(seq)) out.set(seq, (out.get(seq) ?? 0) + 1);
      }
    }
  } finally {
    await c.close();
  }
  return out;
}

/** Runs one drill end to end on fresh brokers in a temp directory, and removes them. */
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const log = options.logger ?? createLogger({ level: "warn" });
  const partitions = options.partitions ?? 2;
  const nConsumers = options.consumers ?? 2;
  const dir = await mkdtemp(join(tmpdir(), "ferry-drill-"));
  const brokers: DrillBroker[] = [];
  const links: Link[] = [];
  let producer: SeqProducer | undefined;
  let consumers: DrillConsumer[] = [];
  try {
    const primary = await spawnDrillBroker("primary", join(dir, "primary"));
    brokers.push(primary);
    const dr = await spawnDrillBroker("dr", join(dir, "dr"));
    brokers.push(dr);
    const setup = drillCluster(primary.bootstrap, "drill-setup");
    await new Admin(setup).createTopics([{ name: TOPIC, numPartitions: partitions, replicationFactor: -1 }]);
    await setup.close();
    const link = await Link.start({
      name: LINK,
      source: primary.bootstrap,
      target: dr.bootstrap,
      filters: { topics: "drill\\..*", groups: GROUP },
      tuning: FAST_TUNING,
      // A DR link gives up on an unreachable source quickly, so stopping it at a failover is quick too.
      sourceClient: { retries: 2, retryBackoffMs: 50, retryBackoffMaxMs: 200, connectTimeoutMs: 1_000 },
      logger: silentLogger,
    });
    links.push(link);
    const consumed = new ConsumedLog();
    consumers = await startConsumers(
      primary.bootstrap,
      "primary",
      nConsumers,
      GROUP,
      TOPIC,
      partitions,
      consumed,
    );
    producer = new SeqProducer(drillCluster(primary.bootstrap, "drill-producer"), "primary", {
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
      linkLagAtKill = 0;
      for (const r of link.replicas) {
        written.set(r.partition, r.writtenOffset);
        linkLagAtKill += r.lag;
      }
      await primary.kill9();
      failureAt = Date.now();
      const acked = producer.ackedEnds("primary");
      unreplicatedAtKill = 0;
      for (const [p, end] of acked) unreplicatedAtKill += Math.max(0, end - (written.get(p) ?? 0));
      await Promise.all(consumers.map((c) => c.halt()));
      const processed = new Map<number, number>();
      for (const c of consumers) for (const [p, o] of c.positions) processed.set(p, o);
      void Promise.all(consumers.map((c) => c.close()));
      report = await failover({
        link: LINK,
        target: dr.bootstrap,
        source: primary.bootstrap,
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
      for (const p of report.partitions) {
        const pos = Math.min(processed.get(p.partition) ?? 0, p.replicatedEnd);
        groupSyncWindow += Math.max(0, pos - (synced.get(p.partition) ?? 0));
      }
    }
    // Applications move to DR.
    await producer.switchTo(drillCluster(dr.bootstrap, "drill-producer"), "dr");
    producer.resume();
    consumers = await startConsumers(dr.bootstrap, "dr", nConsumers, GROUP, TOPIC, partitions, consumed);
    const firstAck = (): number | undefined => producer?.firstAckAt.get("dr");
    await until("a produce on DR", () => firstAck() !== undefined);
    const sentBefore = producer.sent;
    await until("load on DR", () => (producer?.sent ?? 0) >= sentBefore + (options.afterRecords ?? 300));
    await until("a consume on DR", () => consumed.firstAt.has("dr"));
    const rtoProduceMs = (firstAck() ?? failureAt) - failureAt;
    const rtoConsumeMs = (consumed.firstAt.get("dr") ?? failureAt) - failureAt;
    let final = dr;
    let finalName = "dr";
    let fb: FailbackReport | null = null;
    let divergedKept: boolean | null = null;

    if (options.scenario === "failback") {
      await primary.restart();
      // What the old primary has past the divergence points, read before failback changes anything.
      const divergence = report.partitions.map((p) => p.replicatedEnd);
      const onOld = await seqsIn(primary.bootstrap, TOPIC, partitions, divergence);
      fb = await failback({ link: LINK, oldPrimary: primary.bootstrap, current: dr.bootstrap, logger: log });
      const side = await seqsIn(
        dr.bootstrap,
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
        tuning: FAST_TUNING,
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
        groups: (g) => g === GROUP,
        stopLink: () => reverse.stop(),
        logger: log,
      });
      await producer.switchTo(drillCluster(primary.bootstrap, "drill-producer"), "primary-again");
      producer.resume();
      consumers = await startConsumers(
        primary.bootstrap,
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
      finalName = "primary-again";
    }

    // Drain: producing stops, the group reads to the end of the final log.
    await producer.pause();
    const ends = await logEnds(final.bootstrap, partitions);
    await until(`the group to reach the end of the log on ${finalName}`, () =>
      ends.every((e, p) => consumers.some((c) => (c.positions.get(p) ?? -1) >= e)),
    );
    await Promise.all(consumers.map((c) => c.close()));
    consumers = [];
    const stored = await seqsIn(final.bootstrap, TOPIC, partitions);
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
      failoverMs: report.durationMs,
      divergedRecords: fb?.divergedRecords ?? null,
      failover: report,
      failback: fb,
    };
  } finally {
    await Promise.allSettled(consumers.map((c) => c.close()));
    await producer?.stop().catch(() => undefined);
    await Promise.allSettled(links.map((l) => l.stop()));
    await Promise.allSettled(brokers.map((b) => b.kill9()));
    await rm(dir, { recursive: true, force: true });
  }
}
