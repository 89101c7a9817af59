"""Broker transactions (KIP-98) with confluent-kafka's transactional producer and
read_committed / read_uncommitted consumers.

Each client test runs against our broker and against Apache Kafka 4.1.1 (`java` marker), so
the assertions are Kafka's behaviour. The restart tests (kill -9 mid- and after-transaction)
run against our broker only.
"""

import time
import uuid

import pytest

from conftest import KafkarsBroker, create_topic, wait_until

TIMEOUT = 30


@pytest.fixture(params=["kafkars", pytest.param("kafka", marks=pytest.mark.java)])
def broker(request):
    if request.param == "kafkars":
        return request.getfixturevalue("shared_kafkars")
    return request.getfixturevalue("apache_kafka")


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def txn_producer(bootstrap: str, txn_id: str, **conf):
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id, "linger.ms": 5,
                  "message.timeout.ms": TIMEOUT * 1000, **conf})
    p.init_transactions(TIMEOUT)
    return p


def produce_txn(p, topic: str, values, partitions: int = 1) -> None:
    for i, v in enumerate(values):
        p.produce(topic, value=v, partition=i % partitions)
    assert p.flush(TIMEOUT) == 0


def read_all(bootstrap: str, topic: str, partitions: int, isolation: str,
             expect: int, timeout: float = TIMEOUT) -> list:
    """Values of `topic` from the beginning until `expect` values arrived (then a short extra
    poll so more would show) or `timeout` passes."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": name("reader"),
                  "isolation.level": isolation, "enable.auto.commit": False,
                  "enable.partition.eof": True})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values, eof = [], set()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    eof.add(m.partition())
                    if len(values) >= expect and len(eof) == partitions:
                        break
                    continue
                raise AssertionError(m.error())
            values.append(m.value())
    finally:
        c.close()
    return values


def high_watermark(bootstrap: str, topic: str, partition: int, isolation: str) -> int:
    """ListOffsets "latest" with the consumer's isolation level (the LSO for read_committed)."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": name("wm"),
                  "isolation.level": isolation})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
    finally:
        c.close()


def test_commit_is_visible_to_read_committed(broker):
    topic = name("txc")
    create_topic(broker.bootstrap, topic, partitions=2)
    p = txn_producer(broker.bootstrap, name("tid"))
    p.begin_transaction()
    values = [b"c-%03d" % i for i in range(50)]
    produce_txn(p, topic, values, partitions=2)
    p.commit_transaction(TIMEOUT)
    got = read_all(broker.bootstrap, topic, 2, "read_committed", len(values))
    assert sorted(got) == values


def test_abort_is_invisible_to_read_committed_only(broker):
    topic = name("txa")
    create_topic(broker.bootstrap, topic, partitions=2)
    p = txn_producer(broker.bootstrap, name("tid"))
    p.begin_transaction()
    aborted = [b"a-%03d" % i for i in range(20)]
    produce_txn(p, topic, aborted, partitions=2)
    p.abort_transaction(TIMEOUT)
    p.begin_transaction()
    committed = [b"c-%03d" % i for i in range(10)]
    produce_txn(p, topic, committed, partitions=2)
    p.commit_transaction(TIMEOUT)
    got = read_all(broker.bootstrap, topic, 2, "read_committed", len(committed))
    assert sorted(got) == committed
    everything = read_all(broker.bootstrap, topic, 2, "read_uncommitted", 30)
    assert sorted(everything) == aborted + committed


def test_open_transaction_holds_the_stable_offset(broker):
    from confluent_kafka import Producer

    topic = name("txo")
    create_topic(broker.bootstrap, topic)
    p = txn_producer(broker.bootstrap, name("tid"))
    p.begin_transaction()
    produce_txn(p, topic, [b"t-%d" % i for i in range(5)])
    plain = Producer({"bootstrap.servers": broker.bootstrap})
    plain.produce(topic, value=b"plain", partition=0)
    assert plain.flush(TIMEOUT) == 0
    assert high_watermark(broker.bootstrap, topic, 0, "read_uncommitted") == 6
    assert high_watermark(broker.bootstrap, topic, 0, "read_committed") == 0
    assert read_all(broker.bootstrap, topic, 1, "read_committed", 0, timeout=3) == []
    p.commit_transaction(TIMEOUT)
    wait_until(lambda: high_watermark(broker.bootstrap, topic, 0, "read_committed") == 7,
               TIMEOUT, "the LSO to pass the commit marker")
    got = read_all(broker.bootstrap, topic, 1, "read_committed", 6)
    assert got == [b"t-%d" % i for i in range(5)] + [b"plain"]


