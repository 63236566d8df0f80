"""What the ``darkcrawl`` subcommands share, written once: how a subcommand declares itself, how it talks to the
operator (progress on stderr, the answer on stdout as text or ``--json``), and how it asks Elasticsearch a question.

Not a subcommand itself (it is not in ``COMMAND_MODULES``).

Offers: :func:`add_command`, :func:`add_json_option`, :func:`add_limit_option`, :func:`say`, :func:`print_answer`,
:func:`es_session`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

Handler = Callable[[argparse.Namespace, Any], int]


def add_command(subparsers: Any, name: str, handler: Handler, *, help: str, description: str) -> Any:
    """Add subcommand *name*, run by ``handler(args, settings)``; return its parser for the arguments."""
    parser = subparsers.add_parser(name, help=help, description=description)
    parser.set_defaults(handler=handler)
    return parser


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


def say(message: str) -> None:
    """Progress and notes for the operator: stderr, so stdout holds only the answer."""
    print(f"darkcrawl: {message}", file=sys.stderr, flush=True)


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


def print_answer(as_json: bool, answer: Any, text: Callable[[], str | Iterable[str]], **json_options: Any) -> None:
    """Print *answer* as indented JSON (moments as ISO 8601: :func:`iso_dates`), or the lines ``text()`` makes of it
    for people (built only when needed)."""
    if as_json:
        print(json.dumps(iso_dates(answer), indent=2, **json_options))
        return
    lines = text()
    print(lines if isinstance(lines, str) else "\n".join(lines))


@contextmanager
def es_session(settings: Any, missing: str | None = None) -> Iterator[Elasticsearch]:
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
