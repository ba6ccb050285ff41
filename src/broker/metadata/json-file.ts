// Durable small JSON files for the broker's metadata, replaced atomically through the
// storage engine's writeFileAtomic (temp file, fsync, rename, directory fsync).
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../log/checkpoint-file.ts";

/** Writes `value` as JSON to `path` atomically and durably. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, Buffer.from(JSON.stringify(value, null, 2) + "\n"));
}

/** Reads a JSON file, or returns undefined when it does not exist. */
export async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
