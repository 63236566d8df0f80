"""How long to wait before trying again after failures: the one retry backoff of darkcrawl (Elasticsearch bulk
writes, crawl records, alerts, notification delivery).

A bottom module: it imports nothing of the project. Offers :func:`backoff_delay`.
"""

from __future__ import annotations

from collections.abc import Callable


def backoff_delay(
    failures: int, base: float = 1.0, cap: float = 30.0, rng: Callable[[], float] | None = None
) -> float:
    """Seconds before the next try after *failures* consecutive failures: *base* doubled per failure after the first
    (1, 2, 4 ... with the defaults), at most *cap*. With *rng* (a source of numbers in [0, 1), such as
    :func:`random.random`), jittered to 50-100% of that, so that many clients failing together do not retry
    together."""
    doublings = min(max(failures - 1, 0), 64)  # past 64 any cap is reached; 2**1024 would not fit a float
    delay = min(cap, base * 2**doublings)
    if rng is not None:
        delay *= 0.5 + rng() / 2
    return delay
