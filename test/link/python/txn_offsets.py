"""confluent-kafka: transactional offset commits (send_offsets_to_transaction) for a group with
no members. Usage: txn_offsets.py BOOTSTRAP TOPIC GROUP ABORTED COMMITTED
The first transaction commits ABORTED for TOPIC partition 0 and is aborted; the second commits
COMMITTED and is committed. Prints one JSON line."""
import json
import sys

from confluent_kafka import Consumer, Producer, TopicPartition

bootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]
aborted, committed = int(sys.argv[4]), int(sys.argv[5])

producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"txn-offsets-{group}"})
producer.init_transactions(15)
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
group_metadata = consumer.consumer_group_metadata()

producer.begin_transaction()
producer.send_offsets_to_transaction([TopicPartition(topic, 0, aborted)], group_metadata, 15)
producer.abort_transaction(15)

producer.begin_transaction()
producer.send_offsets_to_transaction([TopicPartition(topic, 0, committed)], group_metadata, 15)
producer.commit_transaction(15)

consumer.close()
print(json.dumps({"aborted": aborted, "committed": committed}))
