// Progress of a link working through a backlog (a new link on topics with history, or a link
// catching up after an outage): records copied of records to copy, rate and ETA. A backlog
// begins when the lag passes a threshold and ends when the link has caught up.

/** What the tracker reads of each partition the link copies. */
export interface ReplicaPosition {
  key: string;
  writtenOffset: number;
  sourceEnd: number;
}

export interface BacklogProgress {
  /** Records to copy since the backlog began (grows while the source is written to). */
  toCopy: number;
  copied: number;
  /** Records a second over the last few seconds. */
  rate: number;
  /** Estimated ms to catch up, or null while there is no rate to go by. */
  etaMs: number | null;
  startedAt: number;
  /** Set once the link has caught up; the backlog is then over. */
  doneAt: number | null;
}

const RATE_WINDOW_MS = 5_000;

export class BacklogTracker {
  readonly #threshold: number;
  #base: Map<string, number> | undefined;
  #progress: BacklogProgress | undefined;
  #points: { t: number; copied: number }[] = [];

  /** `threshold`: the lag (records) at which a backlog is reported. */
  constructor(threshold = 1_000) {
    this.#threshold = threshold;
  }

  /** The backlog in progress (or just finished), or undefined. */
  get progress(): BacklogProgress | undefined {
    return this.#progress;
  }

  update(replicas: readonly ReplicaPosition[], now = Date.now()): BacklogProgress | undefined {
    let lag = 0;
    for (const r of replicas) if (r.sourceEnd >= 0) lag += Math.max(0, r.sourceEnd - r.writtenOffset);
    if (this.#base === undefined) {
      if (lag < this.#threshold) {
        this.#progress = undefined;
        return undefined;
      }
      this.#base = new Map();
      this.#points = [];
      this.#progress = { toCopy: 0, copied: 0, rate: 0, etaMs: null, startedAt: now, doneAt: null };
    }
    const base = this.#base;
    let toCopy = 0;
    let copied = 0;
    for (const r of replicas) {
      if (r.sourceEnd < 0) continue;
      let b = base.get(r.key);
      if (b === undefined) {
        b = r.writtenOffset;
        base.set(r.key, b);
      }
      toCopy += Math.max(0, r.sourceEnd - b);
      copied += Math.max(0, r.writtenOffset - b);
    }
    this.#points.push({ t: now, copied });
    while (this.#points.length > 2 && (this.#points[0]?.t ?? now) < now - RATE_WINDOW_MS)
      this.#points.shift();
    const first = this.#points[0];
    const span = first === undefined ? 0 : now - first.t;
    const rate = first === undefined || span < 500 ? 0 : ((copied - first.copied) * 1000) / span;
    const remaining = Math.max(0, toCopy - copied);
    const progress: BacklogProgress = {
      toCopy,
      copied,
      rate,
      etaMs: rate > 0 ? Math.round((remaining / rate) * 1000) : null,
      startedAt: this.#progress?.startedAt ?? now,
      doneAt: null,
    };
    if (lag <= this.#threshold / 10) {
      progress.doneAt = now;
      progress.etaMs = 0;
      this.#base = undefined;
    }
    this.#progress = progress;
    return progress;
  }
}
