"""Key placement parity: kafkars' partitioners pick the same partition as librdkafka's.

librdkafka's choice is observed through confluent-kafka delivery reports against a real
kafkars broker: 10,000 keys, topics with 1..64 partitions, default partitioner
(consistent_random); murmur2 and fnv1a on a few partition counts. kafkars' choice comes from
the `partition_keys` example binary (`cargo build -p kafkars --example partition_keys`).
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, create_topic

confluent_kafka = pytest.importorskip("confluent_kafka")

N_KEYS = 10_000


def example_bin() -> Path:
    for profile in ("release", "debug"):
        p = ROOT / "target" / profile / "examples" / "partition_keys"
        if p.exists():
            return p
    subprocess.run(["cargo", "build", "-q", "-p", "kafkars", "--example", "partition_keys"],
                   cwd=ROOT, check=True, timeout=600)
    return ROOT / "target" / "debug" / "examples" / "partition_keys"


def make_keys() -> list[bytes]:
    rng = random.Random(20240611)
    keys = [f"key-{i}".encode() for i in range(N_KEYS // 2)]
    keys += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))) for _ in range(N_KEYS - len(keys))]
    return keys


def kafkars_partitions(partitioner: str, keys: list[bytes], counts: list[int]) -> list[list[int]]:
    out = subprocess.run([str(example_bin()), partitioner, *map(str, counts)],
                         input="\n".join(k.hex() for k in keys).encode() + b"\n",
                         capture_output=True, check=True, timeout=120)
    rows = [list(map(int, line.split())) for line in out.stdout.decode().splitlines()]
    assert len(rows) == len(keys)
    return rows


def librdkafka_partitions(bootstrap: str, topic: str, partitioner: str, keys: list[bytes]) -> list[int]:
    p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "partitioner": partitioner,
                                  "linger.ms": 20, "acks": 1})
    result: list[int] = [-1] * len(keys)

    def make_cb(i: int):
        def cb(err, msg):
            assert err is None, err
            result[i] = msg.partition()
        return cb

    for i, k in enumerate(keys):
        while True:
            try:
                p.produce(topic, value=b"", key=k, on_delivery=make_cb(i))
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    assert p.flush(60) == 0
    return result


@pytest.mark.slow
def test_default_partitioner_matches_librdkafka(shared_kafkars, topic):
    keys = make_keys()
    counts = list(range(1, 65))
    ours = kafkars_partitions("consistent_random", keys, counts)
    for col, n in enumerate(counts):
        t = f"{topic}-{n}"
        create_topic(shared_kafkars.bootstrap, t, partitions=n)
        theirs = librdkafka_partitions(shared_kafkars.bootstrap, t, "consistent_random", keys)
        mismatches = [i for i in range(len(keys)) if ours[i][col] != theirs[i]]
        assert not mismatches, f"{n} partitions: {len(mismatches)} keys differ, e.g. {keys[mismatches[0]]!r}"


@pytest.mark.parametrize("partitioner", ["murmur2", "murmur2_random", "fnv1a", "consistent"])
def test_other_partitioners_match_librdkafka(shared_kafkars, topic, partitioner):
    keys = make_keys()[:2000]
    counts = [3, 17, 64]
    ours = kafkars_partitions(partitioner, keys, counts)
    for col, n in enumerate(counts):
        t = f"{topic}-{n}"
        create_topic(shared_kafkars.bootstrap, t, partitions=n)
        theirs = librdkafka_partitions(shared_kafkars.bootstrap, t, partitioner, keys)
        assert [r[col] for r in ours] == theirs, f"{partitioner} with {n} partitions"
