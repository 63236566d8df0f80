"""Per-page caps on each signal kind: a page naming 150,000 addresses must not become a 150,000-value document.
Contract in docs/signals.md ("Caps"); the limit is ``DARKCRAWL_EXTRACT_MAX_PER_KIND``.

Offers :data:`DEFAULT_MAX_PER_KIND`, :class:`Capped` (a finder's values up to the cap, with ``beyond``: how many
more distinct values it found) and :class:`Distinct` (the bookkeeping a finder uses: past the cap a value is only
counted by its key, so the cost of building its object, context included, stops at the cap).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

DEFAULT_MAX_PER_KIND = 1000

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


class Capped(list[T]):
    """A list of at most the cap's number of values; ``beyond`` counts the distinct values found past the cap."""

    beyond: int = 0

    @classmethod
    def of(cls, values: Iterable[T], limit: int | None) -> Capped[T]:
        """The first *limit* of *values* (all when *limit* is ``None``), the others counted in ``beyond``."""
        capped: Capped[T] = cls()
        for value in values:
            if limit is None or len(capped) < limit:
                capped.append(value)
            else:
                capped.beyond += 1
        return capped


class Distinct(Generic[K, T]):
    """Values kept by key in order of first sight, up to *limit*; keys past it are only remembered, to be counted."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.values: dict[K, T] = {}
        self.extra: set[K] = set()

    def __contains__(self, key: K) -> bool:
        return key in self.values or key in self.extra

    def add(self, key: K, make: Callable[[], T]) -> None:
        """Keep ``make()`` under *key* unless the key was seen or the cap is reached (then only count the key)."""
        if key in self.values:
            return
        if self.limit is None or len(self.values) < self.limit:
            self.values[key] = make()
        else:
            self.extra.add(key)

    def put(self, key: K, value: T) -> None:
        """:meth:`add` for a value that is already built."""
        self.add(key, lambda: value)

    def result(self) -> Capped[T]:
        capped = Capped(self.values.values())
        capped.beyond = len(self.extra)
        return capped
