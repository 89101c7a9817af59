"""confluent-kafka (bundled librdkafka 2.x) and kafka-python (pure Python) against the broker.

Every producer/consumer pairing, for each compression codec: keys, headers, null and empty
payloads, binary values, and a few hundred ordinary records so batches hold many records.
Checked: delivery offsets, and that the consumer sees exactly what was acknowledged, in order,
at the acknowledged offsets.
"""

import time
import uuid

import pytest

from conftest import create_topic

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
CLIENTS = ["confluent", "kafka-python"]
TIMEOUT = 60


def sample_records():
    """(key, value, headers) triples; headers as a list of (str, bytes)."""
    records = [
        (b"k-null-value", None, [("h", b"tombstone")]),
        (None, b"no key", []),
        (b"k-empty", b"", [("empty", b"")]),
        (b"k-binary", bytes(range(256)), [("a", b"1"), ("b", b"\x00\xff"), ("a", b"dup")]),
        ("k-unicode-\u00e9".encode(), "valeur \u00e9\u00e8 \u2603".encode(), [("\u00e9", b"x")]),
    ]
    for i in range(400):
        records.append((b"key-%d" % (i % 7), b"value-%06d " % i + b"x" * (i % 50),
                        [("seq", str(i).encode())] if i % 3 == 0 else []))
    return records


# ---- producers: return the list of acknowledged offsets in produce order -------------------


def produce_confluent(bootstrap, topic, records, codec):
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 5,
                  "acks": "all", "message.timeout.ms": TIMEOUT * 1000})
    acked = [None] * len(records)
    errors = []

    def on_delivery(i):
        def cb(err, msg):
            if err is not None:
                errors.append((i, err))
            else:
                acked[i] = msg.offset()
        return cb

    for i, (key, value, headers) in enumerate(records):
        p.produce(topic, value=value, key=key, partition=0, headers=headers or None,
                  on_delivery=on_delivery(i))
        p.poll(0)
    remaining = p.flush(TIMEOUT)
    assert remaining == 0, f"{remaining} messages not delivered"
    assert not errors, errors[:5]
    return acked


def produce_kafka_python(bootstrap, topic, records, codec):
    from kafka import KafkaProducer

    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                      compression_type=None if codec == "none" else codec,
                      request_timeout_ms=TIMEOUT * 1000)
    try:
        futures = [p.send(topic, value=value, key=key, partition=0, headers=headers)
                   for key, value, headers in records]
        p.flush(timeout=TIMEOUT)
        return [f.get(timeout=TIMEOUT).offset for f in futures]
    finally:
        p.close(timeout=10)


# ---- consumers: return [(offset, key, value, headers)] for partition 0 ----------------------


def consume_confluent(bootstrap, topic, count):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4().hex}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    out = []
    try:
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        deadline = time.monotonic() + TIMEOUT
        while len(out) < count and time.monotonic() < deadline:
            for m in c.consume(num_messages=500, timeout=0.5):
                assert m.error() is None, m.error()
                out.append((m.offset(), m.key(), m.value(), list(m.headers() or [])))
    finally:
        c.close()
    return out


def consume_kafka_python(bootstrap, topic, count):
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      auto_offset_reset="earliest", request_timeout_ms=TIMEOUT * 1000)
    out = []
    try:
        tp = TopicPartition(topic, 0)
        c.assign([tp])
        c.seek_to_beginning(tp)
        deadline = time.monotonic() + TIMEOUT
        while len(out) < count and time.monotonic() < deadline:
            for msgs in c.poll(timeout_ms=500).values():
                for m in msgs:
                    out.append((m.offset, m.key, m.value, list(m.headers or [])))
    finally:
        c.close()
    return out


PRODUCERS = {"confluent": produce_confluent, "kafka-python": produce_kafka_python}
CONSUMERS = {"confluent": consume_confluent, "kafka-python": consume_kafka_python}


