"""confluent-kafka: an idempotent producer (acks=all) sends N records to partition 0 of a
topic, then a plain consumer reads the partition from the beginning. Prints one JSON line."""
import json
import sys

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

producer = Producer({
    "bootstrap.servers": bootstrap,
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 5,
    "batch.num.messages": 250,
})
reports = []


def on_delivery(err, msg):
    reports.append({
        "key": msg.key().decode(),
        "offset": msg.offset(),
        "error": None if err is None else err.name(),
    })


for i in range(count):
    while True:
        try:
            producer.produce(topic, key=str(i).encode(), value=f"value-{i}".encode(), partition=0,
                             on_delivery=on_delivery)
            break
        except BufferError:
            producer.poll(0.05)
    producer.poll(0)
unflushed = producer.flush(20)

consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "unused-by-assign",
    "enable.auto.commit": False,
    "enable.partition.eof": True,
})
consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
consumed = []
errors = []
while True:
    msg = consumer.poll(10)
    if msg is None:
        errors.append("poll timed out")
        break
    if msg.error():
        if msg.error().code() == KafkaError._PARTITION_EOF:
            break
        errors.append(msg.error().name())
        break
    consumed.append({"key": msg.key().decode(), "value": msg.value().decode(), "offset": msg.offset()})
consumer.close()
print(json.dumps({"unflushed": unflushed, "reports": reports, "consumed": consumed, "errors": errors}))
