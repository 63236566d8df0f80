"""The ``darkcrawl`` command. Each subcommand lives in its own module here and registers itself with ``register()``.

A subcommand module defines ``register(subparsers)`` that adds its parser and sets ``handler`` to a function
``handler(args, settings) -> int`` (the exit code). A :class:`crawler.errors.DarkcrawlError` raised by a handler is
printed as one line, without a traceback, with secrets masked (:mod:`crawler.redact`, also applied to every log line)
and control characters removed. A reader that leaves early (``darkcrawl search x | head -3``) ends the command
quietly with exit code 141, as SIGPIPE would. What subcommands share (declaring themselves, ``--json`` answers, progress
on stderr, Elasticsearch errors as one line) is in :mod:`crawler.cli.common`.

Building the parser imports no heavy library (Scrapy, Twisted, Elasticsearch, stem, Playwright): each subcommand
imports what it needs when it runs, so that ``darkcrawl --help`` and ``darkcrawl extract`` start fast
(tests/unit/test_cli_startup.py; docs/performance.md, "Startup").
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from crawler import __version__
from crawler.errors import DarkcrawlError
from crawler.redact import MaskingFormatter, mask_text, secret_values
from crawler.terminal import printable

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from crawler.config import SettingValues

# Subcommand modules, in the order `darkcrawl --help` lists them.
COMMAND_MODULES = (
    "demo", "crawl", "worker", "search", "pivot", "profile", "entities", "clones", "history", "watchlist", "extract",
    "es", "kibana", "evidence", "lab", "schedule", "scheduler", "status", "alerts", "watch", "notify", "export",
)


class Parser(argparse.ArgumentParser):
    """argparse with darkcrawl's error form: one line, ``darkcrawl: error: ...``, exit 2 (argparse's own prints the
    usage first), control characters of what was typed removed. Subcommand parsers are of the same class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"darkcrawl: error: {printable(message)} (see {self.prog} --help)\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given the *argv* to parse, only the parser of the command it names is built (its
    module alone imported: the others' imports would only slow its start), else every command's (``--help``, a
    mistyped command)."""
    parser = Parser(
        prog="darkcrawl",
        description="Crawl onion and deep-web sites through Tor, extract signals, index them into Elasticsearch.",
    )
    parser.add_argument("--version", action="version", version=f"darkcrawl {__version__}")
    parser.add_argument("--config", metavar="FILE", help="TOML config file (default: $DARKCRAWL_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    command = _command_named(argv) if argv is not None else None
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [command] if command else COMMAND_MODULES:
        module = importlib.import_module(f"crawler.cli.{name}")
        module.register(subparsers)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The command *argv* runs (each is the module of the same name), past the top-level options ``-v`` and
    ``--config FILE``; None when there is none, or anything else comes first (``--help``, ``--version``, a mistyped
    name or option): then the whole parser reads *argv* and answers."""
    tokens = iter(argv)
    for token in tokens:
        if token in ("-v", "--verbose") or token.startswith("--config="):
            continue
        if token == "--config":
            next(tokens, None)
            continue
        return token if token in COMMAND_MODULES else None
    return None


# Libraries whose INFO lines are noise for an operator (Scrapy's start-up listing, stem's socket chatter, httpx's
# per-request lines); their warnings and errors still show. ``-v`` shows everything.
QUIET_LOGGERS = ("scrapy", "stem", "httpx", "httpcore", "elastic_transport", "twisted", "asyncio", "apprise")


class ConsoleFormatter(MaskingFormatter):
    """Log lines for the operator's terminal: secrets masked, and no control character a page put in a URL, a header
    or a title that a message quotes (newlines stay: tracebacks of -v)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), multiline=True)


def configure_logging(verbose: bool) -> MaskingFormatter:
    """One handler on stderr; Scrapy sets the root logger to NOTSET, so the handler's level is what filters. Returns
    its formatter, which masks secrets (its ``secrets`` are set once the settings are read)."""
    handler = logging.StreamHandler()
    handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    formatter = ConsoleFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not verbose:
        # a filter, not logger levels: stem and Scrapy set their own loggers' levels when they are imported
        handler.addFilter(quiet_filter)
    return formatter


def quiet_filter(record: logging.LogRecord) -> bool:
    if record.levelno >= logging.WARNING:
        return True
    return not any(record.name == name or record.name.startswith(name + ".") for name in QUIET_LOGGERS)


PIPE_CLOSED = 141  # the exit code of a process that SIGPIPE ended: 128 + 13


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run(argv)
        sys.stdout.flush()  # here, not at interpreter exit, so that a closed pipe is caught below
        return code
    except BrokenPipeError:
        # The reader is gone (`| head`): what it did not read is not wanted. Point stdout at /dev/null so the
        # interpreter's own flush at exit does not report the same error again.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is no file descriptor (a test's capture): nothing to flush at exit
            pass
        return PIPE_CLOSED


def _run(argv: Sequence[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    formatter = configure_logging(args.verbose)
    secrets: list[str] = []
    try:
        settings = _load_settings(args)
        secrets = secret_values(settings)
        formatter.secrets = tuple(secrets)
        return int(args.handler(args, settings) or 0)
    except DarkcrawlError as exc:
        print(f"darkcrawl: error: {printable(mask_text(str(exc), secrets))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("darkcrawl: interrupted", file=sys.stderr)
        return 130


def _load_settings(args: argparse.Namespace) -> Settings | SettingValues:
    """Scrapy's ``Settings``, or for a command declared without them (:func:`crawler.cli.common.add_command`) the
    same values without importing Scrapy."""
    from crawler.config import load_settings, load_values

    if getattr(args, "scrapy_settings", True):
        return load_settings(config_file=args.config)
    return load_values(config_file=args.config)


if __name__ == "__main__":
    sys.exit(main())
