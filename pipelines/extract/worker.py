"""An extraction worker process, started by :mod:`pipelines.extract.pool` (``main([name, FD])``).

Over the socket *FD* it receives ``(ConfigSpec, "module:function")`` first, compiles the configuration and answers
``("ready", pid)`` (or ``("error", message)`` for a bad watch-list or rule file); then for each page ``(body, url,
content_type)`` (the body may be the crawl's parse of the page, a ``ParsedDocument``, read without parsing again) it
answers ``("parsed", Signals)`` as soon as the title, text and links are known (without the text when the body is
the crawl's parse, which holds it already), then ``("done", Signals, seconds)`` without the text and links already
sent (or ``("failed", message, seconds)``). ``None`` or the socket's end stops it.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from crawler.errors import UsageError

if TYPE_CHECKING:
    from pipelines.extract.signals import Signals

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Be killed when the thread that started this process ends (Linux); elsewhere the socket's end stops an idle
    worker."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def resolve(name: str) -> Callable[..., Any]:
    """The function *name* (``module:function``) designates."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def serve(conn: Connection) -> None:
    """Compile the configuration, then extract each page received until told to stop."""
    spec, extractor = conn.recv()
    try:
        config = spec.build()
    except UsageError as exc:
        conn.send(("error", str(exc)))
        return
    extract = resolve(extractor)
    conn.send(("ready", os.getpid()))
    serve_pages(conn, config, extract)


def serve_pages(conn: Connection, config: Any, extract: Callable[..., Any]) -> None:
    """Extract each page received with the compiled *config* until told to stop (also the body of a worker forked
    with its configuration compiled already: :class:`pipelines.extract.pool.ExtractionPool` with ``fork``)."""
    from pipelines.extract.text import ParsedDocument

    parsed: list[Any] = []  # whether this page's parse was sent
    sender_has_text = False  # the body is the crawl's own parse: the text is not sent back

    def on_parsed(signals: Signals) -> None:
        parsed.append(signals)
        conn.send(("parsed", replace(signals, text="") if sender_has_text else signals))

    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the crawl is gone
            return
        if task is None:
            return
        body, url, content_type = task
        parsed.clear()
        sender_has_text = isinstance(body, ParsedDocument)
        started = time.perf_counter()
        try:
            signals = extract(body, url, content_type=content_type, config=config, on_parsed=on_parsed)
        except Exception as exc:  # extract_signals never raises on content; a test stand-in or a bug might
            conn.send(("failed", f"{type(exc).__name__}: {exc}", time.perf_counter() - started))
            continue
        if parsed:  # the text and links crossed the socket already: not twice
            signals.text, signals.links = "", {}
        conn.send(("done", signals, time.perf_counter() - started))


def main(argv: list[str]) -> int:
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the crawl decides
    conn = Connection(int(argv[1]))
    try:
        serve(conn)
    except (EOFError, OSError, KeyboardInterrupt):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
