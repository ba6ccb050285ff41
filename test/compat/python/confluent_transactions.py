"""confluent-kafka transactional producers. Usage: confluent_transactions.py MODE BOOTSTRAP ARGS...

commit-abort TOPIC: three transactions to partition 0 (commit c0-c4, abort a0-a4, commit
  c5-c9); then a read_committed and a read_uncommitted consumer read the partition.
zombie TOPIC TXNID: producer A opens a transaction and sends z0; producer B initialises the same
  transactional id (fencing A), sends b0 and commits; A then tries to commit. A read_committed
  consumer reads the partition.
ctp IN OUT GROUP: consume-transform-produce: a read_committed group member reads IN, a
  transactional producer writes upper-cased values to OUT and sends the consumer's positions
  with send_offsets_to_transaction; one transaction is committed, a second (with other
  offsets) is aborted. Reports the group's committed offsets and what OUT holds.
read TOPIC: a read_committed consumer reads partition 0 from the beginning.
Prints one JSON line."""
import json
import sys

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer,
                             TopicPartition)

mode, bootstrap = sys.argv[1], sys.argv[2]


def txn_producer(txn_id, **extra):
    conf = {
        "bootstrap.servers": bootstrap,
        "transactional.id": txn_id,
        "linger.ms": 5,
        "transaction.timeout.ms": 20000,
    }
    conf.update(extra)
    return Producer(conf)


def read_partition(topic, isolation, partition=0):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "unused-by-assign",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "isolation.level": isolation,
    })
    consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
    values, errors = [], []
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
        values.append({"offset": msg.offset(), "value": msg.value().decode()})
    consumer.close()
    return values, errors


def error_of(e):
    err = e.args[0]
    return {"name": err.name(), "fatal": err.fatal(), "abortable": err.txn_requires_abort()}


def send(producer, topic, values, partition=0):
    for v in values:
        producer.produce(topic, value=v.encode(), partition=partition)
    producer.flush(20)


if mode == "commit-abort":
    topic = sys.argv[3]
    p = txn_producer("txn-" + topic)
    p.init_transactions(20)
    p.begin_transaction()
    send(p, topic, [f"c{i}" for i in range(5)])
    p.commit_transaction(20)
    p.begin_transaction()
    send(p, topic, [f"a{i}" for i in range(5)])
    p.abort_transaction(20)
    p.begin_transaction()
    send(p, topic, [f"c{i}" for i in range(5, 10)])
    p.commit_transaction(20)
    committed, errors_c = read_partition(topic, "read_committed")
    uncommitted, errors_u = read_partition(topic, "read_uncommitted")
    print(json.dumps({"committed": committed, "uncommitted": uncommitted, "errors": errors_c + errors_u}))

elif mode == "zombie":
    topic, txn_id = sys.argv[3], sys.argv[4]
    a = txn_producer(txn_id)
    a.init_transactions(20)
    a.begin_transaction()
    send(a, topic, ["z0"])
    b = txn_producer(txn_id)
    b.init_transactions(20)
    b.begin_transaction()
    send(b, topic, ["b0"])
    b.commit_transaction(20)
    zombie = None
    try:
        a.produce(topic, value=b"z1", partition=0)
        a.flush(10)
        a.commit_transaction(20)
        zombie = {"name": "committed", "fatal": False, "abortable": False}
    except KafkaException as e:
        zombie = error_of(e)
    committed, errors = read_partition(topic, "read_committed")
    print(json.dumps({"zombie": zombie, "committed": committed, "errors": errors}))

elif mode == "ctp":
    in_topic, out_topic, group = sys.argv[3], sys.argv[4], sys.argv[5]
    plain = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    send(plain, in_topic, [f"v{i}" for i in range(10)])
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    })
    consumer.subscribe([in_topic])
    p = txn_producer("ctp-" + group)
    p.init_transactions(20)
    seen = []
    while len(seen) < 10:
        msg = consumer.poll(15)
        if msg is None:
            break
        if msg.error():
            continue
        seen.append(msg)
    p.begin_transaction()
    for msg in seen:
        p.produce(out_topic, value=msg.value().decode().upper().encode(), partition=0)
    p.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                  consumer.consumer_group_metadata(), 20)
    p.commit_transaction(20)
    after_commit = [[tp.topic, tp.partition, tp.offset]
                    for tp in consumer.committed([TopicPartition(in_topic, 0)], 10)]
    # A second transaction offers other offsets and is aborted: they must not take effect.
    p.begin_transaction()
    p.produce(out_topic, value=b"ABORTED", partition=0)
    p.send_offsets_to_transaction([TopicPartition(in_topic, 0, 3)], consumer.consumer_group_metadata(), 20)
    p.abort_transaction(20)
    after_abort = [[tp.topic, tp.partition, tp.offset]
                   for tp in consumer.committed([TopicPartition(in_topic, 0)], 10)]
    consumer.close()
    out, errors = read_partition(out_topic, "read_committed")
    print(json.dumps({"seen": len(seen), "afterCommit": after_commit, "afterAbort": after_abort,
                      "out": [v["value"] for v in out], "errors": errors}))

elif mode == "read":
    values, errors = read_partition(sys.argv[3], "read_committed")
    print(json.dumps({"values": [v["value"] for v in values], "errors": errors}))

else:
    raise SystemExit(f"unknown mode {mode}")
