"""confluent-kafka: a group member that consumes a topic, committing each record
synchronously, until it has `limit` records or every assigned partition is at its end.
With a fifth argument N it stops after N records, prints {"paused": N} and waits for a line
on stdin before going on (the test restarts the broker meanwhile). Prints one JSON line."""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError

bootstrap, topic, group, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
pause_after = int(sys.argv[5]) if len(sys.argv) > 5 else None

consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "enable.partition.eof": True,
    "heartbeat.interval.ms": 200,
    "reconnect.backoff.ms": 20,
    "reconnect.backoff.max.ms": 200,
})
state = {"assigned": None, "eof": set()}


def on_assign(c, parts):
    state["assigned"] = {tp.partition for tp in parts}


consumer.subscribe([topic], on_assign=on_assign)
consumed = []
error = None
transient = []  # connection errors librdkafka reports while the broker restarts
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
        if msg.error().code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN):
            transient.append(msg.error().name())
            continue
        error = msg.error().name()
        break
    state["eof"].discard(msg.partition())
    consumed.append({"partition": msg.partition(), "offset": msg.offset(), "value": msg.value().decode()})
    consumer.commit(message=msg, asynchronous=False)
    if len(consumed) == pause_after:
        print(json.dumps({"paused": pause_after}), flush=True)
        sys.stdin.readline()
        deadline = time.monotonic() + 20
consumer.close()
print(json.dumps({"consumed": consumed, "error": error, "transient": transient}))
