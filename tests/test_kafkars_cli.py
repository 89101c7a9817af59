"""The `kafkars` command line (DESIGN.md "Fixed interfaces"), against both brokers: the seed
walk-through with `kafkars` in place of Kafka's scripts."""

import subprocess

import pytest

from conftest import kafkars_bin, wait_until


def kafkars(broker, *args, input=None, timeout=60, check=True):
    argv = [str(kafkars_bin().resolve()), *args, "--bootstrap-server", broker.bootstrap]
    proc = subprocess.run(argv, input=input, capture_output=True, timeout=timeout,
                          stdin=None if input is not None else subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {proc.returncode}: "
                             f"{proc.stderr.decode(errors='replace')[-2000:]}")
    return proc


def out_lines(proc):
    return proc.stdout.decode().splitlines()


@pytest.mark.timeout(120)
def test_kafkars_seed_walkthrough(any_broker):
    t = "xiaojun-cli"
    kafkars(any_broker, "topics", "create", t, "--partitions", "1", "--replication-factor", "1")
    assert t in out_lines(kafkars(any_broker, "topics", "list"))
    desc = kafkars(any_broker, "topics", "describe", t).stdout.decode()
    assert t in desc and "0" in desc, desc

    kafkars(any_broker, "produce", t, input=b"hello kafkars\nsecond message\nthird message\n")
    got = kafkars(any_broker, "consume", t, "--from-beginning", "--max-messages", "3")
    assert out_lines(got) == ["hello kafkars", "second message", "third message"]
    got = kafkars(any_broker, "consume", t, "--partition", "0", "--offset", "2",
                  "--max-messages", "1")
    assert out_lines(got) == ["third message"]

    kafkars(any_broker, "topics", "delete", t)
    wait_until(lambda: t not in out_lines(kafkars(any_broker, "topics", "list")), 30,
               f"{t} to disappear from `kafkars topics list`")


@pytest.mark.timeout(60)
def test_kafkars_errors_are_one_line_and_nonzero(any_broker):
    proc = kafkars(any_broker, "topics", "describe", "no-such-topic-here", check=False)
    assert proc.returncode != 0
    err = proc.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "no-such-topic-here" in err[0], err
    assert b"panicked" not in proc.stderr
