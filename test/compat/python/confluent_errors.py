"""confluent-kafka: the delivery errors a producer sees for a record above the topic's
max.message.bytes and for a topic that does not exist while auto-creation is off.
Prints one JSON line: {"tooLarge": name, "small": name, "unknownTopic": name}."""
import json
import sys

from confluent_kafka import Producer

bootstrap, small_topic, missing_topic, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

producer = Producer({
    "bootstrap.servers": bootstrap,
    "acks": "all",
    "retries": 0,
    "message.timeout.ms": 5000,
    "topic.metadata.propagation.max.ms": 200,
})
outcome = {}


def report(label):
    def on_delivery(err, msg):
        outcome[label] = None if err is None else err.name()
    return on_delivery


# One flush each: a batch holding both records would be refused as a whole, as Kafka does.
producer.produce(small_topic, value=b"x" * size, on_delivery=report("tooLarge"))
producer.flush(10)
producer.produce(small_topic, value=b"fits", on_delivery=report("small"))
producer.flush(10)
producer.produce(missing_topic, value=b"nowhere", on_delivery=report("unknownTopic"))
producer.flush(10)
print(json.dumps(outcome))
