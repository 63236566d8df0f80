"""What the ``darkcrawl`` subcommands share, written once: how a subcommand declares itself, how it talks to the
operator (progress on stderr, the answer on stdout as text or ``--json``), and how it asks Elasticsearch a question.

Every answer printed for people goes through :func:`crawler.terminal.printable` (no control character a page put in
a title or URL reaches the terminal); ``--json`` answers stay the data they are, escaped (:func:`json_text`).

Not a subcommand itself (it is not in ``COMMAND_MODULES``). Light to import: the parser of every subcommand is built
from here without Scrapy or Elasticsearch, which the handlers import when they run.

Offers: :func:`add_command`, :func:`add_command_group`, :func:`add_json_option`, :func:`add_limit_option`,
:func:`say`, :func:`sayer`, :func:`print_answer`, :func:`es_session` (and :func:`printable`, :func:`json_text` from
:mod:`crawler.terminal`).
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from crawler.terminal import json_text, printable

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch
    from scrapy.settings import BaseSettings

Handler = Callable[[argparse.Namespace, Any], int]


def add_command(subparsers: Any, name: str, handler: Handler, *, help: str, description: str | None = None,
                scrapy_settings: bool = True) -> Any:
    """Add subcommand *name*, run by ``handler(args, settings)``; return its parser for the arguments.

    *settings* is Scrapy's ``Settings`` (:func:`crawler.config.load_settings`), or, when not *scrapy_settings*, the
    same values without Scrapy imported (:class:`crawler.config.SettingValues`, read-only), for a command that never
    starts a crawl and should start fast (``extract``)."""
    parser = subparsers.add_parser(name, help=help, description=description)
    parser.set_defaults(handler=handler, scrapy_settings=scrapy_settings)
    return parser


def add_command_group(subparsers: Any, name: str, *, help: str, description: str, metavar: str = "ACTION",
                      dest: str | None = None) -> Any:
    """Add subcommand *name* made of actions (``darkcrawl NAME ACTION``), one of which must be given; return the
    actions' subparsers, to add each with :func:`add_command`. The action chosen is ``args.<name>_action``."""
    parser = subparsers.add_parser(name, help=help, description=description)
    return parser.add_subparsers(dest=dest or f"{name}_action", metavar=metavar, required=True)


def add_json_option(parser: Any, help: str) -> None:
    """``--json``: the answer for tools instead of people (:func:`print_answer`)."""
    parser.add_argument("--json", action="store_true", help=help)


MAX_RESULTS = 10_000  # Elasticsearch's default index.max_result_window: more cannot be read in one search


def add_limit_option(parser: Any, *, default: int, what: str) -> None:
    """``-n/--limit N``: how many results a listing shows, 0 to :data:`MAX_RESULTS` (else exit 2 naming it)."""

    def limit(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not 0 <= value <= MAX_RESULTS:
            raise argparse.ArgumentTypeError(f"{value}: give 0 to {MAX_RESULTS}")
        return value

    parser.add_argument("-n", "--limit", type=limit, default=default, metavar="N",
                        help=f"{what} at most (default {default}, at most {MAX_RESULTS})")


def say(message: str, *, prefix: str = "darkcrawl", stdout: bool = False) -> None:
    """Progress and notes for the operator, one line after *prefix*: on stderr, so stdout holds only the answer
    (*stdout*: for the commands whose whole output is progress, ``darkcrawl es``)."""
    line = f"{prefix}: {printable(message)}" if prefix else printable(message)
    print(line, file=sys.stdout if stdout else sys.stderr, flush=True)


def sayer(prefix: str = "darkcrawl", *, stdout: bool = False) -> Callable[[str], None]:
    """:func:`say` with its own *prefix* (``lab``, ``darkcrawl scheduler``), for the services a command runs."""
    return functools.partial(say, prefix=prefix, stdout=stdout)


# Keys whose numbers are moments (seconds since the epoch, as the stores keep them): --json gives them as ISO 8601.
MOMENT_KEYS = ("deadline", "heartbeat")


def iso_dates(value: Any) -> Any:
    """*value* with every moment given as ISO 8601 UTC (``2026-12-06T18:00:00.000Z``): numbers under a key ending in
    ``_at`` or named in :data:`MOMENT_KEYS`, in dicts and lists at any depth. Durations (``*_seconds``) stay numbers."""
    from crawler.items import iso_timestamp

    if isinstance(value, dict):
        return {key: iso_timestamp(item) if _is_moment(key, item) else iso_dates(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [iso_dates(item) for item in value]
    return value


def _is_moment(key: Any, item: Any) -> bool:
    number = isinstance(item, int | float) and not isinstance(item, bool)
    return number and isinstance(key, str) and (key.endswith("_at") or key in MOMENT_KEYS)


def print_answer(as_json: bool, answer: Any, text: Callable[[], str | Iterable[str]], styled: bool = False,
                 **json_options: Any) -> None:
    """Print *answer* as indented JSON (moments as ISO 8601: :func:`iso_dates`; no raw control character:
    :func:`json_text`), or the lines ``text()`` makes of it for people (built only when needed, passed through
    :func:`printable`; *styled*: with its bold and reset sequences)."""
    if as_json:
        print(json_text(iso_dates(answer), **json_options))
        return
    lines = text()
    print(printable(lines if isinstance(lines, str) else "\n".join(lines), multiline=True, styled=styled))


@contextmanager
def es_session(settings: BaseSettings, missing: str | None = None) -> Iterator[Elasticsearch]:
    """A blocking client for the configured cluster, closed afterwards. Raises :class:`ServiceError` (one line,
    saying what to check) for what the client raises in the block; a missing index says *missing* when given."""
    from elasticsearch import ApiError, NotFoundError, TransportError

    from crawler.errors import ServiceError
    from crawler.es.client import client_url, es_sync_client, service_error

    client = es_sync_client(settings)
    try:
        yield client
    except NotFoundError as exc:
        raise (ServiceError(missing) if missing else service_error(exc, client_url(client))) from None
    except (ApiError, TransportError) as exc:
        raise service_error(exc, client_url(client)) from None
    finally:
        client.close()
