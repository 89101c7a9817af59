"""Crash safety of `kafkars broker`: kill -9 and a damaged active segment.

Layout assumed (DESIGN.md): <data>/<topic>-<partition>/<base offset:020>.log, RecordBatch v2.
"""

import struct
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import create_topic, wait_until

TIMEOUT = 60


def producer(bootstrap, **extra):
    from confluent_kafka import Producer

    conf = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2,
            "message.timeout.ms": 30000, "retries": 2147483647}
    conf.update(extra)
    return Producer(conf)


def produce_acked(bootstrap, topic, values, one_batch_each=False):
    """Produce values to partition 0; returns {offset: value} of acknowledged records."""
    p = producer(bootstrap)
    acked = {}
    errors = []

    def cb(err, msg):
        if err is None:
            acked[msg.offset()] = msg.value()
        else:
            errors.append(err)

    for v in values:
        p.produce(topic, value=v, partition=0, on_delivery=cb)
        if one_batch_each:
            assert p.flush(TIMEOUT) == 0
    assert p.flush(TIMEOUT) == 0
    assert not errors, errors[:3]
    return acked


def read_partition(bootstrap, topic, partition=0, expect=None, timeout=TIMEOUT):
    """All records of a partition as {offset: value}, read until the high watermark."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "g-" + uuid.uuid4().hex,
                  "enable.auto.commit": False, "enable.partition.eof": True})
    out = {}
    try:
        _, high = c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        c.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
        deadline = time.monotonic() + timeout
        eof = high == 0
        while not eof and time.monotonic() < deadline:
            for m in c.consume(1000, timeout=0.5):
                if m.error() is not None:
                    if m.error().code() == -191:  # _PARTITION_EOF
                        eof = m.offset() >= high
                        continue
                    raise AssertionError(m.error())
                out[m.offset()] = m.value()
        assert eof, f"did not reach high watermark {high}, read {len(out)}"
        return out, high
    finally:
        c.close()


def active_segment(data_dir: Path, topic: str, partition: int = 0) -> Path:
    logs = sorted((data_dir / f"{topic}-{partition}").glob("*.log"))
    assert logs, f"no segment files under {data_dir / f'{topic}-{partition}'}"
    return logs[-1]


def batch_spans(segment: Path):
    """[(base_offset, start, end)] of each RecordBatch in a segment file."""
    data = segment.read_bytes()
    spans, pos = [], 0
    while pos + 12 <= len(data):
        base, length = struct.unpack(">qi", data[pos:pos + 12])
        end = pos + 12 + length
        if length <= 0 or end > len(data):
            break
        spans.append((base, pos, end))
        pos = end
    return spans


@pytest.mark.timeout(180)
def test_kill9_keeps_every_acknowledged_message(kafkars_broker, topic):
    """Ack'd records survive SIGKILL at the same offsets, also with writes in flight."""
    b = kafkars_broker.bootstrap
    create_topic(b, topic, partitions=1)
    acked = produce_acked(b, topic, [b"before-%05d" % i for i in range(3000)])

    # Second wave in flight while the broker is killed.
    p = producer(b)
    wave = {}
    lock = threading.Lock()

    def cb(err, msg):
        if err is None:
            with lock:
                wave[msg.offset()] = msg.value()

    for i in range(20000):
        p.produce(topic, value=b"inflight-%05d" % i, partition=0, on_delivery=cb)
        p.poll(0)
        if i == 10000:
            wait_until(lambda: (p.poll(0.05), len(wave) > 2000)[1], 30, "some acks in flight")
            with lock:
                acked_before_kill = dict(wave)
            kafkars_broker.kill9()
    kafkars_broker.restart()
    # The producer reconnects and delivers the rest; anything it acks must persist too.
    assert p.flush(TIMEOUT) == 0
    with lock:
        acked.update(wave)
    assert acked_before_kill.items() <= acked.items()

    got, high = read_partition(b, topic)
    missing = {o: v for o, v in acked.items() if got.get(o) != v}
    assert not missing, f"{len(missing)} acknowledged records lost or moved, e.g. " \
                        f"{sorted(missing.items())[:3]}"
    assert high == max(acked) + 1 or high >= max(acked) + 1

    # Kill again with nothing in flight: nothing moves.
    kafkars_broker.kill9()
    kafkars_broker.restart()
    again, high2 = read_partition(b, topic)
    assert again == got and high2 == high


