"""Cron expressions and durations of schedules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.errors import UsageError
from crawler.scheduling.timing import Timing, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("6h", 21600), ("2d", 172800), ("1w", 604800), ("1h30m", 5400),
                          ("45s", 45), ("0.5s", 0.5)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "6 hours", "h", "-5m", "0s", "1h 30m", "5x", "1.2.3s", "6", "0.5"])
def test_bad_durations_are_usage_errors_naming_the_option(text):
    with pytest.raises(UsageError, match="--budget"):
        parse_duration(text, "--budget")


def test_a_bare_number_needs_a_unit():
    with pytest.raises(UsageError, match=r"--every '6' needs a unit: s, m, h, d or w \(e\.g\. 6s, 6m, 6h\)"):
        parse_duration("6", "--every")


def test_format_duration():
    assert format_duration(5400) == "1h30m"
    assert format_duration(86400 + 5) == "1d5s"
    assert format_duration(0) == "0s"


def test_every_runs_a_fixed_period_after():
    assert Timing.from_options(None, "6h").next_after(1000.0) == 1000.0 + 21600


def test_cron_next_run_in_utc():
    timing = Timing.from_options("0 */6 * * *", None)
    start = datetime(2026, 1, 1, 7, 30, tzinfo=UTC).timestamp()
    assert datetime.fromtimestamp(timing.next_after(start), UTC) == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert timing.describe() == "cron '0 */6 * * *' (UTC)"


@pytest.mark.parametrize("expression", ["61 * * * *", "* * * *", "bogus * * * *", "* * * * * *", "*/0 * * * *"])
def test_invalid_cron_is_a_usage_error(expression):
    with pytest.raises(UsageError, match="cron expression"):
        Timing.from_options(expression, None)


@pytest.mark.parametrize(("cron", "every"), [(None, None), ("* * * * *", "1h")])
def test_exactly_one_of_cron_and_every(cron, every):
    with pytest.raises(UsageError, match="exactly one"):
        Timing.from_options(cron, every)
