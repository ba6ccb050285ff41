// A replication link between two Kafka clusters: the long-running object behind `ferry link`
// and the control plane. It owns both client connections, the topic/config/group sync loops,
// the tail of the source's consumer offsets, one fetch loop per (source leader, mode), and its
// durable state on the target.
import { Admin } from "../client/admin.ts";
import { Cluster, type ClusterOptions } from "../client/cluster.ts";
import { FramePool } from "../net/frame-pool.ts";
import { isFerryBroker } from "../client/mirror-append.ts";
import { IsolationLevel } from "../client/consumer.ts";
import { listOffsets, OffsetSpec } from "../client/offsets.ts";
import { sleep } from "../client/retry.ts";
import { createLogger, type Logger } from "../util/logger.ts";
import { AclSync, type AclSyncOptions } from "./acl-sync.ts";
import { flushCheckpoints } from "./checkpoints.ts";
import { CommitRelay } from "./commit-relay.ts";
import { runFetchLoop } from "./fetch-loop.ts";
import { GroupCommitter } from "./group-commit.ts";
import { syncGroups, type GroupSyncStatus } from "./group-sync.ts";
import { DEFAULT_TUNING, type LinkContext, type LinkTuning } from "./link-context.ts";
import { LinkMetrics } from "./link-metrics.ts";
import { failoverKey, registrationWrite, type LinkRegistration } from "./link-registry.ts";
import { LinkStateStore } from "./link-state-store.ts";
import { LoopGuard } from "./loop-guard.ts";
import { MirrorWriter } from "./mirror-writer.ts";
import { OffsetStream } from "./offset-stream.ts";
import type { PartitionReplica, ReplicaMode } from "./partition-replica.ts";
import {
  newTopicSyncState,
  syncConfigs,
  syncTopics,
  type ModeChoice,
  type TopicSyncState,
} from "./topic-sync.ts";
import { TopicFilter, type LinkFilters } from "./topic-filter.ts";
import { TranslateWriter } from "./translate-writer.ts";

export interface LinkOptions {
  /** Letters, digits, '.', '_' and '-'; identifies the link's state on the target. */
  name: string;
  /** Source bootstrap servers ("host:port,host:port"). */
  source: string | readonly string[];
  target: string | readonly string[];
  filters?: Partial<LinkFilters>;
  /** Prepended to every target topic name (default none: identity naming). */
  prefix?: string;
  /**
   * Removed from every source topic name before `prefix` is added; source topics without it are
   * not copied. A failback's reverse link uses it to map "prefix+topic" back to "topic".
   */
  stripPrefix?: string;
  /** Default auto: mirror topics when the target is a Ferry broker, translation otherwise. */
  mode?: ModeChoice;
  tuning?: Partial<LinkTuning>;
  logger?: Logger;
  /** Extra client settings, e.g. TLS/SASL hooks from client/security-config.ts. */
  sourceClient?: Partial<ClusterOptions>;
  targetClient?: Partial<ClusterOptions>;
  /** ACL sync of the link's topics and groups (default off). */
  acls?: AclSyncOptions;
}

/** A link option that cannot work, named by its field. */
export class LinkConfigError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "LinkConfigError";
    this.field = field;
  }
}

const NAME = /^[A-Za-z0-9._-]{1,200}$/;
const PAUSED_END_REFRESH_MS = 1_000;
/** How often commits waiting for data are looked at besides the data path's wake-ups (replicas becoming ready). */
const COMMIT_RELAY_CHECK_MS = 200;
/** How long a stopping link keeps committing the offsets whose records it copied. */
const COMMIT_DRAIN_MS = 5_000;

export class Link {
  readonly ctx: LinkContext;
  readonly mode: ModeChoice;
  readonly targetIsFerry: boolean;
  readonly topics: TopicSyncState = newTopicSyncState();
  groups: GroupSyncStatus[] = [];
  /** Offset commits read from the source's __consumer_offsets, waiting for their records. */
  readonly commitRelay: CommitRelay;
  readonly offsetStream: OffsetStream;
  /** Why the last polling round of group offsets failed as a whole (e.g. no ListGroups), if it did. */
  groupPollError: string | undefined;
  /** Polling rounds of group offsets completed. */
  groupPollRounds = 0;
  readonly #committer: GroupCommitter;
  readonly #abort: AbortController;
  readonly #loops = new Map<string, Promise<void>>();
  readonly #background: Promise<void>[] = [];
  readonly #mirrorWriter: MirrorWriter;
  readonly #loopGuard: LoopGuard;
  /** Set when ACL sync is on. */
  aclSync: AclSync | undefined;
  #wakeTopics: (() => void) | undefined;
  #wakeGroups: (() => void) | undefined;
  #stopped: Promise<void> | undefined;

