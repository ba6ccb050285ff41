"""confluent-kafka AdminClient: create_topics (with a config), list_topics, describe_configs,
and the errors for an existing and an invalid topic name. Prints one JSON line."""
import json
import sys

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

bootstrap, topic = sys.argv[1], sys.argv[2]
admin = AdminClient({"bootstrap.servers": bootstrap})
out = {}


def create(name, partitions, config=None):
    try:
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                      config=config or {})])[name].result(10)
        return None
    except KafkaException as e:
        return e.args[0].name()


out["create"] = create(topic, 4, {"retention.ms": "3600000", "cleanup.policy": "delete"})
out["createAgain"] = create(topic, 4)
out["createInvalid"] = create("not a valid name!", 1)

md = admin.list_topics(timeout=10)
out["brokers"] = [{"id": b.id, "host": b.host, "port": b.port} for b in md.brokers.values()]
t = md.topics.get(topic)
out["listed"] = None if t is None else {"error": None if t.error is None else t.error.name(),
                                         "partitions": sorted(t.partitions.keys()),
                                         "leaders": sorted({p.leader for p in t.partitions.values()})}
out["invalidListed"] = "not a valid name!" in md.topics

resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
entries = admin.describe_configs([resource])[resource].result(10)
out["configs"] = {name: {"value": e.value, "isDefault": e.is_default, "readOnly": e.is_read_only}
                  for name, e in entries.items()}
print(json.dumps(out))
