// The recent past of a link, one sample a second, for the dashboard's charts: records and bytes
// copied (throughput is their difference), lag and RPO. A fixed ring: the last ten minutes.

export interface LinkSample {
  /** Unix time, ms. */
  t: number;
  records: number;
  bytes: number;
  lag: number;
  rpoMs: number;
}

export const HISTORY_SAMPLES = 600;

export class LinkHistory {
  readonly #samples: LinkSample[] = [];
  readonly #capacity: number;

  constructor(capacity = HISTORY_SAMPLES) {
    this.#capacity = capacity;
  }

  add(sample: LinkSample): void {
    this.#samples.push(sample);
    if (this.#samples.length > this.#capacity) this.#samples.shift();
  }

  /** Samples newer than `since` (ms), oldest first. */
  since(since = 0): LinkSample[] {
    return this.#samples.filter((s) => s.t > since);
  }
}
