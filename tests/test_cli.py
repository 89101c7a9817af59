"""The `kafkars` command line's client subcommands against real brokers.

The seed walk-through (create, describe, produce three lines, consume from the beginning,
consume one partition from offset 2, delete) runs against our broker and Apache Kafka; the
rest checks formats, groups with lag, perf output and one-line errors.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time

import pytest

from conftest import kafkars_bin, wait_until

CMD_TIMEOUT = 60


def kafkars(bootstrap: str, *args: str, input: bytes | None = None, check: bool = True,
            timeout: float = CMD_TIMEOUT) -> subprocess.CompletedProcess:
    """Runs `kafkars ARGS -b BOOTSTRAP`, bounded; output as text."""
    proc = subprocess.run(
        [str(kafkars_bin()), *args, "-b", bootstrap], input=input, capture_output=True,
        timeout=timeout)
    proc.stdout = proc.stdout.decode("utf-8", "replace")
    proc.stderr = proc.stderr.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise AssertionError(f"kafkars {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def test_seed_walkthrough(any_broker):
    b = any_broker.bootstrap
    name = f"xiaojun-{os.getpid()}-{int(time.time() * 1000) % 100000}"
    out = kafkars(b, "topics", "create", name, "--partitions", "2", "--replication-factor", "1")
    assert name in out.stdout

    # Metadata may take a moment to show the new topic on a real Kafka controller.
    desc = wait_until(
        lambda: (lambda p: p.returncode == 0 and "Partition: 1" in p.stdout and p)(
            kafkars(b, "topics", "describe", name, check=False)),
        30, "the topic to be described").stdout
    assert f"Topic: {name}" in desc and "PartitionCount: 2" in desc
    assert "Leader:" in desc and "HighWatermark: 0" in desc

    kafkars(b, "produce", name, "--partition", "0", input=b"line one\nline two\nline three\n")

    out = kafkars(b, "consume", name, "--from-beginning", "--max-messages", "3")
    assert out.stdout.splitlines() == ["line one", "line two", "line three"]

    out = kafkars(b, "consume", name, "--partition", "0", "--offset", "2", "--max-messages", "1")
    assert out.stdout.splitlines() == ["line three"]

    desc = kafkars(b, "topics", "describe", name).stdout
    assert "Partition: 0" in desc and "HighWatermark: 3" in desc

    kafkars(b, "topics", "delete", name)
    wait_until(lambda: name not in kafkars(b, "topics", "list").stdout.split(), 30,
               "the topic to disappear")


def test_list_and_add_partitions(shared_kafkars, topic):
    b = shared_kafkars.bootstrap
    kafkars(b, "topics", "create", topic, "-p", "1")
    assert topic in kafkars(b, "topics", "list").stdout.splitlines()
    kafkars(b, "topics", "add-partitions", topic, "--partitions", "3")
    desc = kafkars(b, "topics", "describe", topic).stdout
    assert "PartitionCount: 3" in desc
    # Creating it again fails with the broker's reason, unless asked not to mind.
    again = kafkars(b, "topics", "create", topic, check=False)
    assert again.returncode != 0 and "already exists" in again.stderr.lower()
    kafkars(b, "topics", "create", topic, "--if-not-exists")


def test_produce_keys_headers_and_formats(shared_kafkars, topic):
    b = shared_kafkars.bootstrap
    kafkars(b, "topics", "create", topic, "-p", "1")
    kafkars(b, "produce", topic, "--key-separator", ":", "--header", "source=cli",
            "--header", "n=1", "--acks", "1", "--compression", "gzip",
            input=b"k1:v1\nk2:v2:with:colons\nnokey\n")
    out = kafkars(b, "consume", topic, "--from-beginning", "-n", "3",
                  "--format", "partition,offset,key,value,headers").stdout
    rows = [r.split("\t") for r in out.splitlines()]
    assert rows == [
        ["0", "0", "k1", "v1", "source=cli,n=1"],
        ["0", "1", "k2", "v2:with:colons", "source=cli,n=1"],
        ["0", "2", "", "nokey", "source=cli,n=1"],
    ]
    js = [json.loads(line) for line in
          kafkars(b, "consume", topic, "--from-beginning", "-n", "3", "--json").stdout.splitlines()]
    assert [j["key"] for j in js] == ["k1", "k2", None]
    assert js[0]["headers"] == {"source": "cli", "n": "1"}
    assert all(j["timestamp"] > 1_600_000_000_000 for j in js)


def test_consume_timeout_exits_cleanly(shared_kafkars, topic):
    b = shared_kafkars.bootstrap
    kafkars(b, "topics", "create", topic, "-p", "2")
    t0 = time.monotonic()
    out = kafkars(b, "consume", topic, "--from-beginning", "--timeout-ms", "500")
    assert out.stdout == "" and time.monotonic() - t0 < 20


@pytest.mark.parametrize("group", [None, "ctrl-c-group"])
def test_consume_exits_on_ctrl_c(shared_kafkars, topic, group):
    b = shared_kafkars.bootstrap
    kafkars(b, "topics", "create", topic, "-p", "1")
    kafkars(b, "produce", topic, input=b"ping\n")
    extra = ["--group", f"{group}-{topic}"] if group else []
    proc = subprocess.Popen([str(kafkars_bin()), "consume", topic, "--from-beginning", "-b", b,
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines: "queue.Queue[bytes]" = queue.Queue()
        threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()
        # The consumer is fetching once the line shows up on its stdout.
        assert lines.get(timeout=30) == b"ping\n"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=15)
    if group:
        # Interrupted members still commit what they printed.
        lag = parse_lag(kafkars(b, "groups", "describe", f"{group}-{topic}").stdout, topic)
        assert lag == {0: (1, 1, 0)}


def test_groups_commit_describe_lag_and_reset(shared_kafkars, topic):
    b = shared_kafkars.bootstrap
    group = f"g-{topic}"
    kafkars(b, "topics", "create", topic, "-p", "2")
    kafkars(b, "produce", topic, "--partition", "0", input=b"a\nb\nc\nd\n")
    kafkars(b, "produce", topic, "--partition", "1", input=b"e\nf\n")
    out = kafkars(b, "consume", topic, "--group", group, "--from-beginning", "-n", "6")
    assert sorted(out.stdout.split()) == ["a", "b", "c", "d", "e", "f"]
    assert group in kafkars(b, "groups", "list").stdout

    kafkars(b, "produce", topic, "--partition", "1", input=b"g\nh\n")
    lag = parse_lag(kafkars(b, "groups", "describe", group).stdout, topic)
    assert lag == {0: (4, 4, 0), 1: (2, 4, 2)}

    # A second run of the same group continues where the first committed.
    out = kafkars(b, "consume", topic, "--group", group, "-n", "2")
    assert out.stdout.split() == ["g", "h"]

    wait_until(lambda: "Empty" in kafkars(b, "groups", "describe", group).stdout, 30,
               "the group to be empty")
    kafkars(b, "groups", "reset-offsets", group, "--topic", topic, "--to-earliest")
    lag = parse_lag(kafkars(b, "groups", "describe", group).stdout, topic)
    assert lag == {0: (0, 4, 4), 1: (0, 4, 4)}


def parse_lag(text: str, topic: str) -> dict:
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == topic:
            rows[int(parts[1])] = (int(parts[2]), int(parts[3]), int(parts[4]))
    return rows


def test_perf_json(shared_kafkars, topic):
    b = shared_kafkars.bootstrap
    kafkars(b, "topics", "create", topic, "-p", "2")
    p = json.loads(kafkars(b, "perf", "produce", topic, "-n", "20000", "-s", "64",
                           "--json").stdout)
    assert p["mode"] == "produce" and p["messages"] == 20000 and p["errors"] == 0
    assert p["msgs_per_sec"] > 0 and p["latency_ms"]["p50"] <= p["latency_ms"]["p99"]
    c = json.loads(kafkars(b, "perf", "consume", topic, "-n", "20000", "--json").stdout)
    assert c["messages"] == 20000 and c["bytes"] == 20000 * 64
    table = kafkars(b, "perf", "consume", topic, "-n", "100").stdout.splitlines()
    assert table[0].split()[:5] == ["MODE", "MESSAGES", "SECONDS", "MSG/S", "MB/S"]


@pytest.mark.parametrize("args, needle", [
    (["consume", "no-such-topic", "-n", "1"], "unknown topic"),
    (["topics", "describe", "no-such-topic"], "unknown topic"),
    (["produce", "no-such-topic"], "unknown topic"),
    (["topics", "delete", "no-such-topic"], "unknown topic"),
    (["consume", "x", "--no-such-flag"], "--no-such-flag"),
])
def test_errors_are_one_line(shared_kafkars, args, needle):
    out = kafkars(shared_kafkars.bootstrap, *args, input=b"x\n", check=False)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kafkars: error:"), out.stderr
    assert needle in lines[0]


def test_unreachable_broker_is_one_line():
    out = kafkars("127.0.0.1:1", "topics", "list", check=False, timeout=30)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "127.0.0.1:1" in lines[0], out.stderr


def test_bootstrap_from_environment(shared_kafkars, topic):
    env = dict(os.environ, KAFKARS_BROKERS=shared_kafkars.bootstrap)
    proc = subprocess.run([str(kafkars_bin()), "topics", "create", topic], env=env,
                          capture_output=True, timeout=CMD_TIMEOUT)
    assert proc.returncode == 0, proc.stderr


def test_describe_shows_configs(any_broker, topic):
    b = any_broker.bootstrap
    kafkars(b, "topics", "create", topic, "--config", "retention.ms=60000")
    wait_until(lambda: kafkars(b, "topics", "describe", topic, check=False).returncode == 0, 30,
               "the topic to be described")
    full = kafkars(b, "topics", "describe", topic, "--all-configs").stdout.splitlines()[0]
    assert "retention.ms=" in full and "cleanup.policy=" in full
    # Without --all-configs only what differs from the defaults is listed.
    line = kafkars(b, "topics", "describe", topic).stdout.splitlines()[0]
    assert "Configs: retention.ms=60000" in line
    assert "cleanup.policy" not in line
