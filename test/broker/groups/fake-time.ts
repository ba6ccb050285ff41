// A fake clock and timer scheduler: tests move time forward explicitly and timers fire in
// order, with pending promise continuations (store appends, parked responses) run in between.
import type { Clock, TimerScheduler } from "../../../src/broker/groups/timers.ts";

interface FakeTimer {
  at: number;
  seq: number;
  task: () => void;
  cancelled: boolean;
}

/** Lets every queued promise continuation and immediate run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class FakeTime implements Clock, TimerScheduler {
  #now: number;
  #seq = 0;
  #timers: FakeTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, task: () => void): () => void {
    const t: FakeTimer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, task, cancelled: false };
    this.#timers.push(t);
    return () => {
      t.cancelled = true;
    };
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing due timers in order and settling after each. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.#now = Math.max(this.#now, due.at);
      due.cancelled = true;
      due.task();
      await settle();
    }
    this.#now = end;
  }
}
