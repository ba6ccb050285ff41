// One broker per data directory: a lock file holding the owner's pid, created
// exclusively. A lock left by a process that no longer runs (kill -9) is taken over.
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";

export class DataDirLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(`${dir} is in use by another Ferry broker (pid ${pid})`);
    this.name = "DataDirLockedError";
  }
}

/** Locks this process holds: a pid match alone cannot tell them from a stale lock of a previous process that had the same pid (pid 1 in containers). */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the data directory's lock; resolves to a release function. */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, ".lock");
  if (held.has(path)) throw new DataDirLockedError(dir, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, "wx");
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      held.add(path);
      return async () => {
        held.delete(path);
        await rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new DataDirLockedError(dir, pid);
      await rm(path, { force: true });
    }
  }
  throw new Error(`could not take the lock of ${dir}`);
}
