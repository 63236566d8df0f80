"""Regex watches: a pattern run with re2 (google-re2), whose time is linear in the page's length whatever the
pattern, so a hostile page cannot stall the crawl. Patterns re2 refuses (back-references, look-around) are refused
when the watch is added.

Offers :func:`regex_spec` (pattern -> stored spec, or :class:`UsageError` with re2's reason) and
:class:`RegexMatcher`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import re2

from crawler.errors import UsageError
from crawler.watch.context import context_around, page_text
from crawler.watch.model import REGEX, Watch

MAX_MATCHES = 10  # distinct values reported per watch and page
MAX_VALUE = 200  # characters of a matched value kept
MAX_PROGRAM = 8 << 20  # bytes of memory re2 may use per pattern


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the reason comes back in the exception; re2 would also print it on stderr
    options.max_mem = MAX_PROGRAM
    return options


def compile_pattern(pattern: str) -> Any:
    """The re2 program of *pattern*. Raises :class:`UsageError` with re2's reason, on one line."""
    if not pattern:
        raise UsageError("a regex watch needs a non-empty --pattern")
    try:
        return re2.compile(pattern, options=_options())
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UsageError(
            f"pattern {pattern!r} is refused by re2 ({' '.join(reason.split())}): re2 runs in linear time and has no "
            "back-references or look-around; rewrite it without them"
        ) from None


def regex_spec(pattern: str) -> dict[str, Any]:
    """The spec of a regex watch, once re2 accepts the pattern."""
    program = compile_pattern(pattern)
    if program.search(""):
        raise UsageError(f"pattern {pattern!r} matches the empty string, so it would fire on every page")
    return {"pattern": pattern}


class RegexMatcher:
    """The regex watches, each compiled once. :meth:`evaluate` returns watch id -> matches."""

    def __init__(self, watches: Iterable[Watch]) -> None:
        self.programs = [(watch.id, compile_pattern(str(watch.spec["pattern"]))) for watch in watches
                         if watch.kind == REGEX]

    def evaluate(self, page: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        if not self.programs:
            return {}
        text = page_text(page)
        found: dict[str, list[dict[str, Any]]] = {}
        for watch_id, program in self.programs:
            values: dict[str, dict[str, Any]] = {}
            for match in program.finditer(text):
                value = " ".join(match.group(0).split())[:MAX_VALUE]
                if not value or value in values:
                    continue
                values[value] = {"kind": REGEX, "value": value, "entity_kind": None,
                                 "context": context_around(text, match.start(), match.end()), "rule": None}
                if len(values) >= MAX_MATCHES:
                    break
            if values:
                found[watch_id] = list(values.values())
        return found
