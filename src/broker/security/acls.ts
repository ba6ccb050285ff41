// Kafka's ACL model: bindings of (resource pattern, principal, host, operation, allow/deny),
// the filters DescribeAcls and DeleteAcls use, and the rule that decides one request: super
// users pass; a matching DENY wins; then a matching ALLOW (ALL, or an operation that implies
// the one asked) passes; a resource no ACL names follows allow.everyone.if.no.acl.found.

export const AclResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;
export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;
export const AclPermission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The one cluster resource's name, as in Kafka. */
export const CLUSTER_RESOURCE = "kafka-cluster";
/** LITERAL resource name that matches every resource of its type. */
export const WILDCARD = "*";

export interface AclBinding {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** A DescribeAcls/DeleteAcls filter: null and ANY match everything. */
export interface AclFilter {
  resourceTypeFilter: number;
  resourceNameFilter: string | null;
  patternTypeFilter: number;
  principalFilter: string | null;
  hostFilter: string | null;
  operation: number;
  permissionType: number;
}

/** Why a binding cannot be created, or null when it is valid. */
export function invalidBinding(b: AclBinding): string | null {
  const types: number[] = [
    AclResourceType.TOPIC,
    AclResourceType.GROUP,
    AclResourceType.CLUSTER,
    AclResourceType.TRANSACTIONAL_ID,
    AclResourceType.DELEGATION_TOKEN,
    AclResourceType.USER,
  ];
  if (!types.includes(b.resourceType)) return `invalid resource type ${b.resourceType}`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED)
    return `invalid pattern type ${b.patternType} (LITERAL or PREFIXED)`;
  if (b.resourceName === "") return "the resource name must not be empty";
  if (b.resourceType === AclResourceType.CLUSTER && b.resourceName !== CLUSTER_RESOURCE)
    return `the cluster resource is named ${CLUSTER_RESOURCE}`;
  if (b.operation < AclOperation.ALL || b.operation > AclOperation.DESCRIBE_TOKENS)
    return `invalid operation ${b.operation}`;
  if (b.permissionType !== AclPermission.ALLOW && b.permissionType !== AclPermission.DENY)
    return `invalid permission type ${b.permissionType}`;
  if (!/^[^:]+:.+$/.test(b.principal))
    return `invalid principal '${b.principal}' (expected Type:name, e.g. User:alice)`;
  if (b.host === "") return "the host must not be empty ('*' for any)";
  return null;
}

/** Whether a filter is usable (Kafka refuses UNKNOWN values in filters). */
export function invalidFilter(f: AclFilter): string | null {
  if (f.resourceTypeFilter === AclResourceType.UNKNOWN) return "unknown resource type in filter";
  if (f.patternTypeFilter === PatternType.UNKNOWN) return "unknown pattern type in filter";
  if (f.operation === AclOperation.UNKNOWN) return "unknown operation in filter";
  if (f.permissionType === AclPermission.UNKNOWN) return "unknown permission type in filter";
  return null;
}

/** Whether a stored binding matches a filter (MATCH: every pattern that would apply to the name). */
export function bindingMatchesFilter(b: AclBinding, f: AclFilter): boolean {
  if (f.resourceTypeFilter !== AclResourceType.ANY && f.resourceTypeFilter !== b.resourceType) return false;
  if (f.principalFilter !== null && f.principalFilter !== b.principal) return false;
  if (f.hostFilter !== null && f.hostFilter !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  if (f.permissionType !== AclPermission.ANY && f.permissionType !== b.permissionType) return false;
  if (f.patternTypeFilter === PatternType.MATCH) {
    return f.resourceNameFilter === null || patternApplies(b, f.resourceNameFilter);
  }
  if (f.patternTypeFilter !== PatternType.ANY && f.patternTypeFilter !== b.patternType) return false;
  return f.resourceNameFilter === null || f.resourceNameFilter === b.resourceName;
}

/** Whether a binding's resource pattern covers a resource of its type called `name`. */
function patternApplies(b: AclBinding, name: string): boolean {
  if (b.patternType === PatternType.PREFIXED) return name.startsWith(b.resourceName);
  return b.resourceName === name || b.resourceName === WILDCARD;
}

/** Operations whose ALLOW also allows `op` (Kafka: READ/WRITE/DELETE/ALTER imply DESCRIBE). */
function allowingOperations(op: number): number[] {
  if (op === AclOperation.DESCRIBE)
    return [
      op,
      AclOperation.ALL,
      AclOperation.READ,
      AclOperation.WRITE,
      AclOperation.DELETE,
      AclOperation.ALTER,
    ];
  if (op === AclOperation.DESCRIBE_CONFIGS) return [op, AclOperation.ALL, AclOperation.ALTER_CONFIGS];
  return [op, AclOperation.ALL];
}

export interface AuthorizerSettings {
  /** Principals that pass every check ("User:admin"). */
  superUsers: ReadonlySet<string>;
  /** Kafka's allow.everyone.if.no.acl.found. */
  allowIfNoAcl: boolean;
}

/** Decides one action against a set of bindings. */
export function isAllowed(
  bindings: readonly AclBinding[],
  settings: AuthorizerSettings,
  principal: string,
  host: string,
  operation: number,
  resourceType: number,
  resourceName: string,
): boolean {
  if (settings.superUsers.has(principal)) return true;
  const principalType = principal.slice(0, principal.indexOf(":") + 1);
  let any = false;
  let allowed = false;
  const allowing = allowingOperations(operation);
  for (const b of bindings) {
    if (b.resourceType !== resourceType || !patternApplies(b, resourceName)) continue;
    any = true;
    if (b.principal !== principal && b.principal !== `${principalType}*`) continue;
    if (b.host !== WILDCARD && b.host !== host) continue;
    if (b.permissionType === AclPermission.DENY) {
      if (b.operation === operation || b.operation === AclOperation.ALL) return false;
    } else if (allowing.includes(b.operation)) {
      allowed = true;
    }
  }
  if (!any) return settings.allowIfNoAcl;
  return allowed;
}

/**
 * Whether `principal` may do `operation` on at least some resource of a type (Kafka's
 * authorizeByResourceType, used for idempotent producers): an ALLOW for it on any pattern,
 * unless a DENY covers every name (LITERAL "*" or PREFIXED "").
 */
export function isAllowedOnSomeResource(
  bindings: readonly AclBinding[],
  settings: AuthorizerSettings,
  principal: string,
  host: string,
  operation: number,
  resourceType: number,
): boolean {
  if (settings.superUsers.has(principal)) return true;
  const principalType = principal.slice(0, principal.indexOf(":") + 1);
  const allowing = allowingOperations(operation);
  let anyOfType = false;
  let allowed = false;
  for (const b of bindings) {
    if (b.resourceType !== resourceType) continue;
    anyOfType = true;
    if (b.principal !== principal && b.principal !== `${principalType}*`) continue;
    if (b.host !== WILDCARD && b.host !== host) continue;
    const everything =
      (b.patternType === PatternType.LITERAL && b.resourceName === WILDCARD) ||
      (b.patternType === PatternType.PREFIXED && b.resourceName === "");
    if (b.permissionType === AclPermission.DENY) {
      if (everything && (b.operation === operation || b.operation === AclOperation.ALL)) return false;
    } else if (allowing.includes(b.operation)) {
      allowed = true;
    }
  }
  return allowed || (!anyOfType && settings.allowIfNoAcl);
}
