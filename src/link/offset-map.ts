// The dense source→target offset map of one partition in translation mode, kept as runs of
// offsets that advance in lockstep (one run per discontinuity, not one entry per record).

/** Source offsets src..src+len-1 were copied to target offsets tgt..tgt+len-1. */
export interface OffsetRun {
  src: number;
  tgt: number;
  len: number;
}

/** Runs sorted by source offset, never overlapping on either side. */
export class OffsetMap {
  readonly #runs: OffsetRun[] = [];

  get runs(): readonly OffsetRun[] {
    return this.#runs;
  }

  /** The run that ends last, if any. */
  get last(): OffsetRun | undefined {
    return this.#runs[this.#runs.length - 1];
  }

  /**
   * Records `len` copied records: source src.. to target tgt... Extends the last run when both
   * sides continue it; otherwise starts a new one. Returns the run that now holds them.
   */
  add(src: number, tgt: number, len: number): OffsetRun {
    if (!(len > 0)) throw new RangeError(`a run needs at least one record, got ${len}`);
    const last = this.last;
    if (last !== undefined) {
      if (src < last.src + last.len || tgt < last.tgt + last.len) {
        throw new RangeError(
          `run (${src}, ${tgt}, ${len}) overlaps the last run (${last.src}, ${last.tgt}, ${last.len})`,
        );
      }
      if (src === last.src + last.len && tgt === last.tgt + last.len) {
        last.len += len;
        return last;
      }
    }
    const run = { src, tgt, len };
    this.#runs.push(run);
    return run;
  }

  /** Loads a stored run; a later version of the same run (same src) replaces the earlier one. */
  load(run: OffsetRun): void {
    const i = this.#lowerBound(run.src);
    const at = this.#runs[i];
    if (at !== undefined && at.src === run.src) {
      at.tgt = run.tgt;
      at.len = run.len;
    } else {
      this.#runs.splice(i, 0, { ...run });
    }
  }

  /**
   * The target offset of the first copied record at or after source offset `offset`, given
   * that everything below `sourceNext` was copied or deliberately dropped and that the next
   * copied record will land at `targetNext`. Undefined when `offset` is beyond `sourceNext`:
   * the records there are not copied yet.
   */
  translate(offset: number, sourceNext: number, targetNext: number): number | undefined {
    // First run whose end is above offset.
    let lo = 0;
    let hi = this.#runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = this.#runs[mid] as OffsetRun;
      if (r.src + r.len <= offset) lo = mid + 1;
      else hi = mid;
    }
    const run = this.#runs[lo];
    if (run !== undefined) return offset >= run.src ? run.tgt + (offset - run.src) : run.tgt;
    return offset <= sourceNext ? targetNext : undefined;
  }

  /** Drops runs that end at or below `offset` (the source no longer has those records). */
  pruneBelow(offset: number): OffsetRun[] {
    let n = 0;
    while (
      n < this.#runs.length &&
      (this.#runs[n] as OffsetRun).src + (this.#runs[n] as OffsetRun).len <= offset
    )
      n++;
    return this.#runs.splice(0, n);
  }

  #lowerBound(src: number): number {
    let lo = 0;
    let hi = this.#runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#runs[mid] as OffsetRun).src < src) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
