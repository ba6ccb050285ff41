// CreateTopics (key 19). v1: validate only, error messages. v4: -1 partitions/replication
// take the broker defaults. v5: flexible; the result carries partitions, replication and
// effective configs. v7: topic ids.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import type { CreatableTopicResult } from "../../protocol/generated/create-topics-response.ts";
import type { Input } from "../../protocol/codec-runtime.ts";
import { effectiveTopicConfigs } from "../topic-configs.ts";
import { AclOperation, AclResourceType, CLUSTER_RESOURCE } from "../security/acls.ts";
import { defineApi } from "./api.ts";
import { errorOf } from "./error-of.ts";

export const createTopics = defineApi({
  key: ApiKey.CreateTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle(req, ctx) {
    const b = ctx.broker;
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    const topics: Input<CreatableTopicResult>[] = [];
    const mayCreateAny = ctx.authorize(AclOperation.CREATE, AclResourceType.CLUSTER, CLUSTER_RESOURCE);
    for (const t of req.topics) {
      const fail = (code: number, message: string) => ({
        name: t.name,
        errorCode: code,
        errorMessage: message,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      });
      if ((seen.get(t.name) ?? 0) > 1) {
        topics.push(
          fail(ErrorCode.INVALID_REQUEST, `topic '${t.name}' appears more than once in the request`),
        );
        continue;
      }
      if (!mayCreateAny && !ctx.authorize(AclOperation.CREATE, AclResourceType.TOPIC, t.name)) {
        topics.push(fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `not authorized to create topic '${t.name}'`));
        continue;
      }
      let partitions = t.numPartitions === -1 ? b.config.int("num.partitions") : t.numPartitions;
      let replication =
        t.replicationFactor === -1 ? b.config.int("default.replication.factor") : t.replicationFactor;
      if (t.assignments.length > 0) {
        if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
          topics.push(
            fail(
              ErrorCode.INVALID_REQUEST,
              "give either assignments or partitions and replication factor, not both",
            ),
          );
          continue;
        }
        const bad = t.assignments.find((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== b.meta.nodeId);
        if (bad !== undefined) {
          topics.push(
            fail(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              `partition ${bad.partitionIndex} must be assigned to broker ${b.meta.nodeId} only`,
            ),
          );
          continue;
        }
        partitions = t.assignments.length;
        replication = 1;
      }
      const configs: Record<string, string> = {};
      let configError: string | null = null;
      for (const c of t.configs) {
        if (c.value === null) configError = `config '${c.name}' has a null value`;
        else configs[c.name] = c.value;
      }
      if (configError !== null) {
        topics.push(fail(ErrorCode.INVALID_CONFIG, configError));
        continue;
      }
      try {
        const created = await b.topics.createTopic(t.name, {
          partitions,
          replicationFactor: replication,
          configs,
          validateOnly: req.validateOnly,
        });
        topics.push({
          name: t.name,
          topicId: created.id,
          errorCode: 0,
          errorMessage: null,
          numPartitions: created.partitions,
          replicationFactor: 1,
          configs: effectiveTopicConfigs(created.configs, b.config).map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: false,
            configSource: c.source,
            isSensitive: false,
          })),
        });
      } catch (e) {
        const { code, message } = errorOf(e, b.log, `create topic ${t.name}`);
        topics.push(fail(code, message));
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});
