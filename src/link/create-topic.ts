// Creating a topic on any Kafka: CreateTopics where the cluster has it, else (librdkafka's
// mock cluster, brokers that refuse the API) auto-creation through a Metadata request, which
// gives the cluster's default partition count and no configs.
import type { Admin, NewTopic } from "../client/admin.ts";
import type { Cluster } from "../client/cluster.ts";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { ApiKey } from "../protocol/generated/index.ts";

/** Creates the topic unless it exists. */
export async function createTopic(cluster: Cluster, admin: Admin, topic: NewTopic): Promise<void> {
  try {
    await admin.createTopics([topic]);
  } catch (e) {
    if (e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS) return;
    if (!(e instanceof KafkaError && e.code === ErrorCode.UNSUPPORTED_VERSION)) throw e;
    await cluster.withRetries(async () => {
      const broker = await cluster.anyBroker();
      const { body } = await broker.send(ApiKey.Metadata, (v) => ({
        topics: [{ name: topic.name }],
        ...(v >= 4 ? { allowAutoTopicCreation: true } : {}),
      }));
      const code = body.topics[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
      // Auto-creation answers LEADER_NOT_AVAILABLE until the new topic has leaders.
      if (code !== 0) throw new KafkaError(code, `creating ${topic.name} through metadata auto-creation`);
    });
    cluster.invalidateMetadata();
  }
}
