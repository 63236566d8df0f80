"""The one parser of "since when" options: relative durations, named days, ISO 8601; anything else exit 2."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.cli.dates import iso_utc, parse_since
from crawler.errors import UsageError

NOW = datetime(2026, 12, 6, 18, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("24h", "2026-12-05T18:30:15Z"),
    ("7d", "2026-11-29T18:30:15Z"),
    ("now-7d", "2026-11-29T18:30:15Z"),
    ("1h30m", "2026-12-06T17:00:15Z"),
    ("2w", "2026-11-22T18:30:15Z"),
    ("now", "2026-12-06T18:30:15Z"),
    ("today", "2026-12-06T00:00:00Z"),
    ("Yesterday", "2026-12-05T00:00:00Z"),
    ("2026-11-01", "2026-11-01T00:00:00Z"),
    ("2026-11-01T08:00:00Z", "2026-11-01T08:00:00Z"),
    ("2026-11-01T08:00:00+01:00", "2026-11-01T07:00:00Z"),
    ("2026-11-01 08:00", "2026-11-01T08:00:00Z"),  # no zone: UTC
])
def test_accepted_forms(text, expected):
    assert iso_utc(parse_since(text, "--since", now=NOW)) == expected


@pytest.mark.parametrize("text", ["garbage", "", "7", "-7d", "now-", "now+1d", "7 days", "2026-13-01", "0h",
                                  "now-7d/d", "tomorrow"])
def test_anything_else_is_a_usage_error_naming_the_option(text):
    with pytest.raises(UsageError) as caught:
        parse_since(text, "--changed-since", now=NOW)
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith("--changed-since ")
    assert "\n" not in str(caught.value)
