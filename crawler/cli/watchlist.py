"""``darkcrawl watchlist categories``: the watch-list categories pages are tagged with, i.e. what ``search
--category`` takes, with how many terms each has per language. The watch-list format is in docs/signals.md.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_json_option, print_answer

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "watchlist",
        run,
        help="the watch lists in use: their categories (what search --category takes)",
        description="Read the watch lists in use (DARKCRAWL_WATCHLISTS, else the shipped list) and list their "
        "categories with their terms per language.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    categories = actions.add_parser("categories", help="list the categories and their term counts per language")
    categories.add_argument("--watchlist", action="append", metavar="FILE",
                            help="read this watch-list file instead (repeatable)")
    add_json_option(categories, "print the categories as JSON for tools")


def categories(watchlist: Any) -> list[dict[str, Any]]:
    """One entry per category of *watchlist* (a compiled :class:`pipelines.extract.keywords.Watchlist`): its name,
    its number of terms, and that number per language (``any`` for terms of every language)."""
    by_category: dict[str, Counter[str]] = {}
    for term in watchlist.terms:
        by_category.setdefault(term.category, Counter())[term.language] += 1
    return [
        {"category": name, "terms": sum(languages.values()), "languages": dict(sorted(languages.items()))}
        for name, languages in sorted(by_category.items())
    ]


def run(args: argparse.Namespace, settings: BaseSettings) -> int:
    from pipelines.extract.keywords import load_watchlists

    watchlist = load_watchlists(args.watchlist or settings.getlist("DARKCRAWL_WATCHLISTS"))
    found = categories(watchlist)

    def text() -> list[str]:
        return [f"{entry['category']:<24} {entry['terms']:>4} terms  "
                + " ".join(f"{language} {count}" for language, count in entry["languages"].items())
                for entry in found] or ["the watch lists in use have no category"]

    print_answer(args.json, {"categories": found}, text)
    return 0