def test_second_producer_with_the_same_id_fences_the_first(broker):
    from confluent_kafka import KafkaException

    topic = name("txf")
    create_topic(broker.bootstrap, topic)
    tid = name("tid")
    first = txn_producer(broker.bootstrap, tid)
    first.begin_transaction()
    produce_txn(first, topic, [b"old-1", b"old-2"])
    second = txn_producer(broker.bootstrap, tid)  # aborts first's transaction
    with pytest.raises(KafkaException) as err:
        first.commit_transaction(TIMEOUT)
    assert err.value.args[0].fatal() or "fenced" in str(err.value).lower(), err.value
    second.begin_transaction()
    produce_txn(second, topic, [b"new-1"])
    second.commit_transaction(TIMEOUT)
    assert read_all(broker.bootstrap, topic, 1, "read_committed", 1) == [b"new-1"]
    assert sorted(read_all(broker.bootstrap, topic, 1, "read_uncommitted", 3)) == [
        b"new-1", b"old-1", b"old-2"]


def test_offsets_sent_to_a_transaction_appear_on_commit(broker):
    from confluent_kafka import Consumer, Producer, TopicPartition

    src, dst, group = name("txin"), name("txout"), name("g")
    create_topic(broker.bootstrap, src)
    create_topic(broker.bootstrap, dst)
    plain = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(10):
        plain.produce(src, value=b"in-%d" % i, partition=0)
    assert plain.flush(TIMEOUT) == 0

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "isolation.level": "read_committed"})
    c.subscribe([src])
    seen = []
    deadline = time.monotonic() + TIMEOUT
    while len(seen) < 10 and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is not None and not m.error():
            seen.append(m.value())
    assert len(seen) == 10
    p = txn_producer(broker.bootstrap, name("tid"))
    p.begin_transaction()
    produce_txn(p, dst, [v.replace(b"in", b"out") for v in seen])
    p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(),
                                  TIMEOUT)

    # read_uncommitted asks without require_stable: the group's offset as it stands. (A
    # read_committed consumer gets UNSTABLE_OFFSET_COMMIT, retried, while the txn is open.)
    checker = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                        "isolation.level": "read_uncommitted"})

    def committed(consumer):
        return consumer.committed([TopicPartition(src, 0)], timeout=10)[0].offset

    assert committed(checker) < 0, "offsets must not be visible before the commit"
    p.commit_transaction(TIMEOUT)
    wait_until(lambda: committed(checker) == 10, TIMEOUT, "the transaction's offsets")
    assert committed(c) == 10
    checker.close()
    c.close()
    assert len(read_all(broker.bootstrap, dst, 1, "read_committed", 10)) == 10


def test_kafka_python_transactions(broker):
    """kafka-python's transactional producer (a second, pure-Python implementation)."""
    from kafka import KafkaProducer

    topic = name("txp")
    create_topic(broker.bootstrap, topic)
    p = KafkaProducer(bootstrap_servers=broker.bootstrap, transactional_id=name("tid"))
    try:
        p.init_transactions()
        p.begin_transaction()
        for i in range(3):
            p.send(topic, b"a-%d" % i, partition=0)
        p.flush(TIMEOUT)
        p.abort_transaction()
        p.begin_transaction()
        for i in range(3):
            p.send(topic, b"c-%d" % i, partition=0)
        p.commit_transaction()
    finally:
        p.close(timeout=10)
    assert read_all(broker.bootstrap, topic, 1, "read_committed", 3) == [b"c-0", b"c-1", b"c-2"]
    assert len(read_all(broker.bootstrap, topic, 1, "read_uncommitted", 6)) == 6

