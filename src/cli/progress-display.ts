// Backlog progress in the terminal: one live bar per link on a TTY (log lines scroll above the
// bars), plain lines every few seconds otherwise, and a closing line when a backlog is done.
import type { BacklogProgress } from "../control/backlog.ts";

/** "12.3k"-style counts. */
export function formatCount(n: number): string {
  if (n < 1_000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1_000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** One line: `link [#####-----] 45% 4.5k/10k records 1.2k rec/s ETA 5s`. */
export function progressLine(link: string, p: BacklogProgress, width = 24): string {
  const fraction = p.toCopy === 0 ? 1 : Math.min(1, p.copied / p.toCopy);
  const filled = Math.round(fraction * width);
  const bar = "#".repeat(filled) + "-".repeat(width - filled);
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const counts = `${formatCount(p.copied)}/${formatCount(p.toCopy)} records`;
  const rate = `${formatCount(p.rate)} rec/s`;
  if (p.doneAt !== null) {
    return `${link}: backlog copied: ${formatCount(p.copied)} records in ${formatDuration(p.doneAt - p.startedAt)}`;
  }
  const eta = p.etaMs === null ? "ETA --" : `ETA ${formatDuration(p.etaMs)}`;
  return `${link} [${bar}] ${pct} ${counts} ${rate} ${eta}`;
}

export interface ProgressDisplayOptions {
  write: (text: string) => void;
  tty: boolean;
  /** Non-TTY: at most one line per link this often. */
  plainEveryMs?: number;
}

export class ProgressDisplay {
  readonly #write: (text: string) => void;
  readonly #tty: boolean;
  readonly #plainEveryMs: number;
  readonly #bars = new Map<string, string>();
  readonly #lastPlain = new Map<string, number>();
  #drawn = 0;

  constructor(options: ProgressDisplayOptions) {
    this.#write = options.write;
    this.#tty = options.tty;
    this.#plainEveryMs = options.plainEveryMs ?? 2_000;
  }

  /** Prints a line above the bars (log lines go through here on a TTY). */
  log(line: string): void {
    if (!this.#tty) {
      this.#write(line.endsWith("\n") ? line : line + "\n");
      return;
    }
    this.#write(this.#clear() + (line.endsWith("\n") ? line : line + "\n") + this.#draw());
  }

  update(link: string, p: BacklogProgress, now = Date.now()): void {
    const line = progressLine(link, p);
    if (p.doneAt !== null) {
      this.#bars.delete(link);
      this.#lastPlain.delete(link);
      this.log(line);
      return;
    }
    if (!this.#tty) {
      const last = this.#lastPlain.get(link) ?? 0;
      if (now - last < this.#plainEveryMs) return;
      this.#lastPlain.set(link, now);
      this.#write(line + "\n");
      return;
    }
    this.#bars.set(link, line);
    this.#write(this.#clear() + this.#draw());
  }

  /** Removes the bars (before exit). */
  close(): void {
    if (this.#tty) this.#write(this.#clear());
    this.#bars.clear();
  }

  #clear(): string {
    const n = this.#drawn;
    this.#drawn = 0;
    return n === 0 ? "" : `\x1b[${n}A\x1b[0J`;
  }

  #draw(): string {
    const lines = [...this.#bars.values()];
    this.#drawn = lines.length;
    return lines.map((l) => l + "\n").join("");
  }
}
