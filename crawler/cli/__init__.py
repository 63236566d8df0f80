"""The ``darkcrawl`` command. Each subcommand lives in its own module here and registers itself with ``register()``.

A subcommand module defines ``register(subparsers)`` that adds its parser and sets ``handler`` to a function
``handler(args, settings) -> int`` (the exit code). A :class:`crawler.errors.DarkcrawlError` raised by a handler is
printed as one line, without a traceback. What subcommands share (declaring themselves, ``--json`` answers, progress
on stderr, Elasticsearch errors as one line) is in :mod:`crawler.cli.common`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from crawler import __version__
from crawler.config import load_settings
from crawler.errors import DarkcrawlError

# Subcommand modules, in the order `darkcrawl --help` lists them.
COMMAND_MODULES = (
    "demo", "crawl", "worker", "search", "pivot", "extract", "es", "kibana", "evidence", "lab", "schedule", "scheduler",
    "status", "alerts", "watch", "notify", "export",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="darkcrawl",
        description="Crawl onion and deep-web sites through Tor, extract signals, index them into Elasticsearch.",
    )
    parser.add_argument("--version", action="version", version=f"darkcrawl {__version__}")
    parser.add_argument("--config", metavar="FILE", help="TOML config file (default: $DARKCRAWL_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"crawler.cli.{name}")
        module.register(subparsers)
    return parser


# Libraries whose INFO lines are noise for an operator (Scrapy's start-up listing, stem's socket chatter, httpx's
# per-request lines); their warnings and errors still show. ``-v`` shows everything.
QUIET_LOGGERS = ("scrapy", "stem", "httpx", "httpcore", "elastic_transport", "twisted", "asyncio", "apprise")


def configure_logging(verbose: bool) -> None:
    """One handler on stderr; Scrapy sets the root logger to NOTSET, so the handler's level is what filters."""
    handler = logging.StreamHandler()
    handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not verbose:
        # a filter, not logger levels: stem and Scrapy set their own loggers' levels when they are imported
        handler.addFilter(quiet_filter)


def quiet_filter(record: logging.LogRecord) -> bool:
    if record.levelno >= logging.WARNING:
        return True
    return not any(record.name == name or record.name.startswith(name + ".") for name in QUIET_LOGGERS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    configure_logging(args.verbose)
    try:
        settings = load_settings(config_file=args.config)
        return int(args.handler(args, settings) or 0)
    except DarkcrawlError as exc:
        print(f"darkcrawl: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("darkcrawl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
