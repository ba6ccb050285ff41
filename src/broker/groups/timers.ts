// Time for the group coordinator: an injected clock and timer scheduler (so tests drive a fake
// clock), and keyed timers that replace one another the way Kafka's coordinator timer does.

/** Wall-clock milliseconds. */
export interface Clock {
  now(): number;
}

/** Runs a task after a delay; the returned function cancels it. */
export interface TimerScheduler {
  schedule(delayMs: number, task: () => void): () => void;
}

/** setTimeout's ceiling; longer delays would fire at once. */
const MAX_DELAY_MS = 0x7fffffff;

export const systemClock: Clock = { now: () => Date.now() };

/** Real timers, unref'd: pending group timers never keep the process alive. */
export const systemTimers: TimerScheduler = {
  schedule(delayMs, task) {
    const t = setTimeout(task, Math.min(Math.max(0, delayMs), MAX_DELAY_MS));
    t.unref();
    return () => clearTimeout(t);
  },
};

interface Entry {
  cancel: () => void;
}

/**
 * Timers by key ("hb:group:member", "join:group"). Scheduling a key again replaces its timer,
 * so a heartbeat simply pushes its member's deadline forward.
 */
export class KeyedTimers {
  readonly #scheduler: TimerScheduler;
  readonly #timers = new Map<string, Entry>();

  constructor(scheduler: TimerScheduler) {
    this.#scheduler = scheduler;
  }

  #closed = false;

  /** Schedules `task` under `key`, cancelling whatever that key had. No-op once closed. */
  schedule(key: string, delayMs: number, task: () => void): void {
    this.cancel(key);
    if (this.#closed) return;
    const entry: Entry = { cancel: () => undefined };
    this.#timers.set(key, entry);
    entry.cancel = this.#scheduler.schedule(delayMs, () => {
      // A replaced or cancelled timer whose scheduler fired anyway does nothing.
      if (this.#timers.get(key) !== entry) return;
      this.#timers.delete(key);
      task();
    });
  }

  cancel(key: string): void {
    const entry = this.#timers.get(key);
    if (entry === undefined) return;
    this.#timers.delete(key);
    entry.cancel();
  }

  has(key: string): boolean {
    return this.#timers.has(key);
  }

  cancelAll(): void {
    for (const entry of this.#timers.values()) entry.cancel();
    this.#timers.clear();
  }

  /** Cancels everything and refuses new timers: writes finishing after shutdown schedule none. */
  close(): void {
    this.#closed = true;
    this.cancelAll();
  }

  get size(): number {
    return this.#timers.size;
  }
}
