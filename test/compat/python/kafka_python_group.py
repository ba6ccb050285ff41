"""kafka-python: a producer sends N keyed records (acks=all) to a topic, a consumer in a group
reads them and commits; a second consumer of the same group then finds nothing new, and the
group's committed offsets are read back. Prints one JSON line."""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
PARTITIONS = 3
out = {"error": None}

admin = KafkaAdminClient(bootstrap_servers=bootstrap)
admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
admin.close()

producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
futures = [producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode(),
                         headers=[("n", str(i).encode())]) for i in range(count)]
producer.flush(10)
out["sent"] = [{"partition": m.partition, "offset": m.offset} for m in (f.get(10) for f in futures)]
producer.close()


def group_consumer():
    return KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                         enable_auto_commit=False, consumer_timeout_ms=1500, heartbeat_interval_ms=200)


consumer = group_consumer()
received = []
deadline = time.monotonic() + 20
while len(received) < count and time.monotonic() < deadline:
    for msg in consumer:
        received.append({"partition": msg.partition, "offset": msg.offset, "key": msg.key.decode(),
                         "value": msg.value.decode(), "headers": [[k, v.decode()] for k, v in msg.headers]})
        if len(received) == count:
            break
consumer.commit()
out["received"] = received
out["assignment"] = sorted(tp.partition for tp in consumer.assignment())
consumer.close()

again = group_consumer()
out["receivedAgain"] = [m.offset for m in again]
out["committed"] = {str(p): again.committed(TopicPartition(topic, p)) for p in range(PARTITIONS)}
again.close()
print(json.dumps(out))
