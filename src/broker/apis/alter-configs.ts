// AlterConfigs (key 33). v1: no change. v2: flexible. Replaces a topic's whole set of
// overrides (settings left out return to their defaults), as Kafka's legacy API does.
// Broker settings are static in Ferry's broker: changing them is refused.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { validateTopicConfigs } from "../topic-configs.ts";
import { AclOperation, AclResourceType, CLUSTER_RESOURCE } from "../security/acls.ts";
import { defineApi } from "./api.ts";
import { errorOf } from "./error-of.ts";
import { ResourceType } from "./resource-types.ts";

export const alterConfigs = defineApi({
  key: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const b = ctx.broker;
    const responses = [];
    for (const r of req.resources) {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      const mayAlter =
        r.resourceType === ResourceType.TOPIC
          ? ctx.authorize(AclOperation.ALTER_CONFIGS, AclResourceType.TOPIC, r.resourceName)
          : ctx.authorize(AclOperation.ALTER_CONFIGS, AclResourceType.CLUSTER, CLUSTER_RESOURCE);
      if (!mayAlter) {
        responses.push({
          ...base,
          errorCode:
            r.resourceType === ResourceType.TOPIC
              ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
              : ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: null,
        });
        continue;
      }
      if (r.resourceType !== ResourceType.TOPIC) {
        responses.push({
          ...base,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: "only topic configs can be altered; broker settings are static (config file)",
        });
        continue;
      }
      if (b.topics.topic(r.resourceName) === undefined) {
        responses.push({
          ...base,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `unknown topic '${r.resourceName}'`,
        });
        continue;
      }
      try {
        const configs: Record<string, string> = {};
        for (const c of r.configs) if (c.value !== null) configs[c.name] = c.value;
        validateTopicConfigs(configs);
        if (!req.validateOnly) await b.topics.setConfigs(r.resourceName, configs);
        responses.push({ ...base, errorCode: 0, errorMessage: null });
      } catch (e) {
        const { code, message } = errorOf(e, b.log, `alter configs ${r.resourceName}`);
        responses.push({ ...base, errorCode: code, errorMessage: message });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});
