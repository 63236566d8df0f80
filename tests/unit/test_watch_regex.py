"""Regex watches: re2 patterns, refused with re2's reason when re2 cannot run them in linear time."""

from __future__ import annotations

import pytest

from crawler.errors import UsageError
from crawler.watch.matchers import WatchSet
from crawler.watch.model import REGEX
from crawler.watch.regex import MAX_MATCHES, regex_spec
from tests.unit.watch_support import page_doc, watch


def matches(pattern, html):
    regex_watch = watch(REGEX, regex_spec(pattern))
    found = WatchSet.compile([regex_watch]).evaluate(page_doc(html))
    return found[0].matches if found else []


def test_regex_matches_with_value_and_context():
    found = matches(r"(?i)iban:?\s*[A-Z]{2}\d{2}(?:\s?[0-9A-Z]{4}){3,7}",
                    "<p>Send the cash-out to IBAN: NL91 ABNA 0417 1643 00 today.</p>")
    assert [m["value"] for m in found] == ["IBAN: NL91 ABNA 0417 1643"]
    assert "cash-out" in found[0]["context"] and found[0]["kind"] == REGEX


def test_regex_without_a_match_does_not_fire():
    assert matches(r"\bIBAN\b", "<p>no bank here</p>") == []


def test_distinct_values_are_reported_once_and_bounded():
    html = "<p>" + " ".join(f"ticket-{i % 50}" for i in range(500)) + "</p>"
    found = matches(r"ticket-\d+", html)
    assert len(found) == MAX_MATCHES and len({m["value"] for m in found}) == MAX_MATCHES


@pytest.mark.parametrize(("pattern", "reason"), [
    (r"(a+)\1", "invalid escape sequence"),  # back-reference
    (r"pay(?=ment)", "invalid perl operator"),  # look-ahead
    (r"(?<!x)y", "invalid perl operator"),  # look-behind
    (r"[unclosed", "missing ]"),
])
def test_patterns_re2_refuses_are_refused_on_one_line(pattern, reason):
    with pytest.raises(UsageError) as error:
        regex_spec(pattern)
    message = str(error.value)
    assert reason in message and "\n" not in message and "re2" in message


def test_a_pattern_matching_the_empty_string_is_refused():
    with pytest.raises(UsageError, match="empty string"):
        regex_spec(r"x*")


def test_catastrophic_pattern_runs_on_hostile_input():
    """(a+)+ on a long run of a's with no final match: exponential for a backtracking engine, one pass for re2
    (this test would hang with Python's re)."""
    assert matches(r"(a+)+$x", "<p>" + "a" * 200_000 + "b</p>") == []
