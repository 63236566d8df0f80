"""When a schedule runs: a cron expression (croniter) or a fixed period, and durations such as ``6h`` or ``90s``.

Offers: :func:`parse_duration`, :func:`format_duration`, :class:`Timing` (``from_options``, ``next_after``,
``describe``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from crawler.errors import UsageError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str, what: str = "duration") -> float:
    """Seconds in *text*: ``90s``, ``15m``, ``6h``, ``2d``, ``1w``, or combinations such as ``1h30m``. A bare number
    is refused (``--every 6``: six seconds or six hours?). Raises :class:`UsageError` naming *what* for anything else,
    zero or negative."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        raise UsageError(f"{what} {text!r} needs a unit: s, m, h, d or w (e.g. {value}s, {value}m, {value}h)")
    parts = DURATION_PART.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        raise UsageError(
            f"{what} {text!r} is not a duration: use a number and a unit (s, m, h, d, w), e.g. 90s, 6h, 1h30m"
        )
    seconds = sum(float(number) * UNITS[unit] for number, unit in parts)
    if seconds <= 0:
        raise UsageError(f"{what} {text!r} must be longer than zero")
    return seconds


def format_duration(seconds: float) -> str:
    """A short human form of *seconds* (``6h``, ``1h30m``, ``45s``)."""
    remaining = round(seconds)
    if remaining <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if remaining >= size:
            parts.append(f"{remaining // size}{unit}")
            remaining %= size
    return "".join(parts)


def to_datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


@dataclass(frozen=True)
class Timing:
    """A schedule's rhythm: exactly one of ``cron`` (a 5-field expression, UTC) and ``every`` (seconds)."""

    cron: str | None = None
    every: float | None = None

    @classmethod
    def from_options(cls, cron: str | None, every: str | None) -> Timing:
        """Build from ``--cron``/``--every``; raises :class:`UsageError` when neither, both, or an invalid one."""
        if bool(cron) == bool(every):
            raise UsageError("give exactly one of --cron EXPR (e.g. '0 */6 * * *') and --every DURATION (e.g. 6h)")
        if cron:
            expression = " ".join(cron.split())
            if len(expression.split()) != 5:
                raise UsageError(
                    f"cron expression {cron!r} must have 5 fields (minute hour day-of-month month day-of-week), "
                    "e.g. '0 */6 * * *'"
                )
            from croniter import CroniterBadCronError, CroniterBadDateError, CroniterNotAlphaError, croniter

            try:
                croniter(expression, to_datetime(0)).get_next(float)
            except (CroniterBadCronError, CroniterBadDateError, CroniterNotAlphaError, ValueError, KeyError) as exc:
                raise UsageError(f"invalid cron expression {cron!r}: {exc}; e.g. '0 */6 * * *'") from None
            return cls(cron=expression)
        assert every is not None
        return cls(every=parse_duration(every, "--every"))

    def next_after(self, timestamp: float) -> float:
        """The first run time strictly after *timestamp* (unix seconds; cron in UTC)."""
        if self.cron:
            from croniter import croniter  # when a cron schedule is read: `darkcrawl search --since` needs no croniter

            return float(croniter(self.cron, to_datetime(timestamp)).get_next(float))
        assert self.every
        return timestamp + self.every

    def describe(self) -> str:
        return f"cron '{self.cron}' (UTC)" if self.cron else f"every {format_duration(self.every or 0)}"
