"""kcat (Debian's librdkafka 2.0.2) against the broker: bulk produce/consume, content checked."""

from collections import defaultdict

import pytest

from conftest import create_topic, kcat, kcat_consume

N = 100_000


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_kcat_100k_messages_two_partitions(any_broker, topic, kcat_tool):
    create_topic(any_broker.bootstrap, topic, partitions=2)
    # Keyed lines "key:value"; kcat's default partitioner spreads 64 keys over both partitions.
    lines = [b"k%02d:message-%06d" % (i % 64, i) for i in range(N)]
    kcat(any_broker.bootstrap, "-P", "-t", topic, "-K", ":", "-z", "lz4",
         input=b"\n".join(lines) + b"\n", timeout=180)

    seen = defaultdict(list)
    for p in (0, 1):
        out = kcat_consume(any_broker.bootstrap, topic, 0, partition=p,
                           fmt="%p %o %k %s\\n", timeout=180).stdout
        for row in out.splitlines():
            part, off, key, value = row.split(b" ")
            seen[int(part)].append((int(off), key, value))

    counts = {p: len(v) for p, v in seen.items()}
    assert sum(counts.values()) == N, counts
    assert counts.get(0, 0) > 0 and counts.get(1, 0) > 0, counts
    for p, rows in seen.items():
        # Offsets are dense from 0, and each partition is in produce order.
        assert [r[0] for r in rows] == list(range(len(rows))), f"partition {p} offsets not dense"
        values = [int(r[2].split(b"-")[1]) for r in rows]
        assert values == sorted(values), f"partition {p} out of order"
        for off, key, value in rows:
            i = int(value.split(b"-")[1])
            assert key == b"k%02d" % (i % 64)
    # Same key -> same partition.
    key_part = {}
    for p, rows in seen.items():
        for _, key, _ in rows:
            assert key_part.setdefault(key, p) == p, f"key {key!r} in two partitions"
    all_values = sorted(v for rows in seen.values() for _, _, v in rows)
    assert all_values == sorted(line.split(b":", 1)[1] for line in lines)


@pytest.mark.timeout(120)
def test_kcat_metadata_lists_broker_and_topic(any_broker, topic, kcat_tool):
    create_topic(any_broker.bootstrap, topic, partitions=2)
    out = kcat(any_broker.bootstrap, "-L", "-t", topic).stdout.decode()
    assert "1 brokers:" in out, out
    assert f'topic "{topic}" with 2 partitions' in out, out


@pytest.mark.timeout(120)
def test_kcat_offset_and_tail_reads(any_broker, topic, kcat_tool):
    create_topic(any_broker.bootstrap, topic, partitions=1)
    kcat(any_broker.bootstrap, "-P", "-t", topic, "-p", "0",
         input=b"".join(b"m%d\n" % i for i in range(10)))
    assert kcat_consume(any_broker.bootstrap, topic, 1, partition=0, offset="7").stdout == b"m7\n"
    # Relative offsets from the end.
    assert kcat_consume(any_broker.bootstrap, topic, 2, partition=0,
                        offset="-2").stdout == b"m8\nm9\n"
    # -e on an exhausted partition exits with nothing printed.
    assert kcat_consume(any_broker.bootstrap, topic, 0, partition=0, offset="end").stdout == b""
