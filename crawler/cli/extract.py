"""``darkcrawl extract``: extract the signals of one saved page (file or stdin), without Tor or Elasticsearch.

``darkcrawl extract [FILE|-] [--url URL] [--json] [--watchlist FILE ...] [--vendor-rules FILE ...]`` prints a
human-readable summary, or with ``--json`` the JSON object documented in docs/signals.md. Watch lists and vendor
rules default to ``DARKCRAWL_WATCHLISTS`` / ``DARKCRAWL_VENDOR_RULES``, else the shipped files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_json_option, print_answer, say
from crawler.errors import UsageError
from crawler.terminal import printable

if TYPE_CHECKING:
    from crawler.config import SettingValues

MAX_INPUT_BYTES = 50 * 1024 * 1024  # a saved page larger than this is not a page


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "extract",
        run,
        help="extract signals (addresses, onions, PGP keys, contacts, vendors, keywords) from a saved page",
        description="Extract signals from one saved page (HTML or text). Reads FILE, or stdin when FILE is - or "
        "absent. Prints a summary, or the JSON object of docs/signals.md with --json.",
        scrapy_settings=False,  # no crawl here: Scrapy is not imported, for a fast start
    )
    parser.add_argument("file", nargs="?", default="-", metavar="FILE", help="saved page; - or absent: stdin")
    parser.add_argument("--url", metavar="URL", help="the page's URL: resolves relative links, selects site rules")
    parser.add_argument("--content-type", metavar="TYPE", help="e.g. 'text/html; charset=iso-8859-1' (default: sniff)")
    add_json_option(parser, "print the signals as JSON")
    parser.add_argument("--watchlist", action="append", default=[], metavar="FILE", help="watch-list YAML (repeatable)")
    parser.add_argument(
        "--vendor-rules", action="append", default=[], metavar="FILE", help="vendor-rules YAML (repeatable)"
    )


def read_input(name: str) -> bytes:
    """Return the bytes of file *name* (``-``: stdin). Raises :class:`UsageError` when it cannot be read."""
    if name == "-":
        if sys.stdin.isatty():
            raise UsageError("no input: give a FILE, or pipe a page into stdin (darkcrawl extract - < page.html)")
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    else:
        path = Path(name)
        try:
            if path.is_dir():
                raise UsageError(f"{name} is a directory: give one saved page (a file)")
            with path.open("rb") as handle:
                data = handle.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            raise UsageError(f"cannot read {name}: {exc.strerror or exc}; check the path and permissions") from None
    if len(data) > MAX_INPUT_BYTES:
        raise UsageError(f"{name} is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB: not a single page")
    return data


def _line(label: str, values: list[str]) -> str:
    return f"{label:<12} " + (printable(", ".join(values)) if values else "-")  # one line, whatever the page held


def summary_lines(signals: dict[str, Any]) -> list[str]:
    """The human-readable summary of a signals object (one line per kind)."""
    language = signals["language"]
    lines = [
        _line("title", [signals["title"]] if signals["title"] else []),
        _line("language", [f"{language['code']} ({language['probability']:.2f})"]),
        _line(
            "text",
            [
                f"{signals['text_length']} characters, sha256 {signals['content_sha256'][:16]}…, "
                f"simhash {signals['simhash']}"
            ],
        ),
        _line("crypto", [f"{a['currency']} {a['address']}" for a in signals["crypto_addresses"]]),
        _line("onions", signals["onions"]),
        _line(
            "pgp keys",
            [
                f"{k['fingerprint']} ({k['algorithm']}{' ' + str(k['bits']) if k['bits'] else ''}"
                f"{'; ' + ', '.join(k['uids']) if k['uids'] else ''})"
                for k in signals["pgp_keys"]
            ],
        ),
        _line("emails", signals["emails"]),
        _line("handles", [f"{h['network']}:{h['handle']}" for h in signals["handles"]]),
        _line("vendors", [f"{v['name']} [{v['source']}]" for v in signals["vendors"]]),
        _line("keywords", [f"{k['term']} ({k['category']}) x{k['count']}" for k in signals["keywords"]]),
        _line("links", [f"{len(signals['links']['onion'])} onion, {len(signals['links']['clearnet'])} clearnet"]),
    ]
    if signals.get("capped"):  # only for a page that reached a cap: most never do
        lines.append(_line("capped", [f"{kind} +{count}" for kind, count in signals["capped"].items()]))
    return lines


def run(args: argparse.Namespace, settings: SettingValues) -> int:
    from pipelines.extract.pool import ConfigSpec, ExtractionPool

    spec = ConfigSpec(
        watchlists=tuple(args.watchlist or settings.getlist("DARKCRAWL_WATCHLISTS")),
        vendor_rules=tuple(args.vendor_rules or settings.getlist("DARKCRAWL_VENDOR_RULES")),
        language_sample=settings.getint("DARKCRAWL_LANGUAGE_SAMPLE"),
        max_per_kind=settings.getint("DARKCRAWL_EXTRACT_MAX_PER_KIND"),
    )
    data = read_input(args.file)
    # one worker process, so that a hostile page is stopped at DARKCRAWL_EXTRACT_TIMEOUT as in a crawl; forked from
    # this one, which compiles the configuration once (a fresh interpreter would import and compile all again)
    timeout = settings.getfloat("DARKCRAWL_EXTRACT_TIMEOUT")
    with ExtractionPool(spec, workers=1, timeout=timeout, fork=True) as pool:
        outcome = pool.extract_blocking(data, args.url, args.content_type)
    if outcome.status != "ok":
        reason = "took longer than DARKCRAWL_EXTRACT_TIMEOUT" if outcome.status == "timeout" else outcome.error
        say(f"warning: extraction of {args.file} stopped ({reason}): only the title, text and links are reported")
    signals = outcome.signals.to_dict()
    # a reader that leaves early (`| head`) is handled once for every command, in crawler/cli/__init__.py
    print_answer(args.json, signals, lambda: summary_lines(signals), ensure_ascii=False)
    return 0
