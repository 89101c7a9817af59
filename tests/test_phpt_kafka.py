"""The extension's .phpt suite against Apache Kafka 4.1.1 (issue 5).

`make test` runs php/tests/*.phpt against `kafkars broker`; here the same files run with
KAFKARS_BROKERS pointing at a real single-node Apache Kafka (KRaft, from the Maven jars), so the
broker-dependent ones prove kafkars.so works against Kafka itself, not only against our
broker. Tests that need no broker run too (they must pass anywhere). Every test must PASS:
run-tests.php's SKIP, FAIL, BORK or LEAK here fails this test, with the diff of each failure.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
from pathlib import Path

import pytest

from test_packaging import php_ext

ROOT = Path(__file__).resolve().parent.parent
PHPT = ROOT / "php" / "tests"

pytestmark = [
    pytest.mark.skipif(php_ext() is None, reason="needs a built kafkars.so"),
    pytest.mark.java,
]


def run_tests_php() -> str | None:
    found = sorted(glob.glob("/usr/lib/php/*/build/run-tests.php"))
    return found[0] if found else None


def test_phpt_suite_passes_against_apache_kafka(apache_kafka, tmp_path):
    runner = run_tests_php()
    if runner is None:
        pytest.skip("run-tests.php not installed (php8.2-dev)")
    files = [str(p) for p in sorted(PHPT.glob("*.phpt"))]
    assert len(files) >= 30, f"only {len(files)} .phpt files found in {PHPT}"
    env = dict(os.environ, KAFKARS_BROKERS=apache_kafka.bootstrap, NO_INTERACTION="1",
               TEST_PHP_EXECUTABLE=os.environ.get("TEST_PHP_EXECUTABLE", "/usr/bin/php"))
    proc = subprocess.run(["php", runner, "-q", "--no-color", "-d", f"extension={php_ext()}", *files],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    out = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    bad = [line for line in out.splitlines() if re.match(r"^(FAIL|SKIP|BORK|LEAK)\b", line)]
    details = []
    for line in bad:
        m = re.search(r"\[(.+?)\.phpt\]", line)
        if m:
            diff = Path(m.group(1) + ".diff")
            if diff.exists():
                details.append(f"--- {diff.name}\n{diff.read_text()[:3000]}")
    passed = len(re.findall(r"^PASS\b", out, re.M))
    assert not bad and passed == len(files), (
        f"{passed}/{len(files)} passed against {apache_kafka.bootstrap}\n"
        + "\n".join(bad) + "\n" + "\n".join(details) + f"\n{out[-3000:]}")
