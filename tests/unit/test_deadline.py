import threading
import time

import pytest

from crawler.deadline import run_within


def test_returns_the_value_and_raises_the_error_of_the_call():
    assert run_within(5, lambda: 42, "answer") == 42
    with pytest.raises(KeyError, match="missing"):
        run_within(5, lambda: {}["missing"], "lookup")


def test_a_call_past_its_timeout_is_cancelled_and_abandoned():
    release = threading.Event()
    cancelled = []

    def cancel():
        cancelled.append(True)
        release.set()

    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"slow thing: no answer within 0\.5 s"):
        run_within(0.5, lambda: release.wait(60), "slow thing", cancel)
    assert 0.4 <= time.monotonic() - started < 2.0
    assert cancelled == [True]


def test_no_time_left_means_no_call():
    calls = []
    with pytest.raises(TimeoutError, match="no time left"):
        run_within(0, lambda: calls.append(1), "late")
    assert calls == []
