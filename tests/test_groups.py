"""Consumer groups against `kafkars broker` with real clients (issue #3).

Two confluent-kafka consumers share a two-partition topic; when one closes (or its process is
killed with SIGKILL) the other takes both partitions within the session timeout and continues
from the committed offsets, skipping nothing. The same with cooperative-sticky assignment, with
kcat's balanced consumer (Debian's librdkafka 2.0), with kafka-python, across a broker restart,
and through the Admin API (list/describe groups, committed offsets, delete).

Most tests run against both brokers (Apache Kafka too, which shows they check Kafka's
behaviour). Ours runs with `group.initial.rebalance.delay.ms=300` (not Kafka's 3000) so the
suite is quick while the delay path is still exercised.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from conftest import create_topic, kafkars_with_properties, kcat, wait_until

SESSION_MS = 6000
PER_PARTITION = 40


@pytest.fixture
def ours(tmp_path):
    """A kafkars broker with a short initial rebalance delay."""
    with kafkars_with_properties(tmp_path, "group.initial.rebalance.delay.ms=300\n") as b:
        yield b


@pytest.fixture(params=["kafkars", pytest.param("kafka", marks=pytest.mark.java)])
def broker(request):
    """Our broker, then Apache Kafka (session-wide, `group.initial.rebalance.delay.ms=0`): the
    same test against both shows it checks Kafka's behaviour, not ours."""
    if request.param == "kafkars":
        return request.getfixturevalue("ours")
    return request.getfixturevalue("apache_kafka")


@pytest.fixture
def group() -> str:
    return f"g-{uuid.uuid4().hex[:10]}"


def produce(bootstrap: str, topic: str, per_partition: int, partitions: int = 2, start: int = 0) -> set:
    """Produce `per_partition` values to each partition; return the values."""
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    values = set()
    for part in range(partitions):
        for i in range(start, start + per_partition):
            v = f"p{part}-{i}".encode()
            p.produce(topic, v, partition=part)
            values.add(v)
    assert p.flush(30) == 0, "all messages delivered"
    return values


def consumer(bootstrap: str, group: str, **extra):
    from confluent_kafka import Consumer

    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": SESSION_MS,
        "heartbeat.interval.ms": 500,
    }
    conf.update(extra)
    return Consumer(conf)


REBALANCE_RACE = {KafkaError.ILLEGAL_GENERATION, KafkaError.REBALANCE_IN_PROGRESS, KafkaError.UNKNOWN_MEMBER_ID}


class Tracker:
    """Polls a consumer, commits every message synchronously, remembers what it saw."""

    def __init__(self, c):
        self.c = c
        self.seen = []  # (partition, offset, value)
        self.commit_failures = 0

    def poll_once(self, timeout: float = 0.1) -> None:
        m = self.c.poll(timeout)
        if m is None:
            return
        assert not m.error(), m.error()
        self.seen.append((m.partition(), m.offset(), m.value()))
        try:
            self.c.commit(message=m, asynchronous=False)
        except KafkaException as e:
            # A commit racing a rebalance is refused (as Kafka refuses it); the next commit
            # after the rejoin covers it. Anything else is a failure.
            if e.args[0].code() not in REBALANCE_RACE:
                raise
            self.commit_failures += 1

    def partitions(self) -> set:
        return {tp.partition for tp in self.c.assignment()}

    def offsets(self, partition: int) -> list:
        return [o for p, o, _ in self.seen if p == partition]