@pytest.mark.timeout(180)
@pytest.mark.parametrize("consumer", CLIENTS)
@pytest.mark.parametrize("producer", CLIENTS)
@pytest.mark.parametrize("codec", CODECS)
def test_produce_consume(any_broker, topic, codec, producer, consumer):
    create_topic(any_broker.bootstrap, topic, partitions=1)
    records = sample_records()
    acked = PRODUCERS[producer](any_broker.bootstrap, topic, records, codec)
    assert acked == list(range(len(records))), "offsets not dense from 0 in produce order"

    got = CONSUMERS[consumer](any_broker.bootstrap, topic, len(records))
    assert len(got) == len(records), f"consumed {len(got)} of {len(records)}"
    for (off, key, value, headers), (ekey, evalue, eheaders), eoff in zip(got, records, acked):
        assert off == eoff
        assert key == ekey, f"offset {off}"
        assert value == evalue, f"offset {off}"
        assert [(k, bytes(v) if v is not None else None) for k, v in headers] == eheaders, \
            f"offset {off}"


@pytest.mark.timeout(120)
def test_consumer_resumes_from_offset(any_broker, topic):
    """Assign at an explicit offset: the first record returned is that offset."""
    from confluent_kafka import Consumer, TopicPartition

    create_topic(any_broker.bootstrap, topic, partitions=1)
    records = [(None, b"v%d" % i, []) for i in range(50)]
    produce_confluent(any_broker.bootstrap, topic, records, "none")
    c = Consumer({"bootstrap.servers": any_broker.bootstrap, "group.id": "g-" + uuid.uuid4().hex,
                  "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(topic, 0, 42)])
        deadline = time.monotonic() + TIMEOUT
        got = []
        while len(got) < 8 and time.monotonic() < deadline:
            got += [m for m in c.consume(10, timeout=0.5) if m.error() is None]
        assert [(m.offset(), m.value()) for m in got] == [(i, b"v%d" % i) for i in range(42, 50)]
        low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        assert (low, high) == (0, 50)
    finally:
        c.close()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("client", CLIENTS)
def test_idempotent_producer(any_broker, topic, client):
    """enable.idempotence: InitProducerId, then sequence-numbered batches over two partitions;
    every record lands exactly once, in order per partition."""
    create_topic(any_broker.bootstrap, topic, partitions=2)
    n = 5000
    if client == "confluent":
        from confluent_kafka import Producer

        p = Producer({"bootstrap.servers": any_broker.bootstrap, "enable.idempotence": True,
                      "linger.ms": 2, "compression.type": "lz4"})
        errors = []
        for i in range(n):
            p.produce(topic, key=b"k%d" % (i % 13), value=b"%06d" % i,
                      on_delivery=lambda err, msg: errors.append(err) if err else None)
            p.poll(0)
        assert p.flush(TIMEOUT) == 0 and not errors, errors[:3]
    else:
        from kafka import KafkaProducer

        p = KafkaProducer(bootstrap_servers=any_broker.bootstrap, enable_idempotence=True,
                          acks="all", linger_ms=2, compression_type="lz4")
        futures = [p.send(topic, key=b"k%d" % (i % 13), value=b"%06d" % i) for i in range(n)]
        p.flush(timeout=TIMEOUT)
        for f in futures:
            f.get(timeout=TIMEOUT)
        p.close(timeout=10)

    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": any_broker.bootstrap, "group.id": "g-" + uuid.uuid4().hex,
                  "enable.auto.commit": False})
    got = {0: [], 1: []}
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in (0, 1)])
        deadline = time.monotonic() + TIMEOUT
        while sum(map(len, got.values())) < n and time.monotonic() < deadline:
            for m in c.consume(1000, timeout=0.5):
                assert m.error() is None, m.error()
                got[m.partition()].append((m.key(), int(m.value())))
    finally:
        c.close()
    values = sorted(v for rows in got.values() for _, v in rows)
    assert values == list(range(n)), "records lost or duplicated"
    for part, rows in got.items():
        assert [v for _, v in rows] == sorted(v for _, v in rows), f"partition {part} reordered"
