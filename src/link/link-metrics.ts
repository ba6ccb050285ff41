// Link-wide measurements that are not per partition: the replication latency histograms (source
// record timestamp to acknowledged on the target; source offset commit to committed on the
// target) and counters.

/** Upper bounds (seconds) of the latency histogram's buckets, Prometheus style. */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

export class LatencyHistogram {
  /** counts[i]: observations ≤ LATENCY_BUCKETS[i] and > the bucket before; the last slot is +Inf. */
  readonly counts = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  count = 0;
  sumSeconds = 0;

  observe(ms: number): void {
    const s = Math.max(0, ms) / 1000;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && s > (LATENCY_BUCKETS[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.count++;
    this.sumSeconds += s;
  }

  /** The bucket bound at or below which fraction q of the observations fall (an upper estimate), in ms. */
  quantileMs(q: number): number {
    if (this.count === 0) return 0;
    const want = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] as number;
      if (seen >= want) return i < LATENCY_BUCKETS.length ? (LATENCY_BUCKETS[i] as number) * 1000 : Infinity;
    }
    return Infinity;
  }
}

export class LinkMetrics {
  readonly latency = new LatencyHistogram();
  errors = 0;
  fetches = 0;
  writes = 0;
  groupCommits = 0;
  /** Offset commits of selected groups read from the source's __consumer_offsets. */
  groupCommitsRead = 0;
  /** Of those, the ones committed on the target (the newest of coalesced ones counts once). */
  groupCommitsReplicated = 0;
  /** Source commit timestamp to committed on the target, for commits that came through the stream. */
  readonly groupCommitLatency = new LatencyHistogram();
  startedAt = Date.now();
}