def poll_until(trackers, predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for t in trackers:
            t.poll_once(0.05)
        if predicate():
            return
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
def test_two_consumers_split_partitions_and_survivor_takes_over_on_close(broker, topic, group, strategy):
    create_topic(broker.bootstrap, topic, partitions=2)
    c1 = Tracker(consumer(broker.bootstrap, group, **{"partition.assignment.strategy": strategy}))
    c2 = Tracker(consumer(broker.bootstrap, group, **{"partition.assignment.strategy": strategy}))
    c1.c.subscribe([topic])
    c2.c.subscribe([topic])
    try:
        poll_until([c1, c2], lambda: len(c1.partitions()) == 1 and len(c2.partitions()) == 1,
                   30, "each consumer to own one partition")
        assert c1.partitions() | c2.partitions() == {0, 1}
        values = produce(broker.bootstrap, topic, PER_PARTITION)
        p2 = next(iter(c2.partitions()))
        poll_until([c1, c2], lambda: len(c2.seen) >= 10, 30, "the second consumer to make progress")
        last_committed_by_c2 = c2.c.committed([TopicPartition(topic, p2)], timeout=10)[0].offset
        assert last_committed_by_c2 >= 10
        c2.c.close()
        t0 = time.monotonic()
        poll_until([c1], lambda: c1.partitions() == {0, 1}, SESSION_MS / 1000 + 5,
                   "the survivor to own both partitions")
        takeover = time.monotonic() - t0
        poll_until([c1], lambda: {v for _, _, v in c1.seen} | {v for _, _, v in c2.seen} >= values,
                   30, "every message to be consumed")
        # The survivor resumed exactly at the committed offset of the partition it took over.
        assert c1.offsets(p2)[0] == last_committed_by_c2, (c1.offsets(p2)[:3], last_committed_by_c2)
        assert takeover < SESSION_MS / 1000, f"handover took {takeover:.1f}s"
        for part in (0, 1):
            offsets = sorted(set(c1.offsets(part) + c2.offsets(part)))
            assert offsets == list(range(PER_PARTITION)), f"partition {part}: no gaps"
    finally:
        c1.c.close()


VICTIM = textwrap.dedent("""
    import sys, time
    from confluent_kafka import Consumer
    bootstrap, group, topic, progress, stop_after = sys.argv[1:6]
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "session.timeout.ms": %d, "heartbeat.interval.ms": 500})
    c.subscribe([topic])
    n = 0
    with open(progress, "a", buffering=1) as out:
        while True:
            if n >= int(stop_after):
                time.sleep(0.1)  # wait to be killed, still a member (heartbeats go on)
                continue
            m = c.poll(0.1)
            if m is None:
                out.write("assigned %%s\\n" %% sorted(tp.partition for tp in c.assignment()))
                continue
            if m.error():
                continue
            out.write("consumed %%d %%d\\n" %% (m.partition(), m.offset()))
            c.commit(message=m, asynchronous=False)
            out.write("committed %%d %%d\\n" %% (m.partition(), m.offset() + 1))
            n += 1
""" % SESSION_MS)


def test_default_config_first_join_waits_the_initial_rebalance_delay(kafkars_broker, topic, group):
    """With the default `group.initial.rebalance.delay.ms` (3000, like Kafka) a new group's
    first rebalance waits ~3 s for more members, and everyone lands in one generation."""
    create_topic(kafkars_broker.bootstrap, topic, partitions=2)
    produce(kafkars_broker.bootstrap, topic, 5)
    c1 = Tracker(consumer(kafkars_broker.bootstrap, group))
    c2 = Tracker(consumer(kafkars_broker.bootstrap, group))
    revoked = []
    t0 = time.monotonic()
    c1.c.subscribe([topic], on_revoke=lambda c, parts: revoked.append(parts))
    c2.c.subscribe([topic], on_revoke=lambda c, parts: revoked.append(parts))
    try:
        poll_until([c1, c2], lambda: len(c1.partitions()) == 1 and len(c2.partitions()) == 1, 30,
                   "both members to own a partition")
        elapsed = time.monotonic() - t0
        assert 2.5 <= elapsed < 10, f"first assignment after {elapsed:.1f}s"
        assert not [p for p in revoked if p], "one generation: nothing was revoked"
    finally:
        c1.c.close()
        c2.c.close()


def test_survivor_takes_over_after_kill_9_of_a_consumer(broker, topic, group, tmp_path):
    create_topic(broker.bootstrap, topic, partitions=2)
    script = tmp_path / "victim.py"
    script.write_text(VICTIM)
    progress = tmp_path / "progress.txt"
    progress.write_text("")
    c1 = Tracker(consumer(broker.bootstrap, group))
    c1.c.subscribe([topic])
    victim = subprocess.Popen([sys.executable, str(script), broker.bootstrap, group, topic, str(progress), "10"],
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def victim_owns_the_other():
            # The victim's latest line names the one partition it owns, and it is not the
            # survivor's (a line written before a rebalance finished can be stale).
            lines = progress.read_text().splitlines()
            mine = c1.partitions()
            return (bool(lines) and len(mine) == 1
                    and lines[-1] == "assigned [%d]" % (1 - next(iter(mine))))

        poll_until([c1], victim_owns_the_other, 30, "the consumers to share the partitions")
        values = produce(broker.bootstrap, topic, PER_PARTITION)
        poll_until([c1], lambda: sum(l.startswith("committed") for l in progress.read_text().splitlines()) >= 10,
                   30, "the victim to consume 10 messages")
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        lines = progress.read_text().splitlines()
        committed = [tuple(map(int, l.split()[1:])) for l in lines if l.startswith("committed")]
        consumed = [tuple(map(int, l.split()[1:])) for l in lines if l.startswith("consumed")]
        victim_part = committed[-1][0]
        t0 = time.monotonic()
        poll_until([c1], lambda: c1.partitions() == {0, 1}, SESSION_MS / 1000 + 10,
                   "the survivor to own both partitions after the session timeout")
        takeover = time.monotonic() - t0
        poll_until([c1], lambda: len({v for p, _, v in c1.seen if p != victim_part}) >= PER_PARTITION
                   and max(c1.offsets(victim_part), default=-1) == PER_PARTITION - 1,
                   30, "every message to be consumed")
        first = c1.offsets(victim_part)[0]
        assert committed[-1][1] <= first <= consumed[-1][1] + 1, (first, committed[-1], consumed[-1])
        seen = sorted(set(c1.offsets(victim_part) + [o for p, o in consumed if p == victim_part]))
        assert seen == list(range(PER_PARTITION)), "no message of the victim's partition skipped"
        assert takeover <= SESSION_MS / 1000 + 5, f"takeover took {takeover:.1f}s"
        assert len(values) == 2 * PER_PARTITION
    finally:
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait(10)
        c1.c.close()


def test_consumer_resumes_from_committed_offset_after_broker_kill_9(ours, topic, group):
    broker = ours
    create_topic(broker.bootstrap, topic, partitions=2)
    produce(broker.bootstrap, topic, 20)
    c = Tracker(consumer(broker.bootstrap, group))
    c.c.subscribe([topic])
    poll_until([c], lambda: len(c.seen) >= 25, 30, "25 messages")
    c.c.close()
    expected = {p: max(c.offsets(p), default=-1) + 1 for p in (0, 1)}
    broker.kill9()
    broker.start()
    c2 = Tracker(consumer(broker.bootstrap, group))
    c2.c.subscribe([topic])
    try:
        poll_until([c2], lambda: len(c.seen) + len(c2.seen) >= 40, 30, "the rest of the messages")
        for p in (0, 1):
            if expected[p] < 20:
                assert c2.offsets(p)[0] == expected[p], f"partition {p} resumed at the committed offset"
            assert sorted(c.offsets(p) + c2.offsets(p)) == list(range(20)), f"partition {p} exactly once"
    finally:
        c2.c.close()


def test_assign_users_commit_outside_a_generation(broker, topic, group):

    create_topic(broker.bootstrap, topic, partitions=2)
    c = consumer(broker.bootstrap, group)
    try:
        c.commit(offsets=[TopicPartition(topic, 0, 7, "meta-0")], asynchronous=False)
        got = c.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=10)
        assert (got[0].offset, got[0].metadata) == (7, "meta-0")
        assert got[1].offset < 0, "never committed: no offset"
    finally:
        c.close()


def test_offsets_of_a_deleted_topic_go_away(broker, topic, group):
    from confluent_kafka.admin import AdminClient

    create_topic(broker.bootstrap, topic, partitions=1)
    c = consumer(broker.bootstrap, group)
    try:
        c.commit(offsets=[TopicPartition(topic, 0, 3)], asynchronous=False)
        assert c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset == 3
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.delete_topics([topic], operation_timeout=10)[topic].result(15)
        wait_until(lambda: topic not in admin.list_topics(timeout=5).topics, 15, "the topic to be gone")
        create_topic(broker.bootstrap, topic, partitions=1)
        wait_until(lambda: c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset < 0, 15,
                   "the recreated topic to have no committed offset")
    finally:
        c.close()


def test_admin_lists_describes_and_deletes_groups(broker, topic, group):
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka.admin import AdminClient

    create_topic(broker.bootstrap, topic, partitions=2)
    produce(broker.bootstrap, topic, 5)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    c = Tracker(consumer(broker.bootstrap, group, **{"client.id": "describe-me"}))
    c.c.subscribe([topic])
    try:
        poll_until([c], lambda: len(c.seen) >= 10, 30, "10 messages")
        listed = admin.list_consumer_groups(request_timeout=10).result()
        states = {g.group_id: g.state.name for g in listed.valid}
        assert states.get(group) == "STABLE", states
        desc = admin.describe_consumer_groups([group], request_timeout=10)[group].result()
        assert desc.state.name == "STABLE"
        assert [m.client_id for m in desc.members] == ["describe-me"]
        assigned = {tp.partition for tp in desc.members[0].assignment.topic_partitions}
        assert assigned == {0, 1}
        offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result()
        assert sorted((tp.partition, tp.offset) for tp in offsets.topic_partitions) == [(0, 5), (1, 5)]
        fut = admin.delete_consumer_groups([group], request_timeout=10)[group]
        with pytest.raises(Exception, match="NON_EMPTY_GROUP|not empty"):
            fut.result()
    finally:
        c.c.close()
    wait_until(lambda: admin.describe_consumer_groups([group], request_timeout=10)[group].result().state.name
               == "EMPTY", 15, "the group to be empty after close")
    admin.delete_consumer_groups([group], request_timeout=10)[group].result()
    listed = admin.list_consumer_groups(request_timeout=10).result()
    assert group not in {g.group_id for g in listed.valid}
    fresh = consumer(broker.bootstrap, group)
    try:
        got = fresh.committed([TopicPartition(topic, 0)], timeout=10)
        assert got[0].offset < 0, "a deleted group's offsets are gone"
    finally:
        fresh.close()


def test_static_member_restart_does_not_rebalance(broker, topic, group):
    create_topic(broker.bootstrap, topic, partitions=2)
    revoked = []
    c1 = Tracker(consumer(broker.bootstrap, group, **{"group.instance.id": "static-1"}))
    c1.c.subscribe([topic], on_revoke=lambda c, parts: revoked.append(len(parts)))
    c2 = Tracker(consumer(broker.bootstrap, group, **{"group.instance.id": "static-2"}))
    c2.c.subscribe([topic])
    poll_until([c1, c2], lambda: len(c1.partitions()) == 1 and len(c2.partitions()) == 1, 30,
               "each static member to own one partition")
    mine = c2.partitions()
    revoked.clear()
    c2.c.close()  # a static member does not leave the group on close
    c3 = Tracker(consumer(broker.bootstrap, group, **{"group.instance.id": "static-2"}))
    c3.c.subscribe([topic])
    try:
        poll_until([c1, c3], lambda: c3.partitions() == mine, 20, "the restarted member to get its partition back")
        # Give a (wrong) rebalance time to show up at c1; a correct broker never sends one.
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            c1.poll_once(0.1)
            c3.poll_once(0.1)
        assert revoked == [], "the other member saw no rebalance"
        assert len(c1.partitions()) == 1
    finally:
        c1.c.close()
        c3.c.close()


def test_duplicate_static_instance_fences_the_older_member(broker, topic, group):

    create_topic(broker.bootstrap, topic, partitions=2)
    c1 = Tracker(consumer(broker.bootstrap, group, **{"group.instance.id": "dup"}))
    c1.c.subscribe([topic])
    poll_until([c1], lambda: c1.partitions() == {0, 1}, 30, "the first member to own the topic")
    c2 = Tracker(consumer(broker.bootstrap, group, **{"group.instance.id": "dup"}))
    c2.c.subscribe([topic])
    errors = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not errors:
            m = c1.c.poll(0.1)
            if m is not None and m.error():
                errors.append(m.error())
            c2.poll_once(0.05)
        assert errors, "the older member was told it is fenced"
        # librdkafka raises FENCED_INSTANCE_ID as a fatal error (_FATAL wrapping the cause).
        assert errors[0].code() in (KafkaError.FENCED_INSTANCE_ID, KafkaError._FATAL), errors[0]
        assert "fenced" in errors[0].str(), errors[0]
        poll_until([c2], lambda: c2.partitions() == {0, 1}, 30, "the newer member to own the topic")
    finally:
        c2.c.close()
        try:
            c1.c.close()
        except Exception:
            pass  # a fenced consumer may refuse to close cleanly


def test_kcat_balanced_consumer_resumes_from_committed_offsets(broker, topic, group):
    create_topic(broker.bootstrap, topic, partitions=2)
    first = produce(broker.bootstrap, topic, 10)
    args = ["-G", group, topic, "-e", "-q", "-X", "auto.offset.reset=earliest", "-X", f"session.timeout.ms={SESSION_MS}"]
    out = kcat(broker.bootstrap, *args, "-c", "20", timeout=60)
    assert set(out.stdout.split()) == first
    second = produce(broker.bootstrap, topic, 3, start=10)
    out = kcat(broker.bootstrap, *args, "-c", "6", timeout=60)
    assert set(out.stdout.split()) == second, "only the new messages"


def test_kafka_python_group_consumer(broker, topic, group):
    from kafka import KafkaConsumer

    create_topic(broker.bootstrap, topic, partitions=2)
    first = produce(broker.bootstrap, topic, 10)

    def consume(n):
        c = KafkaConsumer(topic, bootstrap_servers=broker.bootstrap, group_id=group, auto_offset_reset="earliest",
                          enable_auto_commit=False, consumer_timeout_ms=15000, session_timeout_ms=SESSION_MS)
        got = set()
        try:
            for m in c:
                got.add(m.value)
                if len(got) == n:
                    break
            c.commit()
        finally:
            c.close()
        return got

    assert consume(20) == first
    second = produce(broker.bootstrap, topic, 4, start=10)
    assert consume(8) == second, "the second consumer resumes at the committed offsets"


# ---- Java: Kafka's own consumer and kafka-consumer-groups ------------------------------------

GROUPS_CMD = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"


@pytest.mark.java
def test_kafka_consumer_groups_list_describe_and_reset(broker, topic, group, java_tool):
    create_topic(broker.bootstrap, topic, partitions=2)
    produce(broker.bootstrap, topic, 10)
    c = Tracker(consumer(broker.bootstrap, group))
    c.c.subscribe([topic])
    poll_until([c], lambda: len(c.seen) >= 20, 30, "20 messages")
    c.c.close()
    produce(broker.bootstrap, topic, 3, start=10)  # lag 3 per partition
    b = ["--bootstrap-server", broker.bootstrap]

    listed = java_tool(GROUPS_CMD, [*b, "--list"]).stdout.decode().split()
    assert group in listed

    out = java_tool(GROUPS_CMD, [*b, "--describe", "--group", group]).stdout.decode()
    rows = [line.split() for line in out.splitlines() if line.startswith(group)]
    # GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
    assert sorted((int(r[2]), r[3], r[4], r[5]) for r in rows) == [(0, "10", "13", "3"), (1, "10", "13", "3")], out

    out = java_tool(GROUPS_CMD, [*b, "--reset-offsets", "--to-earliest", "--execute", "--group", group,
                                 "--topic", topic]).stdout.decode()
    rows = [line.split() for line in out.splitlines() if line.startswith(group)]
    assert sorted((int(r[2]), r[3]) for r in rows) == [(0, "0"), (1, "0")], out

    again = Tracker(consumer(broker.bootstrap, group))
    again.c.subscribe([topic])
    try:
        poll_until([again], lambda: len(again.seen) >= 26, 30, "everything again after the reset")
        assert min(again.offsets(0)) == 0 and min(again.offsets(1)) == 0
        busy = java_tool(GROUPS_CMD, [*b, "--delete-offsets", "--group", group, "--topic", topic], check=False)
        assert b"GROUP_SUBSCRIBED_TO_TOPIC" in busy.stdout + busy.stderr or b"subscribed" in busy.stdout + busy.stderr, busy
    finally:
        again.c.close()
    java_tool(GROUPS_CMD, [*b, "--delete-offsets", "--group", group, "--topic", topic])
    out = java_tool(GROUPS_CMD, [*b, "--describe", "--group", group]).stdout.decode()
    assert not [line for line in out.splitlines() if line.startswith(group)], out


JAVA_ASSIGNORS = {
    "range": "org.apache.kafka.clients.consumer.RangeAssignor",
    "cooperative-sticky": "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
}


@pytest.mark.java
@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
def test_mixed_librdkafka_and_java_group_agrees_on_an_assignment(broker, topic, group, kafka_libs, tmp_path,
                                                                 strategy):
    from conftest import java_cmd

    create_topic(broker.bootstrap, topic, partitions=2)
    out_path = tmp_path / "java.out"
    java = subprocess.Popen(
        java_cmd(kafka_libs, CONSOLE_CONSUMER,
                 ["--bootstrap-server", broker.bootstrap, "--topic", topic, "--group", group,
                  "--consumer-property", f"session.timeout.ms={SESSION_MS}",
                  "--consumer-property", "auto.offset.reset=earliest",
                  "--consumer-property", "auto.commit.interval.ms=200",
                  "--consumer-property", f"partition.assignment.strategy={JAVA_ASSIGNORS[strategy]}"]),
        stdout=open(out_path, "wb"), stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        start_new_session=True)
    c = Tracker(consumer(broker.bootstrap, group, **{"partition.assignment.strategy": strategy}))
    c.c.subscribe([topic])
    try:
        poll_until([c], lambda: len(c.partitions()) == 1, 60, "librdkafka and Java members to share the topic")
        values = produce(broker.bootstrap, topic, 20)

        def java_values():
            return set(out_path.read_bytes().split())

        poll_until([c], lambda: {v for _, _, v in c.seen} | java_values() >= values, 60,
                   "every message to reach one of the two members")
        mine = next(iter(c.partitions()))
        assert {v for _, _, v in c.seen} == {v for v in values if v.startswith(b"p%d-" % mine)}
        assert java_values() == values - {v for _, _, v in c.seen}, "Java got the other partition"

        # kill -9 the Java member once its offsets are committed: the librdkafka member takes
        # its partition after the session timeout and resumes at Java's committed offset.
        theirs = 1 - mine

        poll_until([c], lambda: c.c.committed([TopicPartition(topic, theirs)], timeout=5)[0].offset == 20, 30,
                   "the Java member to commit its partition")
        os.killpg(java.pid, signal.SIGKILL)
        java.wait(10)
        poll_until([c], lambda: c.partitions() == {0, 1}, SESSION_MS / 1000 + 10,
                   "the librdkafka member to take over the Java member's partition")
        more = produce(broker.bootstrap, topic, 5, start=20)
        poll_until([c], lambda: {v for _, _, v in c.seen} >= more, 30, "the new messages")
        assert c.offsets(theirs)[0] == 20, "resumed at the Java member's committed offset"
    finally:
        c.c.close()
        if java.poll() is None:
            os.killpg(java.pid, signal.SIGKILL)
            java.wait(10)


# ---- Bad input on the group APIs ----------------------------------------------------------------

GROUP_API_KEYS = {8: (2, 8), 9: (1, 8), 10: (0, 4), 11: (0, 9), 12: (0, 4), 13: (0, 5), 14: (0, 5),
                  15: (0, 5), 16: (0, 5), 42: (0, 2), 47: (0, 0)}


def _frame(key: int, version: int, body: bytes, correlation_id: int = 1) -> bytes:
    import struct

    client_id = b"fuzz"
    header = struct.pack(">hhih", key, version, correlation_id, len(client_id)) + client_id
    if version >= {8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5, 16: 3, 42: 2, 47: 99}[key]:
        header += b"\x00"  # empty tagged fields of request header v2
    return struct.pack(">i", len(header) + len(body)) + header + body


def test_garbage_group_requests_never_hurt_the_coordinator(ours, topic, group):
    broker = ours
    import random
    import socket

    rng = random.Random(3)
    sent = 0
    for key, (lo, hi) in GROUP_API_KEYS.items():
        for version in {lo, hi, (lo + hi) // 2}:
            for _ in range(15):
                body = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 4, 17, 64, 300])))
                if rng.random() < 0.3:
                    # Plausible prefixes: short strings and small counts, so decoding gets further.
                    body = b"\x00\x01g" + b"\x00\x00\x17\x70" * rng.randint(0, 3) + body[:20]
                with socket.create_connection(("127.0.0.1", broker.port), timeout=5) as s:
                    s.sendall(_frame(key, version, body))
                    s.settimeout(0.2)
                    try:
                        s.recv(65536)
                    except (socket.timeout, ConnectionError):
                        pass
                sent += 1
    broker.check_alive()
    # The coordinator still works for a real consumer.
    create_topic(broker.bootstrap, topic, partitions=1)
    produce(broker.bootstrap, topic, 3, partitions=1)
    c = Tracker(consumer(broker.bootstrap, group))
    c.c.subscribe([topic])
    try:
        poll_until([c], lambda: len(c.seen) == 3, 30, "a consumer group to work after the garbage")
    finally:
        c.c.close()
    assert sent > 300


