// AlterConfigs (key 33). v1: no change. v2: flexible. Replaces a topic's whole set of
// overrides (settings left out return to their defaults), as Kafka's legacy API does.
// Broker settings are static in Ferry's broker: changing them is refused.
import { ApiKey } from "../../protocol/generated/index.ts";
import { validateTopicConfigs } from "../topic-configs.ts";
import { alterableTopic } from "./alterable-topic.ts";
import { defineApi } from "./api.ts";
import { errorOf } from "./error-of.ts";

export const alterConfigs = defineApi({
  key: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const b = ctx.broker;
    const responses = [];
    for (const r of req.resources) {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      const topic = alterableTopic(r.resourceType, r.resourceName, ctx);
      if (!topic.ok) {
        responses.push({ ...base, errorCode: topic.errorCode, errorMessage: topic.errorMessage });
        continue;
      }
      try {
        const configs: Record<string, string> = {};
        for (const c of r.configs) if (c.value !== null) configs[c.name] = c.value;
        validateTopicConfigs(configs);
        if (!req.validateOnly) await b.topics.setConfigs(topic.name, configs);
        responses.push({ ...base, errorCode: 0, errorMessage: null });
      } catch (e) {
        const { code, message } = errorOf(e, b.log, `alter configs ${r.resourceName}`);
        responses.push({ ...base, errorCode: code, errorMessage: message });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});
