#!/usr/bin/env python3
"""`make bench`, client half: the Rust client core and the PHP extension against their peers,
all against one `kafkars broker` started here, in the same run.

  client core (examples/perf.rs)  vs  kcat (Debian's librdkafka)   produce and consume msg/s
  kafkars.so (php/bench/*.php)    vs  PEER_EXT=/path/to/rdkafka.so  produce and consume msg/s

Each row prints both figures and the ratio. Without PEER_EXT the PHP rows compare against
kcat's figures (librdkafka without PHP) and say so. BENCH_RECORDS (default 1,000,000) sets the
message count; messages are 100 bytes, one partition.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("KAFKARS_BIN", os.path.join(ROOT, "target/release/kafkars"))
SO = os.path.join(ROOT, "target/release/kafkars.so")
PERF = os.path.join(ROOT, "target/release/examples/perf")
N = int(os.environ.get("BENCH_RECORDS", "1000000"))
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


def create_topic(bootstrap, name):
    subprocess.run([BIN, "topics", "create", name, "--partitions", "1", "-b", bootstrap],
                   check=True, stdout=subprocess.DEVNULL, timeout=60)


def timed(cmd, **kw):
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, timeout=TIMEOUT, **kw)
    return time.monotonic() - t0


def row(what, ours, peer_name, peer):
    ratio = f"{ours / peer:.2f}x" if peer else "n/a"
    print(f"{what:<34} kafkars {ours:>11,.0f} msg/s   {peer_name} {peer:>11,.0f} msg/s   "
          f"ratio {ratio}", flush=True)


def kcat_rates(bootstrap, topic, work):
    data = os.path.join(work, "kcat-input")
    with open(data, "wb") as f:
        line = b"x" * SIZE + b"\n"
        for _ in range(N // 1000):
            f.write(line * 1000)
    create_topic(bootstrap, topic)
    with open(data, "rb") as stdin:
        produce_s = timed(["kcat", "-P", "-q", "-b", bootstrap, "-t", topic, "-p", "0",
                           "-X", "linger.ms=5"], stdin=stdin)
    consume_s = timed(["kcat", "-C", "-q", "-b", bootstrap, "-t", topic, "-p", "0",
                       "-o", "beginning", "-e", "-c", str(N)], stdout=subprocess.DEVNULL)
    return N / produce_s, N / consume_s


def core_rates(bootstrap, topic):
    create_topic(bootstrap, topic)
    out = subprocess.run([PERF, bootstrap, topic, str(N), str(SIZE)], check=True,
                         capture_output=True, text=True, timeout=TIMEOUT).stdout
    phases = {j["phase"]: j for j in map(json.loads, out.strip().splitlines())}
    assert phases["consume"]["msgs"] == N, f"core consumer read {phases['consume']['msgs']}"
    return phases["produce"]["msg_per_s"], phases["consume"]["msg_per_s"]


def php_rates(bootstrap, topic, ext):
    create_topic(bootstrap, topic)
    php = ["php", "-d", f"extension={ext}"]
    p = json.loads(subprocess.run(php + ["php/bench/produce.php", topic, str(N), str(SIZE),
                                         bootstrap], check=True, capture_output=True,
                                  text=True, timeout=TIMEOUT, cwd=ROOT).stdout)
    c = json.loads(subprocess.run(php + ["php/bench/consume.php", topic, str(N), bootstrap],
                                  check=True, capture_output=True, text=True,
                                  timeout=TIMEOUT, cwd=ROOT).stdout)
    assert c["messages"] == N, f"{ext} consumer read {c['messages']}"
    return p, c


def main():
    for path in (BIN, SO):
        if not os.path.exists(path):
            raise SystemExit(f"bench: {path} missing (make build)")
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
        print(f"== clients against kafkars broker {bootstrap}: {N:,} x {SIZE} B, one partition")
        kp, kc = kcat_rates(bootstrap, "bench-kcat", work)
        cp, cc = core_rates(bootstrap, "bench-core")
        row("client core produce", cp, "kcat (librdkafka)", kp)
        row("client core consume", cc, "kcat (librdkafka)", kc)
        ours_p, ours_c = php_rates(bootstrap, "bench-php", SO)
        if PEER_EXT:
            peer_p, peer_c = php_rates(bootstrap, "bench-php-peer", PEER_EXT)
            name = peer_p["extension"]
            row("PHP produce()+flush()", ours_p["msg_per_s"], name, peer_p["msg_per_s"])
            row("PHP KafkaConsumer::consume()", ours_c["msg_per_s"], name, peer_c["msg_per_s"])
            print(f"{'PHP peak memory (produce/consume)':<34} kafkars "
                  f"{ours_p['peak_memory'] >> 20}/{ours_c['peak_memory'] >> 20} MiB   {name} "
                  f"{peer_p['peak_memory'] >> 20}/{peer_c['peak_memory'] >> 20} MiB")
        else:
            print("(PEER_EXT unset: the PHP rows compare against kcat, librdkafka without PHP;"
                  " set PEER_EXT=/path/to/rdkafka.so for php-rdkafka)")
            row("PHP produce()+flush()", ours_p["msg_per_s"], "kcat (librdkafka)", kp)
            row("PHP KafkaConsumer::consume()", ours_c["msg_per_s"], "kcat (librdkafka)", kc)
            print(f"{'PHP peak memory (produce/consume)':<34} kafkars "
                  f"{ours_p['peak_memory'] >> 20}/{ours_c['peak_memory'] >> 20} MiB")
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
