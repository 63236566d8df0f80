"""The one retry backoff (crawler/backoff.py): Elasticsearch writes without jitter, notifications with it."""

from __future__ import annotations

import random

from crawler.backoff import backoff_delay


def test_defaults_are_the_elasticsearch_retries_1_2_4_up_to_30_seconds():
    assert [backoff_delay(failures) for failures in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_no_failure_yet_waits_the_base():
    assert backoff_delay(0) == backoff_delay(1) == 1


def test_backoff_doubles_is_capped_and_jittered():
    assert [backoff_delay(n, 10, 100, rng=lambda: 1.0) for n in (1, 2, 3, 4, 5, 9)] == [10, 20, 40, 80, 100, 100]
    assert backoff_delay(3, 10, 100, rng=lambda: 0.0) == 20  # jitter: 50% at least
    assert all(20 <= backoff_delay(3, 10, 100, rng=random.random) <= 40 for _ in range(100))


def test_a_target_failing_for_days_still_gets_the_cap():
    assert backoff_delay(5000, 10, 900) == 900  # 2**4999 would not fit a float
