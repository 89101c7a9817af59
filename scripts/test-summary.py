#!/usr/bin/env python3
"""Sum the counts of every test suite `make test` ran and print ONE final line:
``N passed, N failed``. Exit status 1 if anything failed.

Arguments are ``kind:path`` pairs; ``path.rc`` holds the suite's exit status.
    build:LOG    the build step: no tests of its own; a failed build counts as one failure
    fmt:LOG      `cargo fmt --check`: like build, unformatted code counts as one failure
    cargo:LOG    cargo test output ("test result: ok. 3 passed; 0 failed; ...")
    pytest:XML   pytest --junitxml report
    phpt:LOG     PHP run-tests.php output ("Tests passed : 5 ...")
A suite whose log is missing was not run (reported, counts nothing). A suite that exited
non-zero without any failing test (compile error, crash, collection error) counts as one
failure, so a broken build can never look green.
"""

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def cargo_counts(text):
    passed = failed = 0
    for m in re.finditer(r"test result: \w+\. (\d+) passed; (\d+) failed", text):
        passed += int(m.group(1))
        failed += int(m.group(2))
    return passed, failed


def pytest_counts(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    passed = failed = 0
    for s in suites:
        tests, fail = int(s.get("tests", 0)), int(s.get("failures", 0))
        err, skip = int(s.get("errors", 0)), int(s.get("skipped", 0))
        failed += fail + err
        passed += tests - fail - err - skip
    return passed, failed


def phpt_counts(text):
    def field(name):
        m = re.search(rf"^Tests {name}\s*:\s*(\d+)", text, re.M)
        return int(m.group(1)) if m else 0

    return field("passed"), field("failed") + field("borked") + field("leaked")


def main(args):
    total_passed = total_failed = 0
    for arg in args:
        kind, _, path = arg.partition(":")
        p = Path(path)
        if not p.exists():
            print(f"{kind:7} not run")
            continue
        rc_file = Path(path + ".rc")
        rc = int(rc_file.read_text().strip() or 1) if rc_file.exists() else 0
        try:
            if kind in ("build", "fmt"):
                print(f"{kind:7} " + ("ok" if rc == 0 else f"FAILED (exit {rc}), see {path}"))
                total_failed += 1 if rc else 0
                continue
            if kind == "cargo":
                passed, failed = cargo_counts(p.read_text(errors="replace"))
            elif kind == "pytest":
                passed, failed = pytest_counts(p)
            elif kind == "phpt":
                passed, failed = phpt_counts(p.read_text(errors="replace"))
            else:
                raise ValueError(f"unknown suite kind {kind}")
        except (ET.ParseError, ValueError) as exc:
            print(f"{kind:7} unreadable report {path}: {exc}")
            passed, failed = 0, 1
        note = ""
        if rc != 0 and failed == 0:
            failed = 1
            note = f" (suite exited {rc} with no failing test: build or harness error)"
        print(f"{kind:7} {passed} passed, {failed} failed{note}")
        total_passed += passed
        total_failed += failed
    print(f"{total_passed} passed, {total_failed} failed")
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
