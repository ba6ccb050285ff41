// A GroupStore in one append-only file, for a broker with a data directory until group state
// moves into an internal log partition. Each record is a frame:
//   int32 payloadLength, uint32 crc32c(payload), payload = int32 keyLength, key,
//   int32 valueLength (-1 = tombstone), value
// Opening the file drops a torn or corrupt tail (a crash mid-append) and compacts it when most
// frames are superseded. Concurrent appends are written and fsynced together.
import { open, rename, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { crc32c } from "../../protocol/crc32c.ts";
import type { GroupStore, StoredRecord } from "./group-store.ts";

const HEADER = 8;

export interface FileGroupStoreOptions {
  /** fdatasync after every append (default true): an acknowledged commit survives power loss. */
  sync?: boolean;
}

interface Pending {
  records: StoredRecord[];
  resolve: () => void;
  reject: (e: Error) => void;
}

function frame(r: StoredRecord): Buffer {
  const valueLen = r.value === null ? 0 : r.value.length;
  const payload = Buffer.allocUnsafe(8 + r.key.length + valueLen);
  payload.writeInt32BE(r.key.length, 0);
  r.key.copy(payload, 4);
  payload.writeInt32BE(r.value === null ? -1 : r.value.length, 4 + r.key.length);
  if (r.value !== null) r.value.copy(payload, 8 + r.key.length);
  const header = Buffer.allocUnsafe(HEADER);
  header.writeInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32c(payload), 4);
  return Buffer.concat([header, payload]);
}

/** Parses frames up to the first torn or corrupt one; `end` is where the good frames stop. */
function parse(buf: Buffer): { records: StoredRecord[]; end: number } {
  const records: StoredRecord[] = [];
  let pos = 0;
  while (pos + HEADER <= buf.length) {
    const len = buf.readInt32BE(pos);
    if (len < 8 || pos + HEADER + len > buf.length) break;
    const payload = buf.subarray(pos + HEADER, pos + HEADER + len);
    if (crc32c(payload) !== buf.readUInt32BE(pos + 4)) break;
    const keyLen = payload.readInt32BE(0);
    if (keyLen < 0 || 8 + keyLen > len) break;
    const valueLen = payload.readInt32BE(4 + keyLen);
    if (valueLen < -1 || 8 + keyLen + Math.max(valueLen, 0) !== len) break;
    const key = Buffer.from(payload.subarray(4, 4 + keyLen));
    const value = valueLen === -1 ? null : Buffer.from(payload.subarray(8 + keyLen));
    records.push({ key, value });
    pos += HEADER + len;
  }
  return { records, end: pos };
}

export class FileGroupStore implements GroupStore {
  readonly path: string;
  readonly #sync: boolean;
  #fh: FileHandle;
  #size: number;
  #loaded: StoredRecord[] | null;
  readonly #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;

  private constructor(path: string, fh: FileHandle, size: number, loaded: StoredRecord[], sync: boolean) {
    this.path = path;
    this.#fh = fh;
    this.#size = size;
    this.#loaded = loaded;
    this.#sync = sync;
  }

  /** Opens (or creates) the file, recovering from a torn tail and compacting it if worthwhile. */
  static async open(path: string, options: FileGroupStoreOptions = {}): Promise<FileGroupStore> {
    const sync = options.sync ?? true;
    const fh = await open(path, "a+");
    let records: StoredRecord[];
    let end: number;
    try {
      ({ records, end } = parse(await fh.readFile()));
    } catch (e) {
      await fh.close();
      throw e;
    }
    const live = new Map<string, StoredRecord>();
    for (const r of records) {
      const k = r.key.toString("hex");
      live.delete(k); // keeps the map in the order of each key's last write
      live.set(k, r);
    }
    const survivors = [...live.values()].filter((r) => r.value !== null);
    if (records.length > 2 * survivors.length + 64 || end < (await fh.stat()).size) {
      // Rewrite: drops superseded frames, tombstones and any torn tail in one step.
      await fh.close();
      const tmp = `${path}.compacting`;
      const out = await open(tmp, "w");
      try {
        if (survivors.length > 0) await out.write(Buffer.concat(survivors.map(frame)));
        await out.sync();
      } finally {
        await out.close();
      }
      await rename(tmp, path);
      await syncDir(dirname(path));
      const reopened = await open(path, "a+");
      return new FileGroupStore(path, reopened, (await reopened.stat()).size, survivors, sync);
    }
    return new FileGroupStore(path, fh, end, survivors, sync);
  }

  async *load(): AsyncIterable<StoredRecord> {
    const records = this.#loaded ?? [];
    this.#loaded = null;
    for (const r of records) yield await Promise.resolve(r);
  }

  append(records: StoredRecord[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ records, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0);
      const bytes = Buffer.concat(batch.flatMap((p) => p.records.map(frame)));
      try {
        await this.#fh.write(bytes);
        if (this.#sync) await this.#fh.datasync();
        this.#size += bytes.length;
        for (const p of batch) p.resolve();
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        // A partial frame would hide every later append from the next load: cut it off.
        await this.#fh.truncate(this.#size).catch(() => undefined);
        for (const p of batch) p.reject(err);
      }
    }
    this.#flushing = null;
  }

  /** Waits for pending appends, then closes the file. */
  async close(): Promise<void> {
    while (this.#flushing !== null) await this.#flushing;
    await this.#fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
