"""Kafka's own CLI (Maven jars, Java client) against the broker: the seed walk-through, exactly.

    kafka-topics --create --topic xiaojun --partitions 1 --replication-factor 1
    kafka-topics --describe --topic xiaojun
    kafka-console-producer --topic xiaojun            (3 lines)
    kafka-console-consumer --topic xiaojun --from-beginning
    kafka-console-consumer --topic xiaojun --partition 0 --offset 2   (only the third line)
    kafka-topics --delete --topic xiaojun
"""

import pytest

from conftest import wait_until

pytestmark = [pytest.mark.java]

TOPICS = "org.apache.kafka.tools.TopicCommand"
PRODUCER = "org.apache.kafka.tools.ConsoleProducer"
CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"


def topics(java_tool, broker, *args, **kw):
    return java_tool(TOPICS, ["--bootstrap-server", broker.bootstrap, *args], **kw)


def lines(proc):
    return proc.stdout.decode().splitlines()


@pytest.mark.timeout(240)
def test_seed_walkthrough(any_broker, java_tool):
    b = any_broker.bootstrap
    t = "xiaojun"
    out = topics(java_tool, any_broker, "--create", "--topic", t, "--partitions", "1",
                 "--replication-factor", "1")
    assert "Created topic xiaojun." in out.stdout.decode()

    desc = topics(java_tool, any_broker, "--describe", "--topic", t).stdout.decode()
    assert "Topic: xiaojun" in desc and "PartitionCount: 1" in desc, desc
    assert "ReplicationFactor: 1" in desc, desc
    assert "Partition: 0" in desc and "Leader: " in desc and "Leader: none" not in desc, desc

    java_tool(PRODUCER, ["--bootstrap-server", b, "--topic", t],
              input=b"hello kafkars\nsecond message\nthird message\n")

    got = java_tool(CONSUMER, ["--bootstrap-server", b, "--topic", t, "--from-beginning",
                               "--max-messages", "3", "--timeout-ms", "30000"])
    assert lines(got) == ["hello kafkars", "second message", "third message"]

    got = java_tool(CONSUMER, ["--bootstrap-server", b, "--topic", t, "--partition", "0",
                               "--offset", "2", "--timeout-ms", "5000"], check=False)
    assert lines(got) == ["third message"], got.stderr.decode()[-2000:]

    topics(java_tool, any_broker, "--delete", "--topic", t)
    wait_until(lambda: t not in lines(topics(java_tool, any_broker, "--list")), 60,
               "topic xiaojun to disappear from --list")


@pytest.mark.timeout(240)
def test_java_idempotent_producer_and_console_consumer(any_broker, java_tool, topic):
    """ConsoleProducer uses the Java producer (idempotent by default: InitProducerId, sequence
    numbers); keys and values round-trip through ConsoleConsumer with a consumer group."""
    b = any_broker.bootstrap
    topics(java_tool, any_broker, "--create", "--topic", topic, "--partitions", "2",
           "--replication-factor", "1")
    n = 2000
    payload = b"".join(b"key%d\tvalue-%05d\n" % (i % 10, i) for i in range(n))
    java_tool(PRODUCER, ["--bootstrap-server", b, "--topic", topic,
                         "--property", "parse.key=true", "--property", "key.separator=\t",
                         "--producer-property", "enable.idempotence=true",
                         "--producer-property", "acks=all",
                         "--producer-property", "compression.type=zstd"], input=payload)
    got = java_tool(CONSUMER, ["--bootstrap-server", b, "--topic", topic, "--from-beginning",
                               "--group", f"g-{topic}", "--max-messages", str(n),
                               "--timeout-ms", "60000",
                               "--property", "print.key=true",
                               "--property", "print.partition=true"], timeout=120)
    rows = [r.split("\t") for r in lines(got)]
    assert len(rows) == n
    seen = sorted(r[-1] for r in rows)
    assert seen == sorted("value-%05d" % i for i in range(n))
    for row in rows:
        part, key, value = row[0], row[1], row[2]
        assert key == "key%d" % (int(value.split("-")[1]) % 10)
        assert part.startswith("Partition:")
    # Keys map to one partition each (Java's murmur2 partitioner).
    key_part = {}
    for part, key, _ in rows:
        assert key_part.setdefault(key, part) == part
