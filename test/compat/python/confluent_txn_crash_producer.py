"""confluent-kafka: a transactional producer that runs one transaction after another on
partition 0 of a topic until it is killed. Each transaction holds PER_TXN records
"<tag>-<txn>-<n>". Prints {"open": txn} once a transaction's records are acknowledged (it then
waits 300 ms before committing, so a test can crash the broker while it is open) and
{"committed": txn} once commit_transaction returned."""
import json
import sys
import time

from confluent_kafka import Producer

bootstrap, topic, txn_id, tag = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
PER_TXN = 5

producer = Producer({
    "bootstrap.servers": bootstrap,
    "transactional.id": txn_id,
    "transaction.timeout.ms": 3000,
    "linger.ms": 2,
    "reconnect.backoff.ms": 20,
})
producer.init_transactions(30)
txn = 0
while True:
    producer.begin_transaction()
    for n in range(PER_TXN):
        producer.produce(topic, value=f"{tag}-{txn}-{n}".encode(), partition=0)
    producer.flush(30)
    print(json.dumps({"open": txn}), flush=True)
    time.sleep(0.3)
    producer.commit_transaction(30)
    print(json.dumps({"committed": txn}), flush=True)
    txn += 1
