// The control plane's state machine: runs the clusters and links a topology declares, moves
// from one topology to the next (reconcile) without touching what did not change, samples
// links once a second, and stops everything cleanly.
import type { Logger } from "../util/logger.ts";
import type { BacklogProgress } from "./backlog.ts";
import { ClusterRuntime } from "./cluster-runtime.ts";
import { LinkRuntime } from "./link-runtime.ts";
import { planReconcile, type ReconcilePlan } from "./reconcile-plan.ts";
import type { Topology } from "./topology-schema.ts";

export interface ControlPlaneOptions {
  logger: Logger;
  /** Called after each sample for every link working through a backlog. */
  onBacklog?: (link: string, progress: BacklogProgress) => void;
  sampleIntervalMs?: number;
  /** How often external clusters are probed. */
  probeIntervalMs?: number;
}

export interface ApplyOutcome {
  plan: ReconcilePlan;
  /** Clusters that failed to start, with why. */
  failed: { cluster: string; error: string }[];
}

export class ControlPlane {
  readonly clusters = new Map<string, ClusterRuntime>();
  readonly links = new Map<string, LinkRuntime>();
  topology: Topology | undefined;
  /** The last topology that failed validation or reconciliation, with why. */
  lastError: { at: string; message: string } | undefined;
  appliedAt: string | undefined;
  readonly startedAt = Date.now();
  readonly #options: ControlPlaneOptions;
  readonly #timers: NodeJS.Timeout[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(options: ControlPlaneOptions) {
    this.#options = options;
    const sample = setInterval(() => this.#sample(), options.sampleIntervalMs ?? 1_000);
    const probe = setInterval(() => this.#probe(), options.probeIntervalMs ?? 5_000);
    this.#timers.push(sample, probe);
  }

  /** The control plane's logger (routes that start links log through it). */
  get logger(): Logger {
    return this.#options.logger;
  }

  /** Moves to `next`; calls are serialised. Resolves once clusters run and links have tried to start. */
  apply(next: Topology): Promise<ApplyOutcome> {
    const run = this.#queue.then(() => this.#apply(next));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #apply(next: Topology): Promise<ApplyOutcome> {
    if (this.#stopped) throw new Error("the control plane is stopped");
    const log = this.#options.logger;
    const plan = planReconcile(this.topology, next);
    const failed: ApplyOutcome["failed"] = [];
    // Links stop before the clusters under them.
    const stoppingClusters = new Set(plan.stopClusters);
    const linksToStop = new Set(plan.stopLinks);
    for (const [name, l] of this.links) {
      if (stoppingClusters.has(l.spec.source) || stoppingClusters.has(l.spec.target)) linksToStop.add(name);
    }
    await Promise.all(
      [...linksToStop].map(async (name) => {
        const l = this.links.get(name);
        this.links.delete(name);
        await l?.stop();
        log.info("link stopped", { link: name });
      }),
    );
    await Promise.all(
      plan.stopClusters.map(async (name) => {
        const c = this.clusters.get(name);
        this.clusters.delete(name);
        await c?.stop();
        log.info("cluster stopped", { cluster: name });
      }),
    );
    await Promise.all(
      plan.startClusters.map(async (name) => {
        const spec = next.clusters[name];
        if (spec === undefined) return;
        try {
          const c = await ClusterRuntime.start(name, spec, log);
          this.clusters.set(name, c);
          log.info("cluster ready", { cluster: name, type: spec.type, bootstrap: c.bootstrap });
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          failed.push({ cluster: name, error });
          log.error("cluster cannot start", { cluster: name, error });
        }
      }),
    );
    this.topology = next;
    this.appliedAt = new Date().toISOString();
    for (const name of [...plan.refilterLinks, ...plan.repauseLinks, ...plan.unchangedLinks]) {
      const spec = next.links[name];
      if (spec !== undefined) this.links.get(name)?.update(spec);
    }
    for (const name of plan.refilterLinks) log.info("link filters changed", { link: name });
    // Links stopped because their cluster restarted start again too.
    const toStart = new Set([
      ...plan.startLinks,
      ...[...linksToStop].filter((n) => next.links[n] !== undefined),
    ]);
    const starting: Promise<void>[] = [];
    for (const name of toStart) {
      const spec = next.links[name];
      if (spec === undefined) continue;
      const runtime = new LinkRuntime(
        name,
        spec,
        (c) => this.#bootstrapOf(c),
        log.child({ link: name }),
        (c) => this.clusters.get(c)?.clientOptions ?? {},
      );
      this.links.set(name, runtime);
      starting.push(runtime.started);
    }
    await Promise.all(starting);
    if (failed.length > 0) {
      this.lastError = {
        at: new Date().toISOString(),
        message: failed.map((f) => `cluster ${f.cluster}: ${f.error}`).join("; "),
      };
    }
    return { plan, failed };
  }

  #bootstrapOf(cluster: string): string {
    const c = this.clusters.get(cluster);
    if (c === undefined) throw new Error(`cluster '${cluster}' is not running`);
    return c.bootstrap;
  }

  #sample(): void {
    const now = Date.now();
    for (const l of this.links.values()) {
      l.sample(now);
      const progress = l.backlog.progress;
      // While paused the backlog only grows; progress is shown once the link works on it.
      if (progress !== undefined && l.link?.paused !== true) this.#options.onBacklog?.(l.name, progress);
    }
  }

  #probe(): void {
    for (const c of this.clusters.values()) void c.probe();
  }

  /** True once a topology is applied, every cluster is up and every link has started. */
  get ready(): boolean {
    if (this.topology === undefined) return false;
    for (const name of Object.keys(this.topology.clusters)) {
      if (this.clusters.get(name)?.state !== "up") return false;
    }
    for (const l of this.links.values()) if (l.link === undefined) return false;
    return true;
  }

  /** Stops every link, then every cluster. */
  stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    const run = this.#queue.then(async () => {
      await Promise.all([...this.links.values()].map((l) => l.stop()));
      this.links.clear();
      await Promise.all([...this.clusters.values()].map((c) => c.stop()));
      this.clusters.clear();
    });
    this.#queue = run;
    return run;
  }
}
