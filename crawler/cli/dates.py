"""Dates typed on the command line ("since when"): one parser for every option that takes one. See the README
(``darkcrawl search``).

Offers :func:`parse_since` (``24h``, ``7d``, ``1h30m``, ``now-7d``, ``now``, ``today``, ``yesterday``, ISO 8601 dates
and date-times -> an aware UTC datetime) and :func:`iso_utc` (the form Elasticsearch is sent). Anything else is a
:class:`~crawler.errors.UsageError` naming the option (exit 2).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from crawler.errors import UsageError
from crawler.scheduling.timing import parse_duration

ACCEPTED = "24h, 7d, 1h30m, now-7d, today, yesterday, 2026-11-01 or 2026-11-01T08:00:00Z"
RELATIVE = re.compile(r"(?:now-)?((?:\d+[smhdw])+)")


def parse_since(text: str, option: str, now: datetime | None = None) -> datetime:
    """The moment *text* names, in UTC: a duration back from *now* (``24h``, ``7d``, ``now-7d``), ``now``, the start
    (00:00 UTC) of ``today`` or ``yesterday``, or an ISO 8601 date or date-time (without a zone: UTC).

    Raises :class:`UsageError` naming *option* (e.g. ``--since``) for anything else."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    value = text.strip().lower()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if value == "now":
        return now
    if value == "today":
        return midnight
    if value == "yesterday":
        return midnight - timedelta(days=1)
    relative = RELATIVE.fullmatch(value)
    if relative:
        return now - timedelta(seconds=parse_duration(relative.group(1), option))
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date: use {ACCEPTED}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """*moment* as ``2026-11-30T08:00:00Z`` (what the indices store and Elasticsearch compares with)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