@pytest.mark.timeout(180)
def test_clean_stop_and_restart_keeps_offsets(kafkars_broker, topic):
    b = kafkars_broker.bootstrap
    create_topic(b, topic, partitions=2)
    acked = produce_acked(b, topic, [b"v%d" % i for i in range(500)])
    assert kafkars_broker.stop() == 0, "SIGTERM did not give a clean exit:\n" + \
        kafkars_broker.log_text()
    kafkars_broker.restart()
    got, high = read_partition(b, topic)
    assert got == acked and high == 500
    more = produce_acked(b, topic, [b"after"])
    assert list(more) == [500]


def _damage_and_recover(broker, topic, damage):
    b = broker.bootstrap
    create_topic(b, topic, partitions=1)
    n = 20
    acked = produce_acked(b, topic, [b"record-%02d" % i for i in range(n)], one_batch_each=True)
    assert sorted(acked) == list(range(n))
    broker.kill9()
    seg = active_segment(broker.data_dir, topic)
    spans = batch_spans(seg)
    assert len(spans) == n, f"expected one batch per record, found {len(spans)} in {seg}"
    damaged_index = damage(seg, spans)
    broker.restart()

    got, high = read_partition(b, topic)
    # Everything before the damaged batch is intact at its offset.
    for off in range(damaged_index):
        assert got.get(off) == b"record-%02d" % off, f"offset {off} lost after recovery"
    # Nothing that is returned is altered.
    for off, value in got.items():
        assert value == acked.get(off), f"offset {off} returns {value!r}"
    assert high >= damaged_index
    # New writes are accepted, get the next offset and read back.
    new = produce_acked(b, topic, [b"after-recovery"])
    (off,) = new
    assert off == high
    got2, high2 = read_partition(b, topic)
    assert got2[off] == b"after-recovery" and high2 == high + 1
    return got, high


@pytest.mark.timeout(180)
def test_truncated_tail_is_cut_back_to_last_whole_batch(kafkars_broker, topic):
    def truncate(seg, spans):
        with open(seg, "r+b") as f:
            f.truncate(spans[-1][2] - 5)
        return len(spans) - 1

    got, high = _damage_and_recover(kafkars_broker, topic, truncate)
    assert high == 19 and sorted(got) == list(range(19))


@pytest.mark.timeout(180)
def test_flipped_byte_in_last_batch_drops_that_batch(kafkars_broker, topic):
    def flip(seg, spans):
        pos = spans[-1][2] - 3  # inside the last record's value: CRC-32C no longer matches
        with open(seg, "r+b") as f:
            f.seek(pos)
            byte = f.read(1)
            f.seek(pos)
            f.write(bytes([byte[0] ^ 0xFF]))
        return len(spans) - 1

    got, high = _damage_and_recover(kafkars_broker, topic, flip)
    assert high == 19 and sorted(got) == list(range(19))


@pytest.mark.timeout(180)
def test_garbage_appended_after_last_batch(kafkars_broker, topic):
    def append(seg, spans):
        with open(seg, "ab") as f:
            f.write(b"\x00\x00\x00\x00\x00\x00\x00\x14\x00\x00\x01\x00" + b"\xab" * 40)
        return len(spans)

    got, high = _damage_and_recover(kafkars_broker, topic, append)
    assert high == 20 and sorted(got) == list(range(20))


@pytest.mark.timeout(180)
def test_idempotent_producer_across_kill9_no_duplicates(kafkars_broker, topic):
    """An idempotent producer keeps sending through a SIGKILL + restart: after its retries,
    every record is in the log exactly once (the broker recovers producer state from the log,
    as Kafka does, so retried batches are recognised as duplicates)."""
    b = kafkars_broker.bootstrap
    create_topic(b, topic, partitions=1)
    p = producer(b, **{"enable.idempotence": True, "linger.ms": 5})
    errors = []
    acked = [0]

    def cb(err, msg):
        if err is not None:
            errors.append(err)
        else:
            acked[0] += 1

    n = 30000
    for i in range(n):
        p.produce(topic, value=b"%06d" % i, partition=0, on_delivery=cb)
        p.poll(0)
        if i == n // 2:
            wait_until(lambda: (p.poll(0.05), acked[0] > 5000)[1], 30, "acks before the kill")
            kafkars_broker.kill9()
            kafkars_broker.restart()
    assert p.flush(TIMEOUT) == 0
    assert not errors, f"producer errors after restart: {errors[:3]}"
    got, high = read_partition(b, topic)
    values = [int(v) for _, v in sorted(got.items())]
    dups = len(values) - len(set(values))
    assert dups == 0, f"{dups} duplicated records"
    assert sorted(values) == list(range(n)), "records lost"
    assert values == list(range(n)), "records reordered"
