"""What the ``darkcrawl`` subcommands share, written once: how a subcommand declares itself, how it talks to the
operator (progress on stderr, the answer on stdout as text or ``--json``), and how it asks Elasticsearch a question.

Text that came from a page (a title, a highlight, a URL) or a file may hold control characters: ESC or CSI (U+009B)
sequences that would move the cursor, rewrite the screen or set the window title of the analyst's terminal.
:func:`printable` removes them, and every answer printed for people goes through it; ``--json`` answers stay the
data they are, with those characters escaped (``\u009b``), never raw (:func:`json_text`).

Not a subcommand itself (it is not in ``COMMAND_MODULES``).

Offers: :func:`add_command`, :func:`add_json_option`, :func:`add_limit_option`, :func:`say`, :func:`printable`,
:func:`json_text`, :func:`print_answer`, :func:`es_session`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch
    from scrapy.settings import BaseSettings

Handler = Callable[[argparse.Namespace, Any], int]


def add_command(subparsers: Any, name: str, handler: Handler, *, help: str, description: str) -> Any:
    """Add subcommand *name*, run by ``handler(args, settings)``; return its parser for the arguments."""
    parser = subparsers.add_parser(name, help=help, description=description)
    parser.set_defaults(handler=handler)
    return parser


def add_json_option(parser: Any, help: str) -> None:
    """``--json``: the answer for tools instead of people (:func:`print_answer`)."""
    parser.add_argument("--json", action="store_true", help=help)


# C0 controls but tab and newline, DEL, C1 controls (U+009B is CSI), and the bidirectional overrides and isolates
# that make a terminal show text in another order than it is (U+202A-U+202E, U+2066-U+2069).
_BIDI = "\u202a-\u202e\u2066-\u2069"
_UNPRINTABLE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_UNPRINTABLE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
# the same, but for the bold and reset sequences darkcrawl itself wrote around search matches
_UNPRINTABLE_STYLED = re.compile(f"\x1b(?!\\[[01]m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f{_BIDI}]")
_RAW_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI}]")  # json.dumps escapes C0 itself
REPLACEMENT = "\ufffd"


def printable(text: str, multiline: bool = False, styled: bool = False) -> str:
    """*text* safe for a terminal: every control character replaced by U+FFFD (so the reader sees something was
    there). Tabs and newlines stay when *multiline*, else they become spaces. *styled* keeps the bold and reset
    sequences (``ESC[1m``, ``ESC[0m``) of text whose page-borne parts went through here already."""
    if styled:
        return _UNPRINTABLE_STYLED.sub(REPLACEMENT, text)
    if multiline:
        return _UNPRINTABLE.sub(REPLACEMENT, text)
    return _UNPRINTABLE_LINE.sub(lambda match: " " if match.group() in "\t\n" else REPLACEMENT, text)


def json_text(answer: Any, **json_options: Any) -> str:
    """*answer* as indented JSON in which no control character is raw (with ``ensure_ascii=False`` too): the same
    data, and nothing a terminal would obey when the JSON is printed."""
    text = json.dumps(answer, indent=2, **json_options)
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


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
    print(f"darkcrawl: {printable(message)}", file=sys.stderr, flush=True)


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
