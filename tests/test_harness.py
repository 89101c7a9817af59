"""The harness itself: brokers come up, accept a round trip, and go away cleanly."""

import pytest

from conftest import kcat_consume, kcat_produce


@pytest.mark.timeout(180)
def test_round_trip_kcat(any_broker, topic):
    kcat_produce(any_broker.bootstrap, topic, [b"one", b"two", b"three"])
    out = kcat_consume(any_broker.bootstrap, topic, 3).stdout.splitlines()
    assert out == [b"one", b"two", b"three"]


def test_kafkars_stop_is_clean(kafkars_broker):
    assert kafkars_broker.stop() == 0, kafkars_broker.log_text()
    assert not kafkars_broker.running()
