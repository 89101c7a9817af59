"""The client core's own Rust integration suites (`tests/rust/`, issue #4) against a real
Apache Kafka 4.1.1 (single KRaft node from the Maven jars).

`make test`'s cargo suite runs them against `kafkars broker`; here the same test binaries
run with `KAFKARS_TEST_BOOTSTRAP` pointing at Apache Kafka, so every round trip (codecs,
keys, headers, null payloads, groups, commits and resume, transactions, statistics and logs)
is also proven against Kafka itself. Tests that need to kill and restart the broker do that
part only on ours.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from conftest import ROOT

SUITES = ["client_producer", "client_consumer", "client_transactions", "client_events"]


@pytest.mark.java
@pytest.mark.parametrize("suite", SUITES)
def test_core_suite_against_apache_kafka(apache_kafka, suite):
    env = dict(os.environ, KAFKARS_TEST_BOOTSTRAP=apache_kafka.bootstrap)
    # Same selection as `make test-cargo` (whole default workspace), so no rebuild happens.
    r = subprocess.run(["cargo", "test", "--test", suite], cwd=ROOT, env=env,
                       capture_output=True, timeout=900)
    out = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
    assert r.returncode == 0, out[-6000:]
    passed = re.search(r"test result: ok\. (\d+) passed; 0 failed", out)
    assert passed and int(passed.group(1)) > 0, out[-3000:]
