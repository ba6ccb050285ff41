// DescribeAcls (key 29), CreateAcls (key 30), DeleteAcls (key 31). v1: pattern types
// (PREFIXED; v0 is LITERAL only). v2: flexible. v3: USER resources. Describing needs DESCRIBE
// on the cluster, changing needs ALTER; without an authorizer Kafka answers SECURITY_DISABLED.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import {
  AclOperation,
  AclResourceType,
  CLUSTER_RESOURCE,
  invalidBinding,
  invalidFilter,
  type AclBinding,
} from "../security/acls.ts";
import { defineApi, type RequestContext } from "./api.ts";

const NO_AUTHORIZER = "No Authorizer is configured on the broker";

/** The error that refuses the whole request, or null. */
function refusal(ctx: RequestContext, operation: number): { code: number; message: string } | null {
  if (!ctx.broker.security.authorizerEnabled)
    return { code: ErrorCode.SECURITY_DISABLED, message: NO_AUTHORIZER };
  if (!ctx.authorize(operation, AclResourceType.CLUSTER, CLUSTER_RESOURCE))
    return { code: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, message: "not authorized on the cluster" };
  return null;
}

export const describeAcls = defineApi({
  key: ApiKey.DescribeAcls,
  minVersion: 0,
  maxVersion: 3,
  handle(req, ctx) {
    const refused =
      refusal(ctx, AclOperation.DESCRIBE) ??
      (invalidFilter(req) !== null
        ? { code: ErrorCode.INVALID_REQUEST, message: invalidFilter(req) ?? "" }
        : null);
    if (refused !== null)
      return Promise.resolve({
        throttleTimeMs: 0,
        errorCode: refused.code,
        errorMessage: refused.message,
        resources: [],
      });
    const byResource = new Map<
      string,
      { resourceType: number; resourceName: string; patternType: number; acls: AclBinding[] }
    >();
    for (const b of ctx.broker.security.acls.matching(req)) {
      const key = `${b.resourceType}\u0000${b.patternType}\u0000${b.resourceName}`;
      let r = byResource.get(key);
      if (r === undefined)
        byResource.set(
          key,
          (r = {
            resourceType: b.resourceType,
            resourceName: b.resourceName,
            patternType: b.patternType,
            acls: [],
          }),
        );
      r.acls.push(b);
    }
    const resources = [...byResource.values()].map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      patternType: r.patternType,
      acls: r.acls.map((b) => ({
        principal: b.principal,
        host: b.host,
        operation: b.operation,
        permissionType: b.permissionType,
      })),
    }));
    return Promise.resolve({ throttleTimeMs: 0, errorCode: 0, errorMessage: null, resources });
  },
});

export const createAcls = defineApi({
  key: ApiKey.CreateAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx) {
    const refused = refusal(ctx, AclOperation.ALTER);
    if (refused !== null)
      return {
        throttleTimeMs: 0,
        results: req.creations.map(() => ({ errorCode: refused.code, errorMessage: refused.message })),
      };
    const valid: AclBinding[] = [];
    const results = req.creations.map((c) => {
      const binding: AclBinding = {
        resourceType: c.resourceType,
        resourceName: c.resourceName,
        patternType: c.resourcePatternType,
        principal: c.principal,
        host: c.host,
        operation: c.operation,
        permissionType: c.permissionType,
      };
      const why = invalidBinding(binding);
      if (why !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: why };
      valid.push(binding);
      return { errorCode: 0, errorMessage: null };
    });
    await ctx.broker.security.acls.add(valid);
    ctx.broker.log.info("ACLs created", { count: valid.length, principal: ctx.session.principal });
    return { throttleTimeMs: 0, results };
  },
});

export const deleteAcls = defineApi({
  key: ApiKey.DeleteAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx) {
    const refused = refusal(ctx, AclOperation.ALTER);
    if (refused !== null)
      return {
        throttleTimeMs: 0,
        filterResults: req.filters.map(() => ({
          errorCode: refused.code,
          errorMessage: refused.message,
          matchingAcls: [],
        })),
      };
    const usable = req.filters.filter((f) => invalidFilter(f) === null);
    const removed = await ctx.broker.security.acls.remove(usable);
    let next = 0;
    const filterResults = req.filters.map((f) => {
      const why = invalidFilter(f);
      if (why !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: why, matchingAcls: [] };
      const matched = removed[next++] ?? [];
      return {
        errorCode: 0,
        errorMessage: null,
        matchingAcls: matched.map((b) => ({ errorCode: 0, errorMessage: null, ...b })),
      };
    });
    ctx.broker.log.info("ACLs deleted", { count: removed.flat().length, principal: ctx.session.principal });
    return { throttleTimeMs: 0, filterResults };
  },
});
