"""The three-node Apache Kafka cluster fixture: replication and leader failover with a real
client. The client core's own failover tests use the same fixture (DESIGN.md 13)."""

import time
import uuid

import pytest

from conftest import create_topic

pytestmark = [pytest.mark.java, pytest.mark.slow]
TIMEOUT = 90


def leaders(bootstrap, topic):
    from confluent_kafka.admin import AdminClient

    md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic=topic, timeout=10)
    return {p: pm.leader for p, pm in md.topics[topic].partitions.items()}


@pytest.mark.timeout(300)
def test_leader_failover_keeps_acknowledged_messages(kafka_cluster):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

    b = kafka_cluster.bootstrap
    topic = "failover-" + uuid.uuid4().hex[:8]
    create_topic(b, topic, partitions=3, replication=3, timeout=60)
    victim = leaders(b, topic)[0]

    p = Producer({"bootstrap.servers": b, "acks": "all", "enable.idempotence": True,
                  "linger.ms": 5, "message.timeout.ms": TIMEOUT * 1000})
    acked, errors = {}, []

    def cb(err, msg):
        if err is None:
            acked[(msg.partition(), msg.offset())] = msg.value()
        else:
            errors.append(err)

    n = 4000
    try:
        for i in range(n):
            p.produce(topic, key=b"k%d" % i, value=b"v%05d" % i, on_delivery=cb)
            p.poll(0)
            if i == n // 2:
                assert p.flush(TIMEOUT) == 0
                kafka_cluster.kill9_node(victim - 1)
        assert p.flush(TIMEOUT) == 0
        assert not errors, errors[:3]
        assert len(acked) == n
        assert leaders(b, topic)[0] != victim, "leadership did not move"

        c = Consumer({"bootstrap.servers": b, "group.id": "g-" + uuid.uuid4().hex,
                      "enable.auto.commit": False})
        got = {}
        try:
            c.assign([TopicPartition(topic, part, OFFSET_BEGINNING) for part in range(3)])
            deadline = time.monotonic() + TIMEOUT
            while len(got) < n and time.monotonic() < deadline:
                for m in c.consume(1000, timeout=0.5):
                    if m.error() is None:
                        got[(m.partition(), m.offset())] = m.value()
        finally:
            c.close()
        assert got == acked
    finally:
        kafka_cluster.start_node(victim - 1)
        kafka_cluster.wait_for_brokers(3)
