"""The client core against a three-node Apache Kafka cluster (issue 4, DESIGN.md 13): an
idempotent ``acks=all`` producer keeps producing while the leader of partition 0 is killed
with SIGKILL, and afterwards every acknowledged message is in the log exactly once, at the
offset its delivery report named.

The producer is the ``failover_produce`` example (``examples/failover_produce.rs``), which
prints one line per delivery report; the read-back uses librdkafka (confluent-kafka).
"""

import collections
import os
import subprocess
import threading
import time
import uuid

import pytest

from conftest import ROOT, create_topic
from test_kafka_cluster import leaders

pytestmark = [pytest.mark.java, pytest.mark.slow]
TIMEOUT = 120
COUNT = 4000
RATE = 400  # msgs/s: ten seconds of producing, most of it after the kill
KILL_AFTER_ACKS = COUNT // 5


def example_bin():
    """The example, built (debug) if it is missing or stale; cargo is a no-op when fresh."""
    subprocess.run(["cargo", "build", "-q", "-p", "kafkars", "--example", "failover_produce"],
                   cwd=ROOT, check=True, timeout=600)
    return ROOT / "target" / "debug" / "examples" / "failover_produce"


class ProducerRun:
    """The example as a child process; a thread collects its report lines as they come."""

    def __init__(self, argv, stderr_path, env):
        self.acked = {}  # value -> (partition, offset)
        self.errors = []  # (partition, code, value)
        self.duplicate_reports = []
        self.done = None
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._stderr = open(stderr_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._stderr,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            parts = raw.decode(errors="replace").split() or [""]
            with self._progress:
                if parts[0] == "ack":
                    value = parts[3]
                    if value in self.acked:
                        self.duplicate_reports.append(value)
                    self.acked[value] = (int(parts[1]), int(parts[2]))
                elif parts[0] == "err":
                    self.errors.append((int(parts[1]), parts[2], parts[3]))
                elif parts[0] == "done":
                    self.done = (int(parts[1]), int(parts[2]))
                self._progress.notify_all()
        with self._progress:
            self.done = self.done or (-1, -1)
            self._progress.notify_all()

    def wait_for_acks(self, n, timeout):
        """Blocks until ``n`` acknowledgements arrived (True) or the run ended / timed out."""
        deadline = time.monotonic() + timeout
        with self._progress:
            while len(self.acked) < n and self.done is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._progress.wait(left)
            return len(self.acked) >= n

    def acked_count(self):
        with self._lock:
            return len(self.acked)

    def finish(self, timeout):
        """Waits for the exit; returns the exit status (killed and None on timeout)."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            self.close()

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=15)
        self._reader.join(timeout=15)
        self._stderr.close()


def read_back(bootstrap, topic, partitions):
    """Everything in the topic up to the high watermarks: {(partition, offset): value}."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "g-" + uuid.uuid4().hex,
                  "enable.auto.commit": False})
    got = {}
    try:
        highs = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1]
                 for p in range(partitions)}
        pending = {p for p, high in highs.items() if high > 0}
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        deadline = time.monotonic() + TIMEOUT
        while pending and time.monotonic() < deadline:
            for m in c.consume(1000, timeout=0.5):
                if m.error() is None:
                    got[(m.partition(), m.offset())] = m.value().decode()
                    if m.offset() + 1 >= highs[m.partition()]:
                        pending.discard(m.partition())
        assert not pending, f"read-back did not reach the high watermark of {pending}: {highs}"
    finally:
        c.close()
    return got


@pytest.mark.timeout(420)
def test_idempotent_producer_survives_leader_kill(kafka_cluster, tmp_path):
    b = kafka_cluster.bootstrap
    topic = "client-failover-" + uuid.uuid4().hex[:8]
    create_topic(b, topic, partitions=3, replication=3, timeout=60)
    victim = leaders(b, topic)[0]
    binary = example_bin()

    env = {**os.environ, "FAILOVER_CONF": f"message.timeout.ms={TIMEOUT * 1000}"}
    run = None
    try:
        run = ProducerRun([str(binary), b, topic, str(COUNT), str(RATE)],
                          tmp_path / "producer.stderr", env)
        assert run.wait_for_acks(KILL_AFTER_ACKS, TIMEOUT), (
            f"only {run.acked_count()} acks before the kill; stderr:\n"
            f"{(tmp_path / 'producer.stderr').read_text()[-3000:]}")
        kafka_cluster.kill9_node(victim - 1)
        acked_at_kill, killed_at = run.acked_count(), time.monotonic()

        status = run.finish(TIMEOUT + 60)
        produced_in = time.monotonic() - killed_at
        stderr = (tmp_path / "producer.stderr").read_text()[-3000:]
        assert status == 0, f"producer exited {status}; done={run.done}; stderr:\n{stderr}"
        assert acked_at_kill < COUNT, "the kill came after the last acknowledgement"
        assert not run.errors, run.errors[:5]
        assert not run.duplicate_reports, run.duplicate_reports[:5]
        assert run.done == (COUNT, 0)
        assert len(run.acked) == COUNT
        assert leaders(b, topic)[0] != victim, "leadership did not move"

        got = read_back(b, topic, 3)
        counts = collections.Counter(got.values())
        duplicated = sorted(v for v, n in counts.items() if n > 1)
        assert not duplicated, f"{len(duplicated)} values stored twice: {duplicated[:5]}"
        missing = sorted(v for v in run.acked if v not in counts)
        assert not missing, f"{len(missing)} acknowledged values not in the log: {missing[:5]}"
        moved = sorted(v for v, at in run.acked.items() if got.get(at) != v)
        assert not moved, f"{len(moved)} values not at their reported offset: {moved[:5]}"
        unacked = sorted(set(counts) - set(run.acked))
        assert not unacked, f"{len(unacked)} values in the log never acknowledged: {unacked[:5]}"
        assert len(got) == COUNT
        print(f"\nfailover: killed node {victim} after {acked_at_kill}/{COUNT} acks; the rest "
              f"acknowledged within {produced_in:.1f}s, all exactly once")
    finally:
        if run is not None:
            run.close()
        kafka_cluster.start_node(victim - 1)
        kafka_cluster.wait_for_brokers(3)