def test_kill9_mid_and_after_transactions(tmp_path):
    """Committed, aborted and open transactions, then kill -9 and a restart: committed data
    is visible to read_committed, aborted data is not, and the open transaction is aborted
    once its timeout passes (so read_committed consumers move on)."""
    broker = KafkarsBroker(tmp_path / "data", tmp_path / "broker.log").start()
    try:
        topic = name("txk")
        create_topic(broker.bootstrap, topic, partitions=2)
        p = txn_producer(broker.bootstrap, name("tid"))
        p.begin_transaction()
        produce_txn(p, topic, [b"c-%d" % i for i in range(10)], partitions=2)
        p.commit_transaction(TIMEOUT)
        p.begin_transaction()
        produce_txn(p, topic, [b"a-%d" % i for i in range(6)], partitions=2)
        p.abort_transaction(TIMEOUT)
        o = txn_producer(broker.bootstrap, name("tid"), **{"transaction.timeout.ms": 4000,
                                                            "message.timeout.ms": 4000})
        o.begin_transaction()
        produce_txn(o, topic, [b"o-%d" % i for i in range(4)], partitions=2)
        broker.kill9()
        broker.restart()
        # The open transaction holds the LSO until its timeout aborts it, then the committed
        # data (and nothing else) is readable.
        wait_until(lambda: high_watermark(broker.bootstrap, topic, 0, "read_committed")
                   == high_watermark(broker.bootstrap, topic, 0, "read_uncommitted"),
                   TIMEOUT, "the open transaction to be aborted after its timeout")
        got = read_all(broker.bootstrap, topic, 2, "read_committed", 10)
        assert sorted(got) == sorted(b"c-%d" % i for i in range(10))
        all_values = read_all(broker.bootstrap, topic, 2, "read_uncommitted", 20)
        assert len(all_values) == 20
        # A new transaction after the restart commits normally.
        n = txn_producer(broker.bootstrap, name("tid"))
        n.begin_transaction()
        produce_txn(n, topic, [b"n-1"], partitions=2)
        n.commit_transaction(TIMEOUT)
        got = read_all(broker.bootstrap, topic, 2, "read_committed", 11)
        assert sorted(got) == sorted([b"c-%d" % i for i in range(10)] + [b"n-1"])
        # And the same after another kill -9 with nothing open (state rebuilt from the log,
        # the aborted-transaction index and the state file).
        broker.kill9()
        broker.restart()
        got = read_all(broker.bootstrap, topic, 2, "read_committed", 11)
        assert sorted(got) == sorted([b"c-%d" % i for i in range(10)] + [b"n-1"])
    finally:
        broker.close()


@pytest.mark.java
def test_java_transactional_copier_exactly_once(shared_kafkars, java_tool):
    """Kafka's own EOS tool (consume, produce in transactions with random aborts, offsets sent
    to the transaction) copies every input record exactly once as read_committed sees it."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    broker = shared_kafkars
    src, dst, group = name("cpin"), name("cpout"), name("copier")
    create_topic(broker.bootstrap, src)
    create_topic(broker.bootstrap, dst)
    plain = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    for i in range(200):
        plain.produce(src, value=b"%d" % i, partition=0)
    assert plain.flush(TIMEOUT) == 0
    java_tool("org.apache.kafka.tools.TransactionalMessageCopier",
              ["--broker-list", broker.bootstrap, "--input-topic", src, "--input-partition", "0",
               "--output-topic", dst, "--transactional-id", name("copier-tid"),
               "--consumer-group", group, "--transaction-size", "30",
               "--enable-random-aborts"], timeout=90)
    got = read_all(broker.bootstrap, dst, 1, "read_committed", 200)
    assert sorted(got, key=int) == [b"%d" % i for i in range(200)]
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group})
    try:
        assert c.committed([TopicPartition(src, 0)], timeout=10)[0].offset == 200
    finally:
        c.close()


@pytest.mark.java
def test_kafka_transactions_tool_lists_and_describes(shared_kafkars, java_tool):
    """`kafka-transactions.sh list|describe` (ListTransactions, DescribeTransactions)."""
    broker = shared_kafkars
    topic, tid = name("txl"), name("tid")
    create_topic(broker.bootstrap, topic)
    p = txn_producer(broker.bootstrap, tid)
    p.begin_transaction()
    produce_txn(p, topic, [b"x"])
    cmd = "org.apache.kafka.tools.TransactionsCommand"
    listed = java_tool(cmd, ["--bootstrap-server", broker.bootstrap, "list"]).stdout.decode()
    row = next(line.split() for line in listed.splitlines() if line.startswith(tid))
    assert row[3] == "Ongoing", listed
    described = java_tool(cmd, ["--bootstrap-server", broker.bootstrap, "describe",
                                "--transactional-id", tid]).stdout.decode()
    assert "Ongoing" in described and f"{topic}-0" in described, described
    p.abort_transaction(TIMEOUT)
