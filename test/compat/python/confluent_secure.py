"""confluent-kafka over TLS/SASL: produces N records to a topic, then reads them back from the
beginning. argv: JSON client settings (security.protocol, sasl.*, ssl.*), bootstrap, topic, N.
Prints one JSON line: {"produced": n, "consumed": [values], "error": str|null}."""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer

settings, bootstrap, topic, count = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
base = dict(settings, **{"bootstrap.servers": bootstrap})
result = {"produced": 0, "consumed": [], "error": None}
errors = []


def on_error(err):
    errors.append(str(err))


try:
    producer = Producer(dict({"message.timeout.ms": 8000}, **base, **{"error_cb": on_error}))
    delivered = []
    for i in range(count):
        producer.produce(topic, value=f"v{i}".encode(), on_delivery=lambda e, m: delivered.append(e))
    producer.flush(10)
    failures = [str(e) for e in delivered if e is not None]
    result["produced"] = sum(1 for e in delivered if e is None)
    if failures or result["produced"] != count:
        raise KafkaException(failures[0] if failures else (errors[0] if errors else "not delivered"))
    consumer = Consumer(dict(base, **{
        "group.id": f"secure-{topic}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "error_cb": on_error,
    }))
    consumer.subscribe([topic])
    deadline = time.monotonic() + 15
    while len(result["consumed"]) < count and time.monotonic() < deadline:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            raise KafkaException(msg.error())
        result["consumed"].append(msg.value().decode())
    consumer.close()
    if len(result["consumed"]) < count:
        raise KafkaException(errors[0] if errors else "timed out consuming")
except Exception as e:  # reported to the test, which decides
    # The delivery error is often a timeout; the reason (auth, TLS) came through error_cb.
    result["error"] = "; ".join([str(e)] + errors)
print(json.dumps(result))
