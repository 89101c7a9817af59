#!/usr/bin/env python3
"""`make bench`: kafkars broker vs Apache Kafka, same machine, same run, same tools.

For each broker: start-up time, then Kafka's ProducerPerformance (RECORDS x 100-byte records,
unthrottled: throughput and latency under load; then paced at PACED_RATE msg/s: latency when
not saturated), ConsumerPerformance (consumer group, subscribe) and a kcat read of the whole
partition (no group), and the broker's resident memory (RSS now and peak).
Prints every figure for both brokers and the ratio kafkars / Kafka.

Environment: BENCH_RECORDS (default 1000000), BENCH_PACED_RATE (10000), BENCH_PARTITIONS (1),
KAFKARS_BIN, KAFKA_LIBS.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import (ApacheKafka, KafkarsBroker, create_topic, ensure_kafka_libs,  # noqa: E402
                      java_cmd)

RECORDS = int(os.environ.get("BENCH_RECORDS", "1000000"))
PACED_RATE = int(os.environ.get("BENCH_PACED_RATE", "10000"))
PARTITIONS = int(os.environ.get("BENCH_PARTITIONS", "1"))
RECORD_SIZE = 100
TOOL_TIMEOUT = 600

PRODUCER_RE = re.compile(
    r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, "
    r"([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th")


def rss_kib(pid, field):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def run_tool(libs, cls, args):
    t0 = time.monotonic()
    proc = subprocess.run(java_cmd(libs, cls, args, heap="512m"), capture_output=True,
                          timeout=TOOL_TIMEOUT, stdin=subprocess.DEVNULL)
    return proc, time.monotonic() - t0


def producer_perf(libs, bootstrap, topic, records, throughput):
    proc, _ = run_tool(libs, "org.apache.kafka.tools.ProducerPerformance", [
        "--topic", topic, "--num-records", str(records), "--record-size", str(RECORD_SIZE),
        "--throughput", str(throughput), "--producer-props", f"bootstrap.servers={bootstrap}",
        "acks=1", "linger.ms=5", "batch.size=262144", "compression.type=none"])
    m = None
    for m in PRODUCER_RE.finditer(proc.stdout.decode()):
        pass
    if proc.returncode != 0 or m is None or int(m.group(1)) != records:
        return {"error": tail(proc)}
    return {"msg/s": float(m.group(2)), "MB/s": float(m.group(3)),
            "p50 ms": float(m.group(6)), "p99 ms": float(m.group(8)),
            "p99.9 ms": float(m.group(9))}


def consumer_perf(libs, bootstrap, topic, records):
    proc, _ = run_tool(libs, "org.apache.kafka.tools.ConsumerPerformance", [
        "--bootstrap-server", bootstrap, "--topic", topic, "--messages", str(records),
        "--timeout", "60000", "--group", f"bench-{time.time_ns()}"])
    rows = [r for r in proc.stdout.decode().splitlines() if r and r[0].isdigit()]
    if proc.returncode != 0 or not rows:
        return {"error": tail(proc)}
    cols = [c.strip() for c in rows[-1].split(",")]
    # start, end, MB, MB.sec, nMsg, nMsg.sec, rebalance ms, fetch ms, fetch.MB.sec, fetch.nMsg.sec
    if int(cols[4]) < records:
        return {"error": f"consumed only {cols[4]} of {records}"}
    return {"msg/s": float(cols[9]), "MB/s": float(cols[8])}


def kcat_read(bootstrap, topic, records):
    t0 = time.monotonic()
    proc = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e",
                           "-q", "-f", "%o\n", "-X", "fetch.message.max.bytes=4194304"],
                          capture_output=True, timeout=TOOL_TIMEOUT)
    elapsed = time.monotonic() - t0
    n = proc.stdout.count(b"\n")
    if proc.returncode != 0 or n < records:
        return {"error": f"kcat read {n} of {records}: {proc.stderr.decode()[-500:]}"}
    return {"msg/s": n / elapsed, "MB/s": n * RECORD_SIZE / elapsed / 1e6}


def tail(proc):
    text = (proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")).strip()
    lines = [line for line in text.splitlines() if "Exception" in line or "ERROR" in line]
    return (lines[-1] if lines else text[-300:]).strip()[:300]


def bench(name, broker, libs):
    figures = {"start-up s": broker.started_in}
    total = RECORDS
    topic = f"bench-{time.time_ns()}"
    create_topic(broker.bootstrap, topic, partitions=PARTITIONS)
    print(f"[{name}] ProducerPerformance {total} x {RECORD_SIZE} B, unthrottled", flush=True)
    figures["produce"] = producer_perf(libs, broker.bootstrap, topic, total, -1)
    print(f"[{name}] ConsumerPerformance {total}", flush=True)
    figures["consume (group)"] = consumer_perf(libs, broker.bootstrap, topic, total)
    print(f"[{name}] kcat read {total}", flush=True)
    figures["consume (kcat)"] = kcat_read(broker.bootstrap, topic, total)
    paced_n = min(total, PACED_RATE * 10)
    paced_topic = topic + "-paced"
    create_topic(broker.bootstrap, paced_topic, partitions=PARTITIONS)
    print(f"[{name}] ProducerPerformance {paced_n} at {PACED_RATE} msg/s", flush=True)
    figures["produce paced"] = producer_perf(libs, broker.bootstrap, paced_topic, paced_n,
                                             PACED_RATE)
    figures["RSS MiB"] = (rss_kib(broker.pid, "VmRSS") or 0) / 1024
    figures["peak RSS MiB"] = (rss_kib(broker.pid, "VmHWM") or 0) / 1024
    return figures


ROWS = [
    ("start-up s", None, "start-up s (spawn to serving; Kafka: after format)", False),
    ("produce", "msg/s", "produce msg/s", True),
    ("produce", "MB/s", "produce MB/s", True),
    ("produce", "p50 ms", "produce latency p50 ms (saturated)", False),
    ("produce", "p99 ms", "produce latency p99 ms (saturated)", False),
    ("produce paced", "p50 ms", f"produce latency p50 ms @{PACED_RATE}/s", False),
    ("produce paced", "p99 ms", f"produce latency p99 ms @{PACED_RATE}/s", False),
    ("consume (group)", "msg/s", "consume msg/s (ConsumerPerformance)", True),
    ("consume (group)", "MB/s", "consume MB/s (ConsumerPerformance)", True),
    ("consume (kcat)", "msg/s", "consume msg/s (kcat, no group)", True),
    ("consume (kcat)", "MB/s", "consume MB/s (kcat, no group)", True),
    ("RSS MiB", None, "broker RSS MiB after the run", False),
    ("peak RSS MiB", None, "broker peak RSS MiB", False),
]


def value(figs, key, sub):
    v = figs.get(key)
    if sub is None:
        return v, None
    if not isinstance(v, dict):
        return None, None
    return v.get(sub), v.get("error")


def report(results):
    names = list(results)
    print()
    print(f"{'figure':52} {'kafkars':>12} {'Apache Kafka':>14} {'ratio':>8}")
    for key, sub, label, higher_better in ROWS:
        ours, err_ours = value(results.get("kafkars", {}), key, sub)
        theirs, err_theirs = value(results.get("kafka", {}), key, sub)
        def fmt(v, e):
            if isinstance(v, (int, float)):
                return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
            return "FAILED" if e else "-"

        ratio = ""
        if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and theirs:
            ratio = f"{ours / theirs:.2f}x"
        print(f"{label:52} {fmt(ours, err_ours):>12} {fmt(theirs, err_theirs):>14} {ratio:>8}")
    print("(ratio = kafkars / Apache Kafka; for msg/s and MB/s higher is better, "
          "for latency, start-up and RSS lower is better)")
    for name in names:
        for key, v in results[name].items():
            if isinstance(v, dict) and "error" in v:
                print(f"[{name}] {key} failed: {v['error']}")


def main():
    libs = ensure_kafka_libs()
    results = {}
    with tempfile.TemporaryDirectory(prefix="kafkars-bench-") as tmp:
        tmp = Path(tmp)
        broker = KafkarsBroker(tmp / "kafkars-data", tmp / "kafkars.log")
        try:
            broker.start()
            print(f"kafkars broker on {broker.bootstrap}, started in {broker.started_in:.3f}s",
                  flush=True)
            results["kafkars"] = bench("kafkars", broker, libs)
        finally:
            rc = broker.stop()
            if rc != 0:
                print(f"[kafkars] SIGTERM exit status {rc}", flush=True)
        (tmp / "kafka").mkdir()
        kafka = ApacheKafka(libs, tmp / "kafka", heap="1g")
        try:
            kafka.start()
            print(f"Apache Kafka on {kafka.bootstrap}, started in {kafka.started_in:.3f}s",
                  flush=True)
            results["kafka"] = bench("kafka", kafka, libs)
        finally:
            kafka.stop()
    report(results)


if __name__ == "__main__":
    main()
