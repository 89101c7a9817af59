"""Rebalance benchmark: time from subscribe to "every member has its partitions and a first
message", for groups of 1, 2 and 8 confluent-kafka consumers, against `kafkars broker` and
Apache Kafka in the same run (both with `group.initial.rebalance.delay.ms=0`).

A benchmark, not a test: it runs only with `KAFKARS_BENCH=1` (for `make bench`):
`KAFKARS_BENCH=1 pytest tests/test_groups_bench.py -s`. Figures are printed and appended as
JSON lines to `$KAFKARS_BENCH_OUT` if set. Each measurement is bounded; it fails only if a
group never settles.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid

import pytest

from conftest import create_topic, kafkars_with_properties

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("KAFKARS_BENCH") != "1", reason="benchmark: set KAFKARS_BENCH=1"),
]

PARTITIONS = 8
SIZES = [1, 2, 8]
ROUNDS = 3
SETTLE_TIMEOUT = 60.0


@pytest.fixture
def kafkars_no_delay(tmp_path):
    with kafkars_with_properties(tmp_path, "group.initial.rebalance.delay.ms=0\n") as b:
        yield b


def fill(bootstrap: str, topic: str) -> None:
    from confluent_kafka import Producer

    create_topic(bootstrap, topic, partitions=PARTITIONS)
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for part in range(PARTITIONS):
        for i in range(100):
            p.produce(topic, b"m%d" % i, partition=part)
    assert p.flush(30) == 0


class Member(threading.Thread):
    def __init__(self, bootstrap, group, topic, start_evt, stop_evt):
        super().__init__(daemon=True)
        from confluent_kafka import Consumer

        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                           "auto.offset.reset": "earliest", "enable.auto.commit": False,
                           "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
        self.topic, self.start_evt, self.stop_evt = topic, start_evt, stop_evt
        self.got_message = False
        self.assigned = 0

    def run(self):
        self.start_evt.wait(30)
        self.c.subscribe([self.topic])
        while not self.stop_evt.is_set():
            m = self.c.poll(0.01)
            if m is not None and not m.error():
                self.got_message = True
            self.assigned = len(self.c.assignment())
        self.c.close()


def measure(bootstrap: str, topic: str, n: int) -> float:
    group = f"bench-{uuid.uuid4().hex[:8]}"
    start_evt, stop_evt = threading.Event(), threading.Event()
    members = [Member(bootstrap, group, topic, start_evt, stop_evt) for _ in range(n)]
    for m in members:
        m.start()
    t0 = time.monotonic()
    start_evt.set()
    try:
        while time.monotonic() - t0 < SETTLE_TIMEOUT:
            if (all(m.got_message and m.assigned > 0 for m in members)
                    and sum(m.assigned for m in members) == PARTITIONS):
                return time.monotonic() - t0
            time.sleep(0.005)
        raise TimeoutError(f"group of {n} did not settle in {SETTLE_TIMEOUT}s")
    finally:
        stop_evt.set()
        for m in members:
            m.join(30)


def run_bench(broker) -> dict:
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    fill(broker.bootstrap, topic)
    figures = {}
    for n in SIZES:
        times = [measure(broker.bootstrap, topic, n) for _ in range(ROUNDS)]
        figures[n] = {"median_s": round(sorted(times)[len(times) // 2], 3), "all_s": [round(t, 3) for t in times]}
    return figures


def report(kind: str, figures: dict) -> None:
    for n, f in figures.items():
        line = {"bench": "group_rebalance", "broker": kind, "consumers": n, **f}
        print(json.dumps(line))
        out = os.environ.get("KAFKARS_BENCH_OUT")
        if out:
            with open(out, "a") as fh:
                fh.write(json.dumps(line) + "\n")


def test_rebalance_time_kafkars(kafkars_no_delay):
    report("kafkars", run_bench(kafkars_no_delay))


@pytest.mark.java
def test_rebalance_time_apache_kafka(apache_kafka):
    report("kafka", run_bench(apache_kafka))
