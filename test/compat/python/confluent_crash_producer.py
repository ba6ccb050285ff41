"""confluent-kafka: an idempotent producer (acks=all) that sends numbered records to partition 0
of a topic until a line arrives on stdin, riding out broker crashes (long message timeout).
Prints one JSON line per delivery report as it arrives, then a final summary line."""
import json
import sys
import threading
import time

from confluent_kafka import Producer

bootstrap, topic = sys.argv[1], sys.argv[2]
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()

fatal = []


def on_error(err):
    if err.fatal():
        fatal.append(err.name())


producer = Producer({
    "bootstrap.servers": bootstrap,
    "error_cb": on_error,
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 2,
    "message.timeout.ms": 60000,
    "reconnect.backoff.ms": 20,
    "reconnect.backoff.max.ms": 200,
    "retry.backoff.ms": 20,
})


def on_delivery(err, msg):
    line = {"seq": int(msg.value()), "offset": msg.offset(), "error": None if err is None else err.name()}
    print(json.dumps(line), flush=True)


seq = 0
while not stop.is_set():
    try:
        producer.produce(topic, value=str(seq).encode(), partition=0, on_delivery=on_delivery)
        seq += 1
    except BufferError:
        pass
    producer.poll(0.002)
remaining = producer.flush(60)
print(json.dumps({"done": True, "sent": seq, "unflushed": remaining, "fatal": fatal}), flush=True)
