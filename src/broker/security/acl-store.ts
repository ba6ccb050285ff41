// The broker's ACLs, kept in the data directory (acls.json); every change is durable before
// CreateAcls or DeleteAcls answers.
import { join } from "node:path";
import { readJsonFile, writeJsonFile } from "../metadata/json-file.ts";
import { bindingMatchesFilter, type AclBinding, type AclFilter } from "./acls.ts";

interface AclsFile {
  version: 1;
  acls: AclBinding[];
}

export const ACLS_FILE = "acls.json";

function sameBinding(a: AclBinding, b: AclBinding): boolean {
  return (
    a.resourceType === b.resourceType &&
    a.resourceName === b.resourceName &&
    a.patternType === b.patternType &&
    a.principal === b.principal &&
    a.host === b.host &&
    a.operation === b.operation &&
    a.permissionType === b.permissionType
  );
}

export class AclStore {
  readonly #path: string;
  #acls: AclBinding[] = [];
  #writes: Promise<void> = Promise.resolve();

  private constructor(path: string) {
    this.#path = path;
  }

  static async open(dataDir: string): Promise<AclStore> {
    const store = new AclStore(join(dataDir, ACLS_FILE));
    const file = (await readJsonFile(store.#path)) as AclsFile | undefined;
    store.#acls = file?.acls ?? [];
    return store;
  }

  /** Every binding (do not modify). */
  get bindings(): readonly AclBinding[] {
    return this.#acls;
  }

  matching(filter: AclFilter): AclBinding[] {
    return this.#acls.filter((b) => bindingMatchesFilter(b, filter));
  }

  /** Adds bindings (an existing identical binding is kept once). */
  async add(bindings: readonly AclBinding[]): Promise<void> {
    for (const b of bindings) if (!this.#acls.some((a) => sameBinding(a, b))) this.#acls.push({ ...b });
    await this.#save();
  }

  /** Removes the bindings matching each filter; returns them per filter. */
  async remove(filters: readonly AclFilter[]): Promise<AclBinding[][]> {
    const removed = filters.map((f) => this.matching(f));
    const gone = new Set(removed.flat());
    this.#acls = this.#acls.filter((b) => !gone.has(b));
    await this.#save();
    return removed;
  }

  #save(): Promise<void> {
    const file: AclsFile = { version: 1, acls: this.#acls };
    const text = structuredClone(file);
    this.#writes = this.#writes.catch(() => undefined).then(() => writeJsonFile(this.#path, text));
    return this.#writes;
  }
}
