"""Transactions end to end (issues 4 and 5), against our broker and Apache Kafka 4.1.1.

* kafkars.so's ``initTransactions``/``beginTransaction``/``commitTransaction``/
  ``abortTransaction`` (php-rdkafka's API over the client core): committed messages are seen
  by a read_committed confluent-kafka consumer and by our own KafkaConsumer (read_committed is
  librdkafka's default), aborted ones only by read_uncommitted readers.
* A second producer with the same ``transactional.id`` fences the first: its open
  transaction is aborted by the coordinator and its commit fails with a fatal ``_FENCED``.
* Our consumer filters aborted transactions written by another client (confluent-kafka's
  transactional producer, librdkafka 2.x).
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import create_topic
from test_packaging import php_ext

SCRIPTS = Path(__file__).resolve().parent / "txn"

pytestmark = pytest.mark.skipif(php_ext() is None, reason="needs a built kafkars.so")


def php(script: str, *args: str, timeout: float = 60) -> list[str]:
    proc = subprocess.run(["php", "-n", "-d", f"extension={php_ext()}", str(SCRIPTS / script),
                           *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{script} exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout.splitlines()


def confluent_read(bootstrap: str, topic: str, isolation: str, want: int) -> list[str]:
    """Every payload of partition 0 up to its end, as a confluent-kafka consumer sees it."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4().hex}",
                  "isolation.level": isolation, "enable.partition.eof": True,
                  "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        out: list[str] = []
        for _ in range(200):
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF and len(out) >= want:
                    break
                continue
            out.append(m.value().decode())
        return out
    finally:
        c.close()


def test_php_commit_and_abort_round_trip(any_broker, topic):
    create_topic(any_broker.bootstrap, topic)
    out = php("roundtrip.php", any_broker.bootstrap, topic, f"tx-{uuid.uuid4().hex}")
    assert out[0] == "produce before begin: RdKafka\\Exception -172 Local: Erroneous state"
    assert out[1:7] == [
        "init: ok",
        "commit 1: ok, delivered 3",
        "abort: ok, delivered 5",
        "commit 2: ok, delivered 7, failed 0",
        "commit outside a transaction: Operation not valid in state Ready "
        "(RD_KAFKA_RESP_ERR__STATE)",
        "read_committed: commit-0,commit-1,commit-2,after-0,after-1",
    ]
    assert out[7] == ("read_uncommitted: commit-0,commit-1,commit-2,abort-0,abort-1,"
                      "after-0,after-1")
    committed = ["commit-0", "commit-1", "commit-2", "after-0", "after-1"]
    assert confluent_read(any_broker.bootstrap, topic, "read_committed", 5) == committed
    assert confluent_read(any_broker.bootstrap, topic, "read_uncommitted", 7) == [
        "commit-0", "commit-1", "commit-2", "abort-0", "abort-1", "after-0", "after-1"]


def test_php_second_producer_fences_the_first(any_broker, topic):
    create_topic(any_broker.bootstrap, topic)
    out = php("fenced.php", any_broker.bootstrap, topic, f"tx-{uuid.uuid4().hex}")
    assert out == [
        "a: produced in an open transaction",
        "b: init ok",
        "a: commit: code -144 fatal true retriable false abort false: Failed to end "
        "transaction: Local: This instance has been fenced by a newer instance "
        "(RD_KAFKA_RESP_ERR__FENCED)",
        "a: begin: code -144 fatal true",
        "b: committed",
    ]
    assert confluent_read(any_broker.bootstrap, topic, "read_committed", 1) == ["from-b"]
    assert confluent_read(any_broker.bootstrap, topic, "read_uncommitted", 2) == [
        "from-a", "from-b"]


def test_our_consumer_skips_aborted_transactions_of_librdkafka(any_broker, topic):
    from confluent_kafka import Producer

    create_topic(any_broker.bootstrap, topic)
    p = Producer({"bootstrap.servers": any_broker.bootstrap,
                  "transactional.id": f"tx-{uuid.uuid4().hex}"})
    p.init_transactions(30)
    for outcome, values in (("commit", ["c1", "c2"]), ("abort", ["a1", "a2", "a3"]),
                            ("commit", ["c3"])):
        p.begin_transaction()
        for v in values:
            p.produce(topic, v.encode(), partition=0)
        p.flush(15)
        if outcome == "commit":
            p.commit_transaction(15)
        else:
            p.abort_transaction(15)
    assert php("consume.php", any_broker.bootstrap, topic, "default", "3") == ["c1,c2,c3"]
    assert php("consume.php", any_broker.bootstrap, topic, "read_uncommitted", "6") == [
        "c1,c2,a1,a2,a3,c3"]
