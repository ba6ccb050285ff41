// ACL sync (off by default): copies the source's ACLs on the link's topics and groups to the
// target (DescribeAcls on the source, CreateAcls on the target for what is missing). Topic
// names get the link's prefix, literal and prefixed patterns alike; wildcard ('*') and
// cluster or transactional-id ACLs are never copied, and nothing is ever deleted on the target.
import {
  aclKey,
  AclPattern,
  AclResource,
  createAcls,
  describeAcls,
  type AclBinding,
} from "../client/acls.ts";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import type { LinkContext } from "./link-context.ts";

export interface AclSyncOptions {
  /** Copy ACLs (default false). */
  sync: boolean;
  /** Only ACLs whose principal matches this regex, whole name (e.g. "User:app-.*"); default all. */
  principals?: string;
}

export interface AclSyncStatus {
  /** ACL bindings created on the target since the link started. */
  created: number;
  /** Source bindings on the link's topics and groups at the last round. */
  matched: number;
  /** Why the last round did nothing (e.g. the source has no authorizer). */
  note: string | null;
}

/** One link's ACL sync: its principal filter and what it has done. */
export class AclSync {
  readonly #principals: RegExp | null;
  readonly status: AclSyncStatus = { created: 0, matched: 0, note: null };

  /** Throws SyntaxError for a principals pattern that does not compile. */
  constructor(options: AclSyncOptions) {
    const p = options.principals ?? "";
    this.#principals = p === "" ? null : new RegExp(`^(?:${p})$`, "u");
  }

  /** One round: what the source has that the target lacks is created there. */
  async run(ctx: LinkContext): Promise<void> {
    let source: AclBinding[];
    try {
      source = await describeAcls(ctx.source);
    } catch (e) {
      if (e instanceof KafkaError && e.code === ErrorCode.SECURITY_DISABLED) {
        this.status.note = "the source cluster has no authorizer";
        return;
      }
      throw e;
    }
    const topics = new Set([...ctx.replicas.values()].map((r) => r.sourceTopic));
    const groups = (await ctx.sourceAdmin.listGroups())
      .map((g) => g.groupId)
      .filter((g) => ctx.filter.matchesGroup(g));
    const wanted = source.flatMap((b) => {
      const mapped = this.#map(ctx, b, topics, groups);
      return mapped === undefined ? [] : [mapped];
    });
    this.status.matched = wanted.length;
    if (wanted.length === 0) {
      this.status.note = null;
      return;
    }
    let existing: Set<string>;
    try {
      existing = new Set((await describeAcls(ctx.target)).map(aclKey));
    } catch (e) {
      if (e instanceof KafkaError && e.code === ErrorCode.SECURITY_DISABLED) {
        this.status.note = "the target cluster has no authorizer";
        return;
      }
      throw e;
    }
    const missing = [
      ...new Map(wanted.filter((b) => !existing.has(aclKey(b))).map((b) => [aclKey(b), b])).values(),
    ];
    await createAcls(ctx.target, missing);
    this.status.note = null;
    if (missing.length > 0) {
      this.status.created += missing.length;
      ctx.logger.info("ACLs copied to the target", { created: missing.length });
    }
  }

  /** The target binding for a source binding, or undefined when it is not the link's to copy. */
  #map(
    ctx: LinkContext,
    b: AclBinding,
    topics: ReadonlySet<string>,
    groups: readonly string[],
  ): AclBinding | undefined {
    if (this.#principals !== null && !this.#principals.test(b.principal)) return undefined;
    if (b.resourceName === "*" && b.patternType === AclPattern.LITERAL) return undefined;
    if (b.patternType !== AclPattern.LITERAL && b.patternType !== AclPattern.PREFIXED) return undefined;
    const literal = b.patternType === AclPattern.LITERAL;
    if (b.resourceType === AclResource.TOPIC) {
      const ours = literal
        ? ctx.filter.matchesTopic(b.resourceName)
        : [...topics].some((t) => t.startsWith(b.resourceName));
      return ours ? { ...b, resourceName: ctx.prefix + b.resourceName } : undefined;
    }
    if (b.resourceType === AclResource.GROUP) {
      const ours = literal
        ? ctx.filter.matchesGroup(b.resourceName)
        : groups.some((g) => g.startsWith(b.resourceName));
      return ours ? b : undefined;
    }
    return undefined;
  }
}
