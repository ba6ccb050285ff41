// SCRAM credentials of the broker's users, kept in the data directory next to the topic
// metadata (scram-credentials.json): per user and mechanism the salt, iterations, StoredKey
// and ServerKey. Passwords are never stored. Every change is durable before it is answered.
import { join } from "node:path";
import { readJsonFile, writeJsonFile } from "../metadata/json-file.ts";
import type { ScramCredential, ScramMechanism } from "./scram.ts";

interface StoredCredential {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

interface CredentialsFile {
  version: 1;
  users: Record<string, Partial<Record<ScramMechanism, StoredCredential>>>;
}

export const CREDENTIALS_FILE = "scram-credentials.json";

/** The SCRAM users of one broker. */
export class CredentialStore {
  readonly #path: string;
  readonly #users = new Map<string, Map<ScramMechanism, ScramCredential>>();
  #writes: Promise<void> = Promise.resolve();

  private constructor(path: string) {
    this.#path = path;
  }

  /** Loads the credentials of a data directory (none when the file does not exist yet). */
  static async open(dataDir: string): Promise<CredentialStore> {
    const store = new CredentialStore(join(dataDir, CREDENTIALS_FILE));
    const file = (await readJsonFile(store.#path)) as CredentialsFile | undefined;
    for (const [user, mechs] of Object.entries(file?.users ?? {})) {
      const map = new Map<ScramMechanism, ScramCredential>();
      for (const [mech, c] of Object.entries(mechs) as [ScramMechanism, StoredCredential][]) {
        map.set(mech, {
          salt: Buffer.from(c.salt, "base64"),
          iterations: c.iterations,
          storedKey: Buffer.from(c.storedKey, "base64"),
          serverKey: Buffer.from(c.serverKey, "base64"),
        });
      }
      store.#users.set(user, map);
    }
    return store;
  }

  get(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.#users.get(user)?.get(mechanism);
  }

  /** Users with at least one credential, sorted. */
  users(): string[] {
    return [...this.#users.keys()].sort();
  }

  /** The mechanisms and iterations of a user's credentials. */
  describe(user: string): { mechanism: ScramMechanism; iterations: number }[] {
    return [...(this.#users.get(user)?.entries() ?? [])].map(([mechanism, c]) => ({
      mechanism,
      iterations: c.iterations,
    }));
  }

  /** Applies deletions and upserts in one durable write. */
  async apply(
    deletions: readonly { user: string; mechanism: ScramMechanism }[],
    upserts: readonly { user: string; mechanism: ScramMechanism; credential: ScramCredential }[],
  ): Promise<void> {
    for (const d of deletions) {
      const m = this.#users.get(d.user);
      m?.delete(d.mechanism);
      if (m?.size === 0) this.#users.delete(d.user);
    }
    for (const u of upserts) {
      let m = this.#users.get(u.user);
      if (m === undefined) this.#users.set(u.user, (m = new Map<ScramMechanism, ScramCredential>()));
      m.set(u.mechanism, u.credential);
    }
    await this.#save();
  }

  #save(): Promise<void> {
    const file: CredentialsFile = { version: 1, users: {} };
    for (const [user, mechs] of this.#users) {
      const out: Partial<Record<ScramMechanism, StoredCredential>> = {};
      for (const [mech, c] of mechs) {
        out[mech] = {
          salt: c.salt.toString("base64"),
          iterations: c.iterations,
          storedKey: c.storedKey.toString("base64"),
          serverKey: c.serverKey.toString("base64"),
        };
      }
      file.users[user] = out;
    }
    // Serialised so that an older snapshot never overwrites a newer one.
    this.#writes = this.#writes.catch(() => undefined).then(() => writeJsonFile(this.#path, file));
    return this.#writes;
  }
}
