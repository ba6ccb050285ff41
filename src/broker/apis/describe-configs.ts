// DescribeConfigs (key 32). v1: synonyms and config source (instead of is_default). v2:
// no change. v3: config type and documentation. v4: flexible.
// Topics report every topic setting with where its value comes from; the broker resource
// reports the broker's (static) settings.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import type { DescribeConfigsResourceResult } from "../../protocol/generated/describe-configs-response.ts";
import type { Input } from "../../protocol/codec-runtime.ts";
import { BROKER_CONFIGS, brokerConfigDef, CONFIG_TYPE_CODE, topicConfigDef } from "../config/config-defs.ts";
import { ConfigSource, effectiveTopicConfigs } from "../topic-configs.ts";
import type { BrokerContext } from "../broker-context.ts";
import { AclOperation, AclResourceType, CLUSTER_RESOURCE } from "../security/acls.ts";
import { defineApi } from "./api.ts";
import { ResourceType, wrongBroker } from "./resource-types.ts";

// is_default exists only in v0 (v1+ say it with config_source); the codec rejects a true
// is_default in later versions, so it is set only when the version has it.

function topicEntries(
  name: string,
  b: BrokerContext,
  synonyms: boolean,
  hasIsDefault: boolean,
): Input<DescribeConfigsResourceResult>[] {
  const topic = b.topics.topic(name);
  if (topic === undefined) return [];
  return effectiveTopicConfigs(topic.configs, b.config).map((c) => {
    const def = topicConfigDef(c.name);
    const list: { name: string; value: string; source: number }[] = [];
    if (synonyms) {
      if (c.source === ConfigSource.TOPIC_CONFIG)
        list.push({ name: c.name, value: c.value, source: c.source });
      if (c.synonym !== null && b.config.isExplicit(c.synonym)) {
        list.push({
          name: c.synonym,
          value: b.config.get(c.synonym),
          source: ConfigSource.STATIC_BROKER_CONFIG,
        });
      }
      if (def !== undefined && def.synonym !== null)
        list.push({ name: c.synonym ?? c.name, value: def.default, source: ConfigSource.DEFAULT_CONFIG });
    }
    return {
      name: c.name,
      value: c.value,
      readOnly: false,
      isDefault: hasIsDefault && c.source === ConfigSource.DEFAULT_CONFIG,
      configSource: c.source,
      isSensitive: false,
      synonyms: list,
      configType: def === undefined ? 0 : CONFIG_TYPE_CODE[def.type],
      documentation: null,
    };
  });
}

function brokerEntries(
  b: BrokerContext,
  synonyms: boolean,
  hasIsDefault: boolean,
): Input<DescribeConfigsResourceResult>[] {
  return BROKER_CONFIGS.map((def) => {
    const explicit = b.config.isExplicit(def.name);
    const source = explicit ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
    // Passwords are never sent, as Kafka answers sensitive settings with a null value.
    const sensitive = def.type === "password";
    const value = sensitive ? null : b.config.get(def.name);
    return {
      name: def.name,
      value,
      readOnly: true,
      isDefault: hasIsDefault && !explicit,
      configSource: source,
      isSensitive: sensitive,
      synonyms: synonyms ? [{ name: def.name, value, source }] : [],
      configType: CONFIG_TYPE_CODE[def.type],
      documentation: null,
    };
  });
}

export const describeConfigs = defineApi({
  key: ApiKey.DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx) {
    const b = ctx.broker;
    const synonyms = ctx.apiVersion >= 1 && req.includeSynonyms;
    const hasIsDefault = ctx.apiVersion === 0;
    const results = req.resources.map((r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      let entries: Input<DescribeConfigsResourceResult>[];
      const denied = (code: number) => ({ ...base, errorCode: code, errorMessage: null, configs: [] });
      if (r.resourceType === ResourceType.TOPIC) {
        if (!ctx.authorize(AclOperation.DESCRIBE_CONFIGS, AclResourceType.TOPIC, r.resourceName))
          return denied(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        if (b.topics.topic(r.resourceName) === undefined) {
          return {
            ...base,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: `unknown topic '${r.resourceName}'`,
            configs: [],
          };
        }
        entries = topicEntries(r.resourceName, b, synonyms, hasIsDefault);
      } else if (r.resourceType === ResourceType.BROKER) {
        if (!ctx.authorize(AclOperation.DESCRIBE_CONFIGS, AclResourceType.CLUSTER, CLUSTER_RESOURCE))
          return denied(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
        const wrong = wrongBroker(r.resourceName, b);
        if (wrong !== null)
          return { ...base, errorCode: wrong.code, errorMessage: wrong.message, configs: [] };
        entries = brokerEntries(b, synonyms, hasIsDefault);
      } else {
        return {
          ...base,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `unsupported resource type ${r.resourceType}`,
          configs: [],
        };
      }
      const keys = r.configurationKeys;
      if (keys !== null) {
        const known = (k: string) =>
          (r.resourceType === ResourceType.TOPIC ? topicConfigDef(k) : brokerConfigDef(k)) !== undefined;
        const unknown = keys.filter((k) => !known(k));
        if (unknown.length > 0) {
          // Kafka answers unknown names by leaving them out; the known ones still come back.
          b.log.debug("describe configs: unknown names", { names: unknown.join(",") });
        }
        entries = entries.filter((e) => keys.includes(e.name ?? ""));
      }
      return { ...base, errorCode: 0, errorMessage: null, configs: entries };
    });
    return Promise.resolve({ throttleTimeMs: 0, results });
  },
});
