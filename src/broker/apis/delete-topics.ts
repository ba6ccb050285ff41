// DeleteTopics (key 20). v1: throttle. v4: flexible. v5: error messages. v6: topics by
// name or id.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import type { DeletableTopicResult } from "../../protocol/generated/delete-topics-response.ts";
import type { Input } from "../../protocol/codec-runtime.ts";
import { ZERO_UUID } from "../../protocol/codec-runtime.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi } from "./api.ts";
import { errorOf } from "./error-of.ts";

export const deleteTopics = defineApi({
  key: ApiKey.DeleteTopics,
  minVersion: 0,
  maxVersion: 6,
  async handle(req, ctx) {
    const b = ctx.broker;
    const wanted =
      ctx.apiVersion >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses: Input<DeletableTopicResult>[] = [];
    for (const w of wanted) {
      const byId = w.name === null && w.topicId !== ZERO_UUID;
      const topic = byId ? b.topics.topicById(w.topicId) : b.topics.topic(w.name ?? "");
      const name = topic?.name ?? w.name ?? "";
      // Asked by id, an unauthorized topic answers as unknown: its existence is not revealed.
      if (
        !(byId && topic === undefined) &&
        !ctx.authorize(AclOperation.DELETE, AclResourceType.TOPIC, name)
      ) {
        responses.push({
          name: byId ? null : w.name,
          topicId: w.topicId,
          errorCode: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: byId ? `unknown topic id ${w.topicId}` : `not authorized to delete topic '${name}'`,
        });
        continue;
      }
      if (topic === undefined) {
        responses.push({
          name: w.name,
          topicId: w.topicId,
          errorCode: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `unknown topic ${byId ? `id ${w.topicId}` : `'${w.name ?? ""}'`}`,
        });
        continue;
      }
      try {
        await b.topics.deleteTopic(topic.name);
        await b.groups.deleteTopicOffsets([topic.name]);
        responses.push({ name: topic.name, topicId: topic.id, errorCode: 0, errorMessage: null });
      } catch (e) {
        const { code, message } = errorOf(e, b.log, `delete topic ${topic.name}`);
        responses.push({ name: topic.name, topicId: topic.id, errorCode: code, errorMessage: message });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});
