// One link of the topology as the control plane runs it: starts the Link (retrying while a
// cluster is unreachable), applies filter and pause changes live, and keeps its history and
// backlog progress.
import type { ClusterOptions } from "../client/cluster.ts";
import { Link, type LinkOptions } from "../link/link.ts";
import { linkStatus, type LinkStatus } from "../link/link-status.ts";
import type { Logger } from "../util/logger.ts";
import { BacklogTracker } from "./backlog.ts";
import { LinkHistory } from "./link-history.ts";
import type { LinkSpec } from "./topology-schema.ts";

export type LinkRunState = "starting" | "running" | "down" | "stopped";

/** Resolves a cluster name to its bootstrap servers at the time the link (re)starts. */
export type BootstrapOf = (cluster: string) => string;

/** A cluster's client settings (TLS/SASL hooks) at the time the link (re)starts. */
export type ClientOptionsOf = (cluster: string) => Partial<ClusterOptions>;

const RETRY_MS = 2_000;

export class LinkRuntime {
  readonly name: string;
  spec: LinkSpec;
  link: Link | undefined;
  state: LinkRunState = "starting";
  error: string | undefined;
  attempts = 0;
  readonly history = new LinkHistory();
  readonly backlog = new BacklogTracker();
  /** Paused through the API or the file. */
  userPaused: boolean;
  /** Paused by a simulated outage (the demo's intermittent edge uplink). */
  outage = false;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  readonly #running: Promise<void>;
  #started: () => void = () => undefined;
  readonly started: Promise<void>;

  readonly #clientOptionsOf: ClientOptionsOf;
  /** Naming beyond the spec's prefix: a failback's reverse link strips the forward link's prefix. */
  readonly stripPrefix: string;

  constructor(
    name: string,
    spec: LinkSpec,
    bootstrapOf: BootstrapOf,
    logger: Logger,
    clientOptionsOf: ClientOptionsOf = () => ({}),
    extra: Pick<LinkOptions, "stripPrefix"> = {},
  ) {
    this.#clientOptionsOf = clientOptionsOf;
    this.stripPrefix = extra.stripPrefix ?? "";
    this.name = name;
    this.spec = spec;
    this.userPaused = spec.paused;
    this.#logger = logger;
    this.started = new Promise((resolve) => (this.#started = resolve));
    this.#running = this.#startLoop(bootstrapOf);
  }

  async #startLoop(bootstrapOf: BootstrapOf): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      this.attempts++;
      try {
        const spec = this.spec;
        const link = await Link.start({
          name: this.name,
          source: bootstrapOf(spec.source),
          target: bootstrapOf(spec.target),
          filters: { topics: spec.topics, exclude: spec.exclude, groups: spec.groups },
          prefix: spec.prefix,
          ...(this.stripPrefix === "" ? {} : { stripPrefix: this.stripPrefix }),
          mode: spec.mode,
          sourceClient: this.#clientOptionsOf(spec.source),
          targetClient: this.#clientOptionsOf(spec.target),
          ...(spec.acls === undefined ? {} : { acls: spec.acls }),
          tuning: {
            topicsIntervalMs: spec.intervals.topicsMs,
            groupsIntervalMs: spec.intervals.groupsMs,
            configsIntervalMs: spec.intervals.configsMs,
            checkpointIntervalMs: spec.intervals.checkpointMs,
          },
          logger: this.#logger,
        });
        if (signal.aborted) {
          await link.stop();
          break;
        }
        this.link = link;
        this.state = "running";
        this.error = undefined;
        // The file may have changed while the link was starting.
        this.setFilters(this.spec);
        this.#applyPause();
        this.#started();
        return;
      } catch (e) {
        this.state = "down";
        this.error = e instanceof Error ? e.message : String(e);
        this.#logger.warn("link cannot start; retrying", { error: this.error, attempt: this.attempts });
        this.#started();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RETRY_MS);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
  }

  /** Takes a spec whose only changes are filters, pause or thresholds. */
  update(spec: LinkSpec): void {
    const pausedChanged = spec.paused !== this.spec.paused;
    this.spec = spec;
    this.setFilters(spec);
    if (pausedChanged) {
      this.userPaused = spec.paused;
      this.#applyPause();
    }
  }

  setFilters(spec: Pick<LinkSpec, "topics" | "exclude" | "groups">): void {
    const link = this.link;
    if (link === undefined) return;
    const f = link.filters;
    if (f.topics === spec.topics && f.exclude === spec.exclude && f.groups === spec.groups) return;
    link.setFilters({ topics: spec.topics, exclude: spec.exclude, groups: spec.groups });
  }

  setUserPaused(paused: boolean): void {
    this.userPaused = paused;
    this.#applyPause();
  }

  setOutage(outage: boolean): void {
    this.outage = outage;
    this.#applyPause();
  }

  #applyPause(): void {
    const link = this.link;
    if (link === undefined) return;
    if (this.userPaused || this.outage) link.pause();
    else link.resume();
  }

  /** The link's full status, or undefined before it has started. */
  status(): LinkStatus | undefined {
    return this.link === undefined ? undefined : linkStatus(this.link);
  }

  /** Records one history sample and updates the backlog; returns the backlog progress. */
  sample(now = Date.now()): void {
    const link = this.link;
    if (link === undefined) return;
    let records = 0;
    let bytes = 0;
    let lag = 0;
    let rpoMs = 0;
    const positions = [];
    for (const r of link.replicas) {
      records += r.recordsCopied;
      bytes += r.bytesCopied;
      lag += r.lag;
      rpoMs = Math.max(rpoMs, r.rpoMs(now));
      positions.push({ key: r.key, writtenOffset: r.writtenOffset, sourceEnd: r.sourceEnd });
    }
    this.history.add({ t: now, records, bytes, lag, rpoMs });
    this.backlog.update(positions, now);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
    this.state = "stopped";
    await this.link?.stop();
  }
}
