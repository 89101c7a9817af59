#!/usr/bin/env python3
"""`make bench`, client half: the Rust client core and the PHP extension against their peers,
all against one `kafkars broker` started here, in the same run.

  client core (examples/perf.rs)  vs  kcat (Debian's librdkafka)   produce and consume msg/s
  kafkars.so (php/bench/*.php)    vs  PEER_EXT=/path/to/rdkafka.so  produce and consume msg/s

The machine may be shared, so ours and the peer run alternately (the order flips every round),
BENCH_ROUNDS times (default 3); each row prints both medians, the ratio of the medians, and
the per-round ratios. Without PEER_EXT the PHP rows compare against kcat's figures (librdkafka
without PHP) and say so. BENCH_RECORDS (default 1,000,000) sets the message count; messages
are 100 bytes, one partition, a fresh topic per run.

Binaries: KAFKARS_BIN (the command line, also the broker), KAFKARS_SO (the extension) and
PERF_BIN (examples/perf) default to the release builds under CARGO_TARGET_DIR (or target/).
"""
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
RELEASE = os.path.join(TARGET, "release")
BIN = os.environ.get("KAFKARS_BIN", os.path.join(RELEASE, "kafkars"))
SO = os.environ.get("KAFKARS_SO", os.path.join(RELEASE, "kafkars.so"))
PERF = os.environ.get("PERF_BIN", os.path.join(RELEASE, "examples/perf"))
N = int(os.environ.get("BENCH_RECORDS", "1000000"))
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
SIZE = 100
PEER_EXT = os.environ.get("PEER_EXT")
TIMEOUT = 600


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, deadline_s=30):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"bench: broker did not listen on {port} within {deadline_s} s")


class Topics:
    """A fresh one-partition topic per run, so every consumer reads exactly its N messages."""

    def __init__(self, bootstrap):
        self.bootstrap = bootstrap
        self.n = 0

    def new(self, prefix):
        self.n += 1
        name = f"{prefix}-{self.n}"
        subprocess.run([BIN, "topics", "create", name, "--partitions", "1", "-b",
                        self.bootstrap], check=True, stdout=subprocess.DEVNULL, timeout=60)
        return name


def timed(cmd, **kw):
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, timeout=TIMEOUT, **kw)
    return time.monotonic() - t0


def kcat_name():
    out = subprocess.run(["kcat", "-V"], capture_output=True, text=True).stdout
    m = re.search(r"librdkafka (?:version )?(\d[\w.\-]*)", out)
    return f"kcat (librdkafka {m.group(1)})" if m else "kcat (librdkafka)"


def kcat_rates(topics, data):
    topic = topics.new("bench-kcat")
    with open(data, "rb") as stdin:
        produce_s = timed(["kcat", "-P", "-q", "-b", topics.bootstrap, "-t", topic, "-p", "0",
                           "-X", "linger.ms=5"], stdin=stdin)
    consume_s = timed(["kcat", "-C", "-q", "-b", topics.bootstrap, "-t", topic, "-p", "0",
                       "-o", "beginning", "-e", "-c", str(N)], stdout=subprocess.DEVNULL)
    return N / produce_s, N / consume_s


def core_rates(topics):
    topic = topics.new("bench-core")
    out = subprocess.run([PERF, topics.bootstrap, topic, str(N), str(SIZE)], check=True,
                         capture_output=True, text=True, timeout=TIMEOUT).stdout
    phases = {j["phase"]: j for j in map(json.loads, out.strip().splitlines())}
    assert phases["consume"]["msgs"] == N, f"core consumer read {phases['consume']['msgs']}"
    return phases["produce"]["msg_per_s"], phases["consume"]["msg_per_s"]


