// The checks AlterConfigs and IncrementalAlterConfigs share before changing a resource's
// configs: the caller may alter it, it is a topic (broker settings are static), and it exists.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { AclOperation, AclResourceType, CLUSTER_RESOURCE } from "../security/acls.ts";
import type { RequestContext } from "./api.ts";
import { ResourceType } from "./resource-types.ts";

export type AlterableTopic =
  | { ok: true; name: string; configs: Readonly<Record<string, string>> }
  | { ok: false; errorCode: number; errorMessage: string | null };

/** The topic a config change may apply to, or the error code and message to answer with. */
export function alterableTopic(
  resourceType: number,
  resourceName: string,
  ctx: RequestContext,
): AlterableTopic {
  const isTopic = resourceType === ResourceType.TOPIC;
  const mayAlter = isTopic
    ? ctx.authorize(AclOperation.ALTER_CONFIGS, AclResourceType.TOPIC, resourceName)
    : ctx.authorize(AclOperation.ALTER_CONFIGS, AclResourceType.CLUSTER, CLUSTER_RESOURCE);
  if (!mayAlter) {
    return {
      ok: false,
      errorCode: isTopic ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      errorMessage: null,
    };
  }
  if (!isTopic) {
    return {
      ok: false,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: "only topic configs can be altered; broker settings are static (config file)",
    };
  }
  const topic = ctx.broker.topics.topic(resourceName);
  if (topic === undefined) {
    return {
      ok: false,
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `unknown topic '${resourceName}'`,
    };
  }
  return { ok: true, name: topic.name, configs: topic.configs };
}
