// Watches a topology file and calls back with each new valid version. Watches the folder, not
// the file, because editors save by replacing the file; debounced, and only on real changes.
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { parseTopology, TopologyError } from "./topology.ts";
import type { Topology } from "./topology-schema.ts";

export interface TopologyWatcher {
  close(): void;
}

export interface WatchHandlers {
  onChange(topology: Topology): void;
  onInvalid(error: TopologyError): void;
}

/** Starts watching; `initialText` is the content already applied (changes are compared with it). */
export function watchTopology(
  path: string,
  initialText: string,
  handlers: WatchHandlers,
  debounceMs = 200,
): TopologyWatcher {
  const full = resolve(path);
  const name = basename(full);
  let last = initialText;
  let timer: NodeJS.Timeout | undefined;
  const check = async (): Promise<void> => {
    let text: string;
    try {
      text = await readFile(full, "utf8");
    } catch {
      return; // Mid-replace, or deleted: keep what runs until a readable file is back.
    }
    if (text === last) return;
    last = text;
    try {
      handlers.onChange(parseTopology(text, path, dirname(full)));
    } catch (e) {
      if (e instanceof TopologyError) handlers.onInvalid(e);
      else throw e;
    }
  };
  const watcher: FSWatcher = watch(dirname(full), (_event, file) => {
    if (file !== null && file !== name) return;
    clearTimeout(timer);
    timer = setTimeout(() => void check(), debounceMs);
  });
  // Some file systems miss events; a slow poll backs the watcher up.
  const poll = setInterval(() => void check(), 2_000);
  poll.unref();
  return {
    close: () => {
      clearTimeout(timer);
      clearInterval(poll);
      watcher.close();
    },
  };
}