def php_rates(topics, ext):
    topic = topics.new("bench-php")
    php = ["php", "-n", "-d", f"extension={ext}"]
    p = json.loads(subprocess.run(php + ["php/bench/produce.php", topic, str(N), str(SIZE),
                                         topics.bootstrap], check=True, capture_output=True,
                                  text=True, timeout=TIMEOUT, cwd=ROOT).stdout)
    c = json.loads(subprocess.run(php + ["php/bench/consume.php", topic, str(N),
                                         topics.bootstrap], check=True, capture_output=True,
                                  text=True, timeout=TIMEOUT, cwd=ROOT).stdout)
    assert p["flush"] == 0, f"{ext} flush() returned {p['flush']}"
    assert c["messages"] == N, f"{ext} consumer read {c['messages']}"
    return p, c


def alternate(ours, peer, label):
    """Runs ours and peer ROUNDS times, flipping the order each round; returns both lists."""
    a, b = [], []
    for r in range(ROUNDS):
        if r % 2 == 0:
            a.append(ours())
            b.append(peer())
        else:
            b.append(peer())
            a.append(ours())
        print(f"  {label} round {r + 1}/{ROUNDS} done", file=sys.stderr, flush=True)
    return a, b


def row(what, ours, peer_name, peer):
    mo, mp = statistics.median(ours), statistics.median(peer)
    per = " ".join(f"{o / p:.2f}" for o, p in zip(ours, peer) if p)
    ratio = f"{mo / mp:.2f}x" if mp else "n/a"
    print(f"{what:<30} kafkars {mo:>10,.0f} msg/s   {peer_name} {mp:>10,.0f} msg/s   "
          f"ratio {ratio} (rounds: {per})", flush=True)


def main():
    for path in (BIN, SO):
        if not os.path.exists(path):
            raise SystemExit(f"bench: {path} missing (make build)")
    if "PERF_BIN" not in os.environ:
        subprocess.run(["cargo", "build", "--release", "--example", "perf", "-q"], check=True,
                       cwd=ROOT)
    work = tempfile.mkdtemp(prefix="kafkars-bench-")
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    broker = subprocess.Popen([BIN, "broker", "--listen", bootstrap, "--advertise", bootstrap,
                               "--data-dir", os.path.join(work, "data")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        topics = Topics(bootstrap)
        data = os.path.join(work, "kcat-input")
        with open(data, "wb") as f:
            line = b"x" * SIZE + b"\n"
            for _ in range(N // 1000):
                f.write(line * 1000)
        kname = kcat_name()
        print(f"== clients against kafkars broker {bootstrap}: {N:,} x {SIZE} B, one partition,"
              f" {ROUNDS} alternating rounds, medians", flush=True)
        core, kcat = alternate(lambda: core_rates(topics), lambda: kcat_rates(topics, data),
                               "client core vs kcat")
        row("client core produce", [c[0] for c in core], kname, [k[0] for k in kcat])
        row("client core consume", [c[1] for c in core], kname, [k[1] for k in kcat])
        if PEER_EXT:
            ours, peer = alternate(lambda: php_rates(topics, SO),
                                   lambda: php_rates(topics, PEER_EXT), "kafkars.so vs peer")
            name = peer[0][0]["extension"]
        else:
            ours, _ = alternate(lambda: php_rates(topics, SO), lambda: None, "kafkars.so")
            print("(PEER_EXT unset: the PHP rows compare against kcat, librdkafka without PHP;"
                  " set PEER_EXT=/path/to/rdkafka.so for php-rdkafka)")
            name = kname
            peer = [({"msg_per_s": k[0], "peak_memory": 0}, {"msg_per_s": k[1],
                                                             "peak_memory": 0}) for k in kcat]
        row("PHP produce()+flush()", [o[0]["msg_per_s"] for o in ours], name,
            [p[0]["msg_per_s"] for p in peer])
        row("PHP KafkaConsumer::consume()", [o[1]["msg_per_s"] for o in ours], name,
            [p[1]["msg_per_s"] for p in peer])
        mem = lambda runs, i: max(r[i]["peak_memory"] for r in runs) >> 20  # noqa: E731
        print(f"{'PHP peak memory (prod/cons)':<30} kafkars {mem(ours, 0)}/{mem(ours, 1)} MiB"
              + (f"   {name} {mem(peer, 0)}/{mem(peer, 1)} MiB" if PEER_EXT else ""))
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
