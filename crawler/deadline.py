"""Bounding a blocking call by a total time: :func:`run_within`.

Some clients darkcrawl uses block with no timeout of their own on some steps (stem's synchronous controller waits for
a reply for ever; a health check chains several requests, each with its own timeout). A check promising "at most N
seconds" runs such a call here: in a daemon thread, waited for at most N seconds in total, then abandoned (after
*cancel*, which should make the call return, e.g. by closing its socket). A bottom module: imports nothing of darkcrawl.

Offers: :func:`run_within`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_within(timeout: float, work: Callable[[], T], what: str, cancel: Callable[[], None] | None = None) -> T:
    """Return ``work()``, or raise :class:`TimeoutError` naming *what* when it has not returned after *timeout*
    seconds (at once when *timeout* is not positive). *cancel* is called before raising; the abandoned thread is a
    daemon and never holds the process open. Exceptions of ``work()`` are raised here unchanged."""
    if timeout <= 0:
        raise TimeoutError(f"{what}: no time left to ask")
    outcome: dict[str, T] = {}
    failure: list[BaseException] = []
    finished = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)
        finally:
            finished.set()

    threading.Thread(target=run, name=f"darkcrawl-deadline: {what}", daemon=True).start()
    if not finished.wait(timeout):
        if cancel is not None:
            cancel()
        raise TimeoutError(f"{what}: no answer within {timeout:.1f} s")
    if failure:
        raise failure[0]
    return outcome["value"]