  private constructor(
    ctx: LinkContext,
    abort: AbortController,
    mode: ModeChoice,
    targetIsFerry: boolean,
    loopGuard: LoopGuard,
  ) {
    this.ctx = ctx;
    this.#abort = abort;
    this.mode = mode;
    this.targetIsFerry = targetIsFerry;
    this.#mirrorWriter = new MirrorWriter(ctx);
    this.#loopGuard = loopGuard;
    this.#committer = new GroupCommitter(ctx);
    this.commitRelay = new CommitRelay(ctx, this.#committer);
    this.offsetStream = new OffsetStream(ctx, this.commitRelay, () => this.#wakeGroups?.());
    ctx.onCopied = () => this.commitRelay.kick();
  }

  /** Connects to both clusters, reads the link's state, attaches topics and starts copying. */
  static async start(options: LinkOptions): Promise<Link> {
    if (!NAME.test(options.name)) {
      throw new LinkConfigError("name", `'${options.name}' must be 1-200 letters, digits, '.', '_' or '-'`);
    }
    const prefix = options.prefix ?? "";
    if (prefix !== "" && !/^[A-Za-z0-9._-]+$/.test(prefix)) {
      throw new LinkConfigError("prefix", `'${prefix}' may hold only letters, digits, '.', '_' and '-'`);
    }
    const stripPrefix = options.stripPrefix ?? "";
    if (stripPrefix !== "" && !/^[A-Za-z0-9._-]+$/.test(stripPrefix)) {
      throw new LinkConfigError(
        "stripPrefix",
        `'${stripPrefix}' may hold only letters, digits, '.', '_' and '-'`,
      );
    }
    if (stripPrefix !== "" && options.acls?.sync === true) {
      throw new LinkConfigError("stripPrefix", "ACL sync does not rename by a strip prefix; turn one off");
    }
    const filter = new TopicFilter(options.filters);
    let aclSync: AclSync | undefined;
    try {
      aclSync = options.acls?.sync === true ? new AclSync(options.acls) : undefined;
    } catch (e) {
      throw new LinkConfigError(
        "acls.principals",
        `not a valid regular expression (${(e as Error).message})`,
      );
    }
    const logger = (options.logger ?? createLogger()).child({ link: options.name });
    // Fetch answers are read into pooled buffers, given back once written to the target.
    const framePool = new FramePool();
    const source = new Cluster({
      clientId: `ferry-link-${options.name}`,
      ...options.sourceClient,
      bootstrap: options.source,
      framePool,
    });
    const target = new Cluster({
      clientId: `ferry-link-${options.name}`,
      ...options.targetClient,
      bootstrap: options.target,
    });
    try {
      const sourceAdmin = new Admin(source);
      const targetAdmin = new Admin(target);
      const [sourceInfo, targetInfo] = await Promise.all([
        sourceAdmin.describeCluster(),
        targetAdmin.describeCluster(),
      ]);
      const sourceClusterId = sourceInfo.clusterId ?? "unknown-source";
      const targetClusterId = targetInfo.clusterId ?? "unknown-target";
      if (sourceClusterId === targetClusterId && prefix === "" && stripPrefix === "") {
        throw new LinkConfigError(
          "target",
          `source and target are the same cluster (${sourceClusterId}); a link needs a prefix to copy within one cluster`,
        );
      }
      const mode = options.mode ?? "auto";
      const targetIsFerry = await isFerryBroker(target);
      if (mode === "mirror" && !targetIsFerry) {
        throw new LinkConfigError(
          "mode",
          "mirror mode needs a Ferry broker as the target; use auto or translate",
        );
      }
      const [state, sourceState] = await Promise.all([
        LinkStateStore.open(target, targetAdmin),
        LinkStateStore.openReadOnly(source, sourceAdmin),
      ]);
      if (state.get(failoverKey(options.name)) !== undefined) {
        throw new LinkConfigError(
          "name",
          `link ${options.name} was failed over: its target is now the primary (run \`ferry failback ${options.name}\` to reverse it)`,
        );
      }
      const registration: Omit<LinkRegistration, "producerIds"> = {
        name: options.name,
        sourceClusterId,
        targetClusterId,
        prefix,
        ...(stripPrefix === "" ? {} : { stripPrefix }),
      };
      await state.update((current) => [registrationWrite(current, registration)]);
      const abort = new AbortController();
      const loopGuard = new LoopGuard(sourceState);
      const ctx: LinkContext = {
        name: options.name,
        framePool,
        source,
        target,
        sourceAdmin,
        targetAdmin,
        sourceClusterId,
        targetClusterId,
        prefix,
        stripPrefix,
        tuning: { ...DEFAULT_TUNING, ...options.tuning },
        logger,
        metrics: new LinkMetrics(),
        replicas: new Map(),
        state,
        sourceState,
        registration,
        loopGuard,
        signal: abort.signal,
        filter,
        paused: false,
        onCopied: undefined,
      };
      const link = new Link(ctx, abort, mode, targetIsFerry, loopGuard);
      link.aclSync = aclSync;
      await link.#syncTopicsOnce();
      link.#startBackground();
      logger.info("link started", {
        source: sourceClusterId,
        target: targetClusterId,
        mode,
        targetIsFerry,
        prefix,
      });
      return link;
    } catch (e) {
      await Promise.allSettled([source.close(), target.close()]);
      throw e;
    }
  }

  get name(): string {
    return this.ctx.name;
  }

  get filters(): LinkFilters {
    return this.ctx.filter.filters;
  }

  /** Replaces the filters (throws FilterError for a bad pattern, changing nothing); applied at once. */
  setFilters(filters: Partial<LinkFilters>): void {
    this.ctx.filter = new TopicFilter({ ...this.ctx.filter.filters, ...filters });
    this.ctx.logger.info("filters changed", { ...this.ctx.filter.filters });
    this.#wakeTopics?.();
    this.#wakeGroups?.();
  }

  pause(): void {
    this.ctx.paused = true;
  }

  resume(): void {
    this.ctx.paused = false;
  }

  get paused(): boolean {
    return this.ctx.paused;
  }

  get replicas(): PartitionReplica[] {
    return [...this.ctx.replicas.values()];
  }

  /** Stops copying, persists checkpoints, closes connections. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#abort.abort();
    this.#wakeTopics?.();
    await Promise.allSettled([...this.#loops.values(), ...this.#background]);
    // Offset commits whose records reached the target go too: a failover right after this stop reads them.
    await this.commitRelay.drain(COMMIT_DRAIN_MS);
    try {
      await flushCheckpoints(this.ctx);
    } catch (e) {
      this.ctx.logger.warn("final checkpoint failed", { error: (e as Error).message });
    }
    await Promise.allSettled([this.ctx.source.close(), this.ctx.target.close()]);
    this.ctx.logger.info("link stopped");
  }

  async #syncTopicsOnce(): Promise<void> {
    try {
      await syncTopics(this.ctx, this.topics, this.mode, this.targetIsFerry);
    } catch (e) {
      this.ctx.metrics.errors++;
      this.ctx.logger.warn("topic sync failed", { error: (e as Error).message });
    }
    this.#ensureFetchLoops();
  }

  #startBackground(): void {
    const ctx = this.ctx;
    // A wake-up during a run is kept: the task runs again right after, so no request is lost.
    const every = (
      ms: () => number,
      task: () => Promise<void>,
      wake?: (w: () => void) => void,
    ): Promise<void> => {
      let woken = false;
      let wakeNow: (() => void) | undefined;
      wake?.(() => {
        woken = true;
        wakeNow?.();
      });
      return (async () => {
        while (!ctx.signal.aborted) {
          if (!woken) {
            await new Promise<void>((resolve) => {
              const done = (): void => {
                clearTimeout(timer);
                ctx.signal.removeEventListener("abort", done);
                resolve();
              };
              const timer = setTimeout(done, ms());
              ctx.signal.addEventListener("abort", done);
              wakeNow = done;
            });
          }
          woken = false;
          wakeNow = undefined;
          if (ctx.signal.aborted) break;
          await task().catch((e: unknown) => {
            ctx.metrics.errors++;
            ctx.logger.warn("background task failed", { error: (e as Error).message });
          });
        }
      })();
    };
    this.#background.push(
      every(
        () => ctx.tuning.topicsIntervalMs,
        () => this.#syncTopicsOnce(),
        (w) => (this.#wakeTopics = w),
      ),
      every(
        () => ctx.tuning.configsIntervalMs,
        () => syncConfigs(ctx, this.topics),
      ),
      every(
        () => ctx.tuning.groupsIntervalMs,
        async () => {
          if (ctx.filter.filters.groups === "") {
            this.groups = [];
            return;
          }
          try {
            this.groups = await syncGroups(ctx, this.#committer);
            this.groupPollError = undefined;
            this.groupPollRounds++;
          } catch (e) {
            this.groupPollError = (e as Error).message;
            throw e;
          }
        },
        (w) => (this.#wakeGroups = w),
      ),
      this.offsetStream.run().catch((e: unknown) => {
        ctx.metrics.errors++;
        ctx.logger.error("consumer offsets stream failed", { error: (e as Error).message });
      }),
      every(
        () => COMMIT_RELAY_CHECK_MS,
        () => {
          this.commitRelay.kick();
          return Promise.resolve();
        },
      ),
      every(
        () => ctx.tuning.checkpointIntervalMs,
        () => flushCheckpoints(ctx),
      ),
      ...(this.aclSync === undefined
        ? []
        : [
            every(
              () => ctx.tuning.configsIntervalMs,
              () => this.aclSync?.run(ctx) ?? Promise.resolve(),
            ),
          ]),
      every(
        () => PAUSED_END_REFRESH_MS,
        () => this.#refreshPausedEnds(),
      ),
      every(
        () => 100,
        () => {
          this.#ensureFetchLoops();
          return Promise.resolve();
        },
      ),
    );
  }

  /** While paused nothing is fetched; the source ends are still read so lag and RPO keep telling the truth. */
  async #refreshPausedEnds(): Promise<void> {
    if (!this.ctx.paused) return;
    for (const mode of ["mirror", "translate"] as const) {
      const replicas = this.replicas.filter((r) => r.ready && !r.removed && r.mode === mode);
      if (replicas.length === 0) continue;
      const answers = await listOffsets(
        this.ctx.source,
        replicas.map((r) => ({ topic: r.sourceTopic, partition: r.partition, timestamp: OffsetSpec.LATEST })),
        mode === "translate" ? IsolationLevel.READ_COMMITTED : IsolationLevel.READ_UNCOMMITTED,
      );
      answers.forEach((a, i) => {
        const r = replicas[i];
        if (r !== undefined && this.ctx.paused && a.offset >= 0n) r.sourceEnd = Number(a.offset);
      });
    }
  }

  /** One fetch loop per (source leader, mode) that has replicas; loops for gone leaders end by themselves. */
  #ensureFetchLoops(): void {
    if (this.ctx.signal.aborted) return;
    for (const r of this.ctx.replicas.values()) {
      const leader = this.#leaderOf(r);
      const lane = r.partition % this.ctx.tuning.lanes;
      const key = `${leader}/${r.mode}/${lane}`;
      if (this.#loops.has(key)) continue;
      this.#loops.set(key, this.#runLoop(leader, r.mode, lane, key));
    }
  }

  /**
   * One fetch loop per source leader, mode and lane. Lanes split a leader's partitions so that
   * several fetch/write pipelines run at once: a partition stays in one lane, so its batches
   * are still written in order, one write at a time.
   */
  async #runLoop(leader: number, mode: ReplicaMode, lane: number, key: string): Promise<void> {
    const lanes = this.ctx.tuning.lanes;
    const select = (): PartitionReplica[] => {
      const out: PartitionReplica[] = [];
      for (const r of this.ctx.replicas.values())
        if (r.mode === mode && r.partition % lanes === lane && this.#leaderOf(r) === leader) out.push(r);
      return out;
    };
    const translate = mode === "translate" ? new TranslateWriter(this.ctx) : undefined;
    try {
      await runFetchLoop(this.ctx, {
        mode,
        select,
        writer: translate ?? this.#mirrorWriter,
        loopGuard: mode === "translate" ? this.#loopGuard : undefined,
        ...(translate === undefined ? {} : { resync: (r: PartitionReplica) => translate.resync(r) }),
      });
    } catch (e) {
      this.ctx.logger.error("fetch loop failed", { loop: key, error: (e as Error).message });
      await sleep(this.ctx.tuning.errorBackoffMs);
    } finally {
      this.#loops.delete(key);
    }
  }

  #leaderOf(r: PartitionReplica): number {
    return this.ctx.source.cachedMetadata.topics.get(r.sourceTopic)?.partitions[r.partition]?.leader ?? -1;
  }
}
