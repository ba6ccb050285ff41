// Offset commits read from the source's __consumer_offsets, held until the link has copied the
// records they point at, then committed on the target at once. Per group one commit is in
// flight; commits that pile up meanwhile are coalesced (per partition, the newest copyable one
// wins, in the source log's order). The data path wakes the relay when it copies records.
import type { OffsetCommitValue } from "../protocol/consumer-offsets.ts";
import type { GroupCommitter, TranslatedOffset } from "./group-commit.ts";
import { translateOffset } from "./group-sync.ts";
import type { LinkContext } from "./link-context.ts";

interface PendingCommit {
  offset: number;
  metadata: string;
  commitTimestampMs: number;
}

/** Commits older than these many per partition are dropped unseen: a newer one supersedes them. */
const MAX_PENDING_PER_PARTITION = 64;

export class CommitRelay {
  readonly #ctx: LinkContext;
  readonly #committer: GroupCommitter;
  /** Group → "sourceTopic/partition" → commits not yet on the target, oldest first. */
  readonly #pending = new Map<string, Map<string, PendingCommit[]>>();
  /** Group → the commits of its flush in flight, by "sourceTopic/partition". */
  readonly #inFlight = new Map<string, Map<string, number>>();
  readonly #flushes = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  #retry: NodeJS.Timeout | undefined;
  /** Commits of groups whose target group had members: left to them. */
  blocked = 0;
  lastError: { message: string; at: number } | undefined;

  constructor(ctx: LinkContext, committer: GroupCommitter) {
    this.#ctx = ctx;
    this.#committer = committer;
  }

  /** Commits waiting for their records to be copied (or for the commit in flight before them). */
  get pending(): number {
    let n = 0;
    for (const byPartition of this.#pending.values())
      for (const list of byPartition.values()) n += list.length;
    return n;
  }

  /** A source commit, in the order of the source's log. Topics the link does not copy are ignored. */
  offer(groupId: string, topic: string, partition: number, value: OffsetCommitValue): void {
    const key = `${topic}/${partition}`;
    const r = this.#ctx.replicas.get(key);
    if (r === undefined || r.removed) return;
    let byPartition = this.#pending.get(groupId);
    if (byPartition === undefined)
      this.#pending.set(groupId, (byPartition = new Map<string, PendingCommit[]>()));
    let list = byPartition.get(key);
    if (list === undefined) byPartition.set(key, (list = []));
    list.push({
      offset: Number(value.offset),
      metadata: value.metadata,
      commitTimestampMs: value.commitTimestampMs,
    });
    if (list.length > MAX_PENDING_PER_PARTITION) list.shift();
  }

  /** Starts a flush of every group with a commit whose records are copied. */
  kick(): void {
    for (const [groupId, byPartition] of this.#pending) {
      let ready = false;
      for (const [key, list] of byPartition) if (this.#newestReady(key, list) >= 0) ready = true;
      if (ready) this.#flush(groupId);
    }
  }

  /**
   * The source offset the target will hold the translation of for this group and partition,
   * once the relay has committed what is copyable now (undefined when the link knows none).
   */
  covered(groupId: string, topic: string, partition: number): number | undefined {
    const key = `${topic}/${partition}`;
    const list = this.#pending.get(groupId)?.get(key) ?? [];
    const i = this.#newestReady(key, list);
    if (i >= 0) return list[i]?.offset;
    return this.#inFlight.get(groupId)?.get(key) ?? this.#committer.syncedSource(groupId, topic, partition);
  }

  /** Commits what is copyable and waits for it (at most timeoutMs): a stopping link's last act. */
  async drain(timeoutMs: number): Promise<void> {
    clearTimeout(this.#retry);
    this.kick();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    const settled = (async () => {
      while (this.#flushes.size > 0) await Promise.allSettled([...this.#flushes.values()]);
    })();
    await Promise.race([settled, timeout]);
    clearTimeout(timer);
  }

  /** The index of the newest commit in `list` whose records the link has copied, or -1. */
  #newestReady(key: string, list: readonly PendingCommit[]): number {
    const r = this.#ctx.replicas.get(key);
    if (r === undefined || !r.ready || r.removed) return -1;
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i];
      if (c !== undefined && translateOffset(r, c.offset) !== undefined) return i;
    }
    return -1;
  }

  #flush(groupId: string): void {
    if (this.#flushes.has(groupId)) {
      this.#again.add(groupId);
      return;
    }
    const run = this.#flushGroup(groupId)
      .catch((e: unknown) => {
        this.lastError = { message: `flush of group ${groupId}: ${(e as Error).message}`, at: Date.now() };
      })
      .finally(() => {
        this.#flushes.delete(groupId);
        if (this.#again.delete(groupId)) this.#flush(groupId);
      });
    this.#flushes.set(groupId, run);
  }

  async #flushGroup(groupId: string): Promise<void> {
    const byPartition = this.#pending.get(groupId);
    if (byPartition === undefined) return;
    const batch: (TranslatedOffset & { at: number })[] = [];
    for (const [key, list] of byPartition) {
      const i = this.#newestReady(key, list);
      const r = this.#ctx.replicas.get(key);
      const c = list[i];
      if (i < 0 || r === undefined || c === undefined) continue;
      const target = translateOffset(r, c.offset);
      if (target === undefined) continue;
      list.splice(0, i + 1);
      if (list.length === 0) byPartition.delete(key);
      batch.push({
        sourceTopic: r.sourceTopic,
        targetTopic: r.targetTopic,
        partition: r.partition,
        source: c.offset,
        target,
        metadata: c.metadata,
        at: c.commitTimestampMs,
      });
    }
    if (byPartition.size === 0) this.#pending.delete(groupId);
    if (batch.length === 0) return;
    this.#inFlight.set(groupId, new Map(batch.map((b) => [`${b.sourceTopic}/${b.partition}`, b.source])));
    try {
      const outcome = await this.#committer.commit(groupId, batch);
      const now = Date.now();
      if (!outcome.idle) this.blocked += batch.length;
      for (const c of outcome.committed) {
        this.#ctx.metrics.groupCommitsReplicated++;
        const at = batch.find((b) => b.sourceTopic === c.sourceTopic && b.partition === c.partition)?.at;
        if (at !== undefined) this.#ctx.metrics.groupCommitLatency.observe(now - at);
      }
    } catch (e) {
      this.#ctx.metrics.errors++;
      this.lastError = {
        message: `commit of group ${groupId} on the target: ${(e as Error).message}`,
        at: Date.now(),
      };
      this.#putBack(groupId, batch);
      // A failed commit is tried again after the back-off (or when the data path wakes the relay).
      clearTimeout(this.#retry);
      if (!this.#ctx.signal.aborted)
        this.#retry = setTimeout(() => this.kick(), this.#ctx.tuning.errorBackoffMs);
    } finally {
      this.#inFlight.delete(groupId);
    }
  }

  /** Returns a failed flush's commits in front of anything that arrived meanwhile (they are older). */
  #putBack(groupId: string, batch: readonly (TranslatedOffset & { at: number })[]): void {
    let byPartition = this.#pending.get(groupId);
    if (byPartition === undefined)
      this.#pending.set(groupId, (byPartition = new Map<string, PendingCommit[]>()));
    for (const b of batch) {
      const key = `${b.sourceTopic}/${b.partition}`;
      const list = byPartition.get(key) ?? [];
      list.unshift({ offset: b.source, metadata: b.metadata ?? "", commitTimestampMs: b.at });
      byPartition.set(key, list);
    }
  }
}
