// ACL admin requests: DescribeAcls and CreateAcls (KIP-140/KIP-290 pattern types), sent to the
// controller as Kafka's admin client does. Used by the link's ACL sync.
import { ApiKey } from "../protocol/generated/index.ts";
import type { Cluster } from "./cluster.ts";
import { BrokerError } from "./errors.ts";

/** Kafka's ACL resource types, pattern types, operations and permissions (the wire numbers). */
export const AclResource = { ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5 } as const;
export const AclPattern = { ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export const AclPermission = { ANY: 1, DENY: 2, ALLOW: 3 } as const;
export const AclOp = { ANY: 1 } as const;

/** One ACL binding: a resource pattern and an access control entry. */
export interface AclBinding {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** What DescribeAcls matches; absent fields match anything. */
export interface AclFilter {
  resourceType?: number;
  resourceName?: string | null;
  patternType?: number;
  principal?: string | null;
}

/** The ACL bindings matching a filter (every ACL by default). */
export async function describeAcls(cluster: Cluster, filter: AclFilter = {}): Promise<AclBinding[]> {
  return cluster.withRetries(async () => {
    const broker = await cluster.controller();
    const { body } = await broker.send(
      ApiKey.DescribeAcls,
      () => ({
        resourceTypeFilter: filter.resourceType ?? AclResource.ANY,
        resourceNameFilter: filter.resourceName ?? null,
        patternTypeFilter: filter.patternType ?? AclPattern.ANY,
        principalFilter: filter.principal ?? null,
        hostFilter: null,
        operation: AclOp.ANY,
        permissionType: AclPermission.ANY,
      }),
      { minVersion: 1 },
    );
    if (body.errorCode !== 0)
      throw new BrokerError(body.errorCode, "DescribeAcls", { broker: broker.nodeId }, body.errorMessage);
    return body.resources.flatMap((r) =>
      r.acls.map((a) => ({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        patternType: r.patternType,
        principal: a.principal,
        host: a.host,
        operation: a.operation,
        permissionType: a.permissionType,
      })),
    );
  });
}

/** Creates ACL bindings; throws BrokerError on the first one the broker refused. */
export async function createAcls(cluster: Cluster, bindings: readonly AclBinding[]): Promise<void> {
  if (bindings.length === 0) return;
  await cluster.withRetries(async () => {
    const broker = await cluster.controller();
    const { body } = await broker.send(
      ApiKey.CreateAcls,
      () => ({
        creations: bindings.map((b) => ({
          resourceType: b.resourceType,
          resourceName: b.resourceName,
          resourcePatternType: b.patternType,
          principal: b.principal,
          host: b.host,
          operation: b.operation,
          permissionType: b.permissionType,
        })),
      }),
      { minVersion: 1 },
    );
    body.results.forEach((r, i) => {
      if (r.errorCode !== 0) {
        const b = bindings[i];
        throw new BrokerError(
          r.errorCode,
          `CreateAcls for ${b?.principal ?? "?"} on ${b?.resourceName ?? "?"}`,
          { broker: broker.nodeId },
          r.errorMessage,
        );
      }
    });
  });
}

/** A stable key of a binding, for comparing ACL sets. */
export function aclKey(b: AclBinding): string {
  return [
    b.resourceType,
    b.patternType,
    b.resourceName,
    b.principal,
    b.host,
    b.operation,
    b.permissionType,
  ].join("\u0000");
}
