// IncrementalAlterConfigs (key 44). v1: flexible. Each setting is SET, DELETEd (back to
// the default), or for list settings APPENDed to / SUBTRACTed from.
import { ErrorCode, KafkaError } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { topicConfigDef, TOPIC_CONFIGS } from "../config/config-defs.ts";
import { validateTopicConfigs } from "../topic-configs.ts";
import type { BrokerContext } from "../broker-context.ts";
import { alterableTopic } from "./alterable-topic.ts";
import { defineApi } from "./api.ts";
import { errorOf } from "./error-of.ts";

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

interface Change {
  name: string;
  configOperation: number;
  value: string | null;
}

/** The topic's overrides after the changes; throws INVALID_CONFIG/INVALID_REQUEST. */
export function applyChanges(
  current: Record<string, string>,
  changes: Change[],
  b: BrokerContext,
): Record<string, string> {
  const next = { ...current };
  const names = new Set<string>();
  for (const c of changes) {
    if (names.has(c.name))
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `config '${c.name}' is changed twice`);
    names.add(c.name);
    const def = topicConfigDef(c.name);
    if (def === undefined) throw new KafkaError(ErrorCode.INVALID_CONFIG, `unknown topic config '${c.name}'`);
    const list = (v: string | undefined): string[] =>
      (v ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    switch (c.configOperation) {
      case SET:
        if (c.value === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, `null value for '${c.name}'`);
        next[c.name] = c.value;
        break;
      case DELETE:
        delete next[c.name];
        break;
      case APPEND:
      case SUBTRACT: {
        if (def.type !== "list")
          throw new KafkaError(
            ErrorCode.INVALID_CONFIG,
            `'${c.name}' is not a list; APPEND and SUBTRACT apply to lists only`,
          );
        const now = list(next[c.name] ?? b.config.topicDefault(c.name));
        const items = list(c.value ?? "");
        const result =
          c.configOperation === APPEND
            ? [...now, ...items.filter((i) => !now.includes(i))]
            : now.filter((i) => !items.includes(i));
        next[c.name] = result.join(",");
        break;
      }
      default:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `unknown config operation ${c.configOperation}`);
    }
  }
  validateTopicConfigs(next);
  return next;
}

export const incrementalAlterConfigs = defineApi({
  key: ApiKey.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
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
        const next = applyChanges(topic.configs, r.configs, b);
        if (!req.validateOnly) await b.topics.setConfigs(topic.name, next);
        responses.push({ ...base, errorCode: 0, errorMessage: null });
      } catch (e) {
        const { code, message } = errorOf(e, b.log, `incremental alter configs ${r.resourceName}`);
        responses.push({ ...base, errorCode: code, errorMessage: message });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});

/** The topic settings that lists may be appended to (for documentation and tests). */
export const LIST_TOPIC_CONFIGS = TOPIC_CONFIGS.filter((d) => d.type === "list").map((d) => d.name);