def _s(text: str) -> bytes:
    import struct

    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


def _call(broker, key: int, version: int, body: bytes) -> bytes:
    """One request on its own connection; returns the response body after the correlation id."""
    import socket
    import struct

    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as s:
        s.sendall(_frame(key, version, body, correlation_id=7))
        size = struct.unpack(">i", _recv(s, 4))[0]
        resp = _recv(s, size)
    assert struct.unpack(">i", resp[:4])[0] == 7
    return resp[4:]


def _recv(s, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def test_invalid_group_requests_get_kafka_error_codes(ours, topic):
    broker = ours
    import struct

    create_topic(broker.bootstrap, topic, partitions=1)

    def join_v1(group, session_ms, protocols):
        body = _s(group) + struct.pack(">ii", session_ms, 10000) + _s("") + _s("consumer")
        body += struct.pack(">i", len(protocols))
        for name in protocols:
            body += _s(name) + struct.pack(">i", 3) + b"xyz"
        return struct.unpack(">h", _call(broker, 11, 1, body)[:2])[0]

    assert join_v1("g-bad", -1, ["range"]) == 26, "INVALID_SESSION_TIMEOUT"
    assert join_v1("g-bad", 10**9, ["range"]) == 26, "INVALID_SESSION_TIMEOUT above the maximum"
    assert join_v1("g-bad", 6000, []) == 23, "INCONSISTENT_GROUP_PROTOCOL for no protocols"
    assert join_v1("", 6000, ["range"]) == 24, "INVALID_GROUP_ID"

    sync_v0 = _s("g-unknown") + struct.pack(">i", 1) + _s("m-1") + struct.pack(">i", 1) + _s("m-1") + struct.pack(">i", 0)
    assert struct.unpack(">h", _call(broker, 14, 0, sync_v0)[:2])[0] == 25, "UNKNOWN_MEMBER_ID"
    heartbeat_v0 = _s("g-unknown") + struct.pack(">i", 1) + _s("m-1")
    assert struct.unpack(">h", _call(broker, 12, 0, heartbeat_v0)[:2])[0] == 25
    leave_v0 = _s("g-unknown") + _s("m-1")
    assert struct.unpack(">h", _call(broker, 13, 0, leave_v0)[:2])[0] == 25

    def commit_v2(partition, metadata):
        body = _s("g-commit") + struct.pack(">i", -1) + _s("") + struct.pack(">q", -1)
        body += struct.pack(">i", 1) + _s(topic) + struct.pack(">i", 1)
        body += struct.pack(">iq", partition, 5) + _s(metadata)
        resp = _call(broker, 8, 2, body)
        # [topics: name, [partitions: index, error_code]]
        name_len = struct.unpack(">h", resp[4:6])[0]
        return struct.unpack(">h", resp[6 + name_len + 4 + 4:6 + name_len + 4 + 6])[0]

    assert commit_v2(0, "x" * 5000) == 12, "OFFSET_METADATA_TOO_LARGE"
    assert commit_v2(-1, "") == 3, "UNKNOWN_TOPIC_OR_PARTITION"
    assert commit_v2(7, "") == 3, "UNKNOWN_TOPIC_OR_PARTITION"
    assert commit_v2(0, "ok") == 0
    broker.check_alive()


@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
def test_kafkars_core_and_librdkafka_members_split_a_topic(broker, topic, group, strategy):
    """Issue #4: one member is kafkars' client core (`kafkars consume --group`, a KafkaConsumer
    of the core), the other librdkafka (confluent-kafka). They agree on an assignment: each
    gets two of the four partitions, and every message is read once, by the owner of its
    partition."""
    from conftest import kafkars_bin

    create_topic(broker.bootstrap, topic, partitions=4)
    c = Tracker(consumer(broker.bootstrap, group, **{"partition.assignment.strategy": strategy}))
    c.c.subscribe([topic])
    cli = subprocess.Popen(
        [str(kafkars_bin()), "consume", "-b", broker.bootstrap, topic, "--group", group,
         "--from-beginning", "-f", "partition,offset,value", "-n", str(2 * PER_PARTITION),
         "--timeout-ms", "60000", "-X", f"partition.assignment.strategy={strategy}",
         "-X", f"session.timeout.ms={SESSION_MS}", "-X", "heartbeat.interval.ms=500"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        poll_until([c], lambda: len(c.partitions()) == 2, 45,
                   "the librdkafka member to own two of four partitions")
        values = produce(broker.bootstrap, topic, PER_PARTITION, partitions=4)
        poll_until([c], lambda: len(c.seen) >= 2 * PER_PARTITION, 45,
                   "the librdkafka member to read its two partitions")
        out, err = cli.communicate(timeout=60)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        c.c.close()
    assert cli.returncode == 0, err.decode(errors="replace")
    rows = [line.split(b"\t") for line in out.splitlines()]
    ours = {int(p) for p, _, _ in rows}
    theirs = {p for p, _, _ in c.seen}
    assert len(ours) == 2 and len(theirs) == 2 and ours.isdisjoint(theirs), (ours, theirs)
    read = [v for _, _, v in rows] + [v for _, _, v in c.seen]
    assert len(read) == len(set(read)) == len(values) and set(read) == values
