"""confluent-kafka: a two-member consumer group. Member A joins alone, member B joins (the
group rebalances), B leaves (A takes everything back); each phase produces ten records per
partition and the members commit every record synchronously. Prints one JSON line."""
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, topic, group, partitions = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ALL = list(range(partitions))
PHASE_TIMEOUT_S = 15

admin = AdminClient({"bootstrap.servers": bootstrap})
admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(10)

producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0})
result = {"phases": {}, "consumed": [], "error": None}


def produce(phase, per_partition):
    for p in ALL:
        for i in range(per_partition):
            producer.produce(topic, key=f"{phase}-{p}-{i}".encode(), value=phase.encode(), partition=p)
    assert producer.flush(10) == 0, "produce did not complete"


class Member:
    def __init__(self, name):
        self.name = name
        self.assigned = set()
        self.rebalances = 0
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "client.id": f"member-{name}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "heartbeat.interval.ms": 200,
            "session.timeout.ms": 6000,
            "partition.assignment.strategy": "range",
        })
        self.consumer.subscribe([topic], on_assign=self.on_assign, on_revoke=self.on_revoke)

    def on_assign(self, consumer, parts):
        self.assigned = {tp.partition for tp in parts}
        self.rebalances += 1

    def on_revoke(self, consumer, parts):
        self.assigned = set()

    def poll(self, phase):
        msg = self.consumer.poll(0.05)
        if msg is None:
            return
        if msg.error():
            raise RuntimeError(f"member {self.name}: {msg.error().name()}")
        result["consumed"].append({"member": self.name, "phase": phase, "partition": msg.partition(),
                                   "offset": msg.offset(), "key": msg.key().decode()})
        self.consumer.commit(message=msg, asynchronous=False)


def run_until(phase, members, done):
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"phase {phase}: timed out; assignments "
                               + str({m.name: sorted(m.assigned) for m in members}))
        for m in members:
            m.poll(phase)


def consumed_in(phase):
    return sum(1 for c in result["consumed"] if c["phase"] == phase)


def record(phase, members):
    result["phases"][phase] = {m.name: sorted(m.assigned) for m in members}


try:
    a = Member("A")
    run_until("alone", [a], lambda: a.assigned == set(ALL))
    produce("alone", 10)
    run_until("alone", [a], lambda: consumed_in("alone") == 10 * partitions)
    record("alone", [a])

    b = Member("B")
    run_until("joined", [a, b], lambda: a.assigned and b.assigned and a.assigned | b.assigned == set(ALL))
    record("joined", [a, b])
    produce("joined", 10)
    run_until("joined", [a, b], lambda: consumed_in("joined") == 10 * partitions)

    b.consumer.close()
    run_until("left", [a], lambda: a.assigned == set(ALL))
    record("left", [a])
    produce("left", 10)
    run_until("left", [a], lambda: consumed_in("left") == 10 * partitions)

    committed = a.consumer.committed([TopicPartition(topic, p) for p in ALL], timeout=10)
    result["committed"] = {str(tp.partition): tp.offset for tp in committed}
    result["rebalances"] = {"A": a.rebalances, "B": b.rebalances}
    a.consumer.close()
except Exception as e:  # reported to the test as data, with the state reached so far
    result["error"] = f"{type(e).__name__}: {e}"
print(json.dumps(result))
