"""The nmred/kafka-php 0.1 compatibility layer (compat/, autoloaded by the root composer.json).

Seed 1's producer.php and consumer.php (tests/compat/, only the address changed) run against
our broker with kafkars.so, installed the way users install the package: `composer require
--dev` from a path repository. Message counts and fetch rounds are bounded.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, create_topic
from test_packaging import composer_project, have, php_ext

SCRIPTS = ROOT / "tests" / "compat"
COUNT = 10

pytestmark = pytest.mark.skipif(not have("composer") or php_ext() is None,
                                reason="needs composer and a built kafkars.so")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return composer_project(tmp_path_factory.mktemp("compat") / "app")


def php(project: Path, script: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    proc = subprocess.run(["php", "-n", "-d", f"extension={php_ext()}", str(SCRIPTS / script),
                           *args], cwd=project, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{script} {args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_seed_producer_and_consumers(project, shared_kafkars, topic):
    b = shared_kafkars.bootstrap
    create_topic(b, topic, partitions=2)

    out = php(project, "producer.php", b, topic, str(COUNT)).stdout.splitlines()
    assert len(out) == COUNT
    for i, line in enumerate(out):
        result = json.loads(line)
        # One partition per send(): {"topic": {"<p>": {"errCode": 0, "offset": n}}} (PHP
        # encodes partition 0 alone as a list).
        parts = result[topic]
        entry = parts[0] if isinstance(parts, list) else next(iter(parts.values()))
        assert entry["errCode"] == 0 and entry["offset"] == i // 2, result

    for p in (0, 1):
        want = [f"{p}\tmessage {i} to partition {p}" for i in range(COUNT) if i % 2 == p]
        got = php(project, "consumer.php", str(p), b, topic, str(len(want)), "20").stdout
        assert got.splitlines() == want

    # The group committed what it read: a second run of the same consumer sees nothing new.
    again = php(project, "consumer.php", "0", b, topic, "1", "2").stdout
    assert again == ""


@pytest.mark.parametrize("address", ["localhost:2181", "zk1:2181,zk2:2181",
                                     "127.0.0.1:9092/kafka"])
def test_zookeeper_address_is_refused_with_advice(project, address):
    code = ("require 'vendor/autoload.php';"
            "try { \\Kafka\\Consumer::getInstance($argv[1]); echo 'accepted'; }"
            " catch (\\Kafka\\Exception $e) { echo $e->getMessage(); }")
    proc = subprocess.run(["php", "-n", "-d", f"extension={php_ext()}", "-r", code, address],
                          cwd=project, capture_output=True, text=True, timeout=30)
    assert "ZooKeeper" in proc.stdout and "broker list" in proc.stdout, proc.stdout + proc.stderr


def test_explicit_offset_high_watermark_and_message_api(project, shared_kafkars, topic):
    b = shared_kafkars.bootstrap
    create_topic(b, topic, partitions=1)
    php(project, "producer.php", b, topic, "4")
    code = r"""require 'vendor/autoload.php';
$c = \Kafka\Consumer::getInstance($argv[1]);
$c->setFromOffset(false);
$c->setPartition($argv[2], 0, 2);
foreach ($c->fetch() as $name => $partition) {
    foreach ($partition as $id => $set) {
        echo $name === $argv[2] ? 'topic' : 'other', " $id high=", $partition->getHighOffset(), " n=", count($set), "\n";
        foreach ($set as $m) {
            echo $m->getOffset(), ' ', $m, "\n";
        }
        echo 'last=', $partition->getMessageOffset(), "\n";
    }
}
var_dump($c->fetch() instanceof \Kafka\Protocol\Fetch\Topic);
"""
    proc = subprocess.run(["php", "-n", "-d", f"extension={php_ext()}", "-r", code, b, topic],
                          cwd=project, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "topic 0 high=4 n=2",
        "2 message 2 to partition 0",
        "3 message 3 to partition 0",
        "last=3",
        "bool(true)",
    ]
