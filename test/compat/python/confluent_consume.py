"""confluent-kafka: a group member that consumes a topic, committing each record
synchronously, until it has `limit` records or every assigned partition is at its end.
Prints one JSON line."""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError

bootstrap, topic, group, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "enable.partition.eof": True,
    "heartbeat.interval.ms": 200,
})
state = {"assigned": None, "eof": set()}


def on_assign(c, parts):
    state["assigned"] = {tp.partition for tp in parts}


consumer.subscribe([topic], on_assign=on_assign)
consumed = []
error = None
deadline = time.monotonic() + 20
while len(consumed) < limit:
    if time.monotonic() > deadline:
        error = "timed out"
        break
    msg = consumer.poll(0.1)
    if msg is None:
        continue
    if msg.error():
        if msg.error().code() == KafkaError._PARTITION_EOF:
            state["eof"].add(msg.partition())
            if state["assigned"] is not None and state["eof"] >= state["assigned"]:
                break
            continue
        error = msg.error().name()
        break
    state["eof"].discard(msg.partition())
    consumed.append({"partition": msg.partition(), "offset": msg.offset(), "value": msg.value().decode()})
    consumer.commit(message=msg, asynchronous=False)
consumer.close()
print(json.dumps({"consumed": consumed, "error": error}))
