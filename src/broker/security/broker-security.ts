// The broker's security state: SCRAM credentials and ACLs (both in the data directory),
// PLAIN users from files, the authorizer settings, and the check every API handler asks.
// With no authorizer configured (authorizer.class.name empty) every action is allowed.
import { readFile } from "node:fs/promises";
import { timingSafeEqual } from "node:crypto";
import { ConfigError, type BrokerConfig } from "../config/broker-config.ts";
import { AclStore } from "./acl-store.ts";
import { isAllowed, isAllowedOnSomeResource, type AuthorizerSettings } from "./acls.ts";
import { CredentialStore } from "./credential-store.ts";
import type { ListenerSpec } from "./listeners.ts";
import { passwordMatches } from "./scram.ts";

/** Who is asking: the authenticated principal ("User:alice", "User:ANONYMOUS") and from where. */
export interface Principal {
  readonly principal: string;
  /** The client's IP address, as ACL host fields name it. */
  readonly host: string;
}

export const ANONYMOUS = "User:ANONYMOUS";

export class BrokerSecurity {
  readonly credentials: CredentialStore;
  readonly acls: AclStore;
  /** False when authorizer.class.name is empty: no ACL is checked. */
  readonly authorizerEnabled: boolean;
  readonly settings: AuthorizerSettings;
  // PLAIN users per users file path: name -> password.
  readonly #plainUsers: Map<string, Map<string, string>>;

  private constructor(
    credentials: CredentialStore,
    acls: AclStore,
    config: BrokerConfig,
    plainUsers: Map<string, Map<string, string>>,
  ) {
    this.credentials = credentials;
    this.acls = acls;
    this.authorizerEnabled = config.get("authorizer.class.name").trim() !== "";
    this.settings = {
      superUsers: new Set(
        config
          .get("super.users")
          .split(";")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      ),
      allowIfNoAcl: config.bool("allow.everyone.if.no.acl.found"),
    };
    this.#plainUsers = plainUsers;
  }

  static async open(
    dataDir: string,
    config: BrokerConfig,
    listeners: readonly ListenerSpec[],
  ): Promise<BrokerSecurity> {
    const plainUsers = new Map<string, Map<string, string>>();
    for (const l of listeners) {
      if (l.plainUsersFile !== "" && !plainUsers.has(l.plainUsersFile))
        plainUsers.set(l.plainUsersFile, await readPlainUsers(l.plainUsersFile));
    }
    return new BrokerSecurity(
      await CredentialStore.open(dataDir),
      await AclStore.open(dataDir),
      config,
      plainUsers,
    );
  }

  /** Whether `who` may do `operation` on a resource (always true without an authorizer). */
  authorize(who: Principal, operation: number, resourceType: number, resourceName: string): boolean {
    if (!this.authorizerEnabled) return true;
    return isAllowed(
      this.acls.bindings,
      this.settings,
      who.principal,
      who.host,
      operation,
      resourceType,
      resourceName,
    );
  }

  /** Whether `who` may do `operation` on some resource of a type (always true without an authorizer). */
  authorizeByResourceType(who: Principal, operation: number, resourceType: number): boolean {
    if (!this.authorizerEnabled) return true;
    return isAllowedOnSomeResource(
      this.acls.bindings,
      this.settings,
      who.principal,
      who.host,
      operation,
      resourceType,
    );
  }

  /**
   * Checks a PLAIN user name and password: against the listener's users file, then against
   * the user's SCRAM credentials (either mechanism), so SCRAM users may also log in with PLAIN.
   */
  verifyPlain(listener: ListenerSpec, user: string, password: string): boolean {
    const fromFile = this.#plainUsers.get(listener.plainUsersFile)?.get(user);
    if (fromFile !== undefined) {
      const a = Buffer.from(fromFile, "utf8");
      const b = Buffer.from(password, "utf8");
      return a.length === b.length && timingSafeEqual(a, b);
    }
    for (const mechanism of ["SCRAM-SHA-512", "SCRAM-SHA-256"] as const) {
      const c = this.credentials.get(user, mechanism);
      if (c !== undefined) return passwordMatches(mechanism, c, password);
    }
    return false;
  }
}

/** Reads a PLAIN users file: one `name:password` per line; blank lines and # comments are skipped. */
async function readPlainUsers(path: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new ConfigError(
      "ferry.sasl.plain.users.file",
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  const users = new Map<string, string>();
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const colon = line.indexOf(":");
    // The line itself is never quoted in the error: it holds a password.
    if (colon <= 0) throw new ConfigError(`${path}:${i + 1}`, "expected name:password");
    users.set(line.slice(0, colon), line.slice(colon + 1));
  });
  return users;
}
