"""confluent-kafka: reads partition 0 of a topic from the beginning to its end (no group).
Prints one JSON line: {"values": [...], "offsets": [...], "error": ...}."""
import json
import sys

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

bootstrap, topic = sys.argv[1], sys.argv[2]
consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "unused-by-assign",
    "enable.auto.commit": False,
    "enable.partition.eof": True,
})
consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
values, offsets, error = [], [], None
while True:
    msg = consumer.poll(10)
    if msg is None:
        error = "poll timed out"
        break
    if msg.error():
        if msg.error().code() != KafkaError._PARTITION_EOF:
            error = msg.error().name()
        break
    values.append(msg.value().decode())
    offsets.append(msg.offset())
consumer.close()
print(json.dumps({"values": values, "offsets": offsets, "error": error}))
