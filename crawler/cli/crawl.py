"""``darkcrawl crawl``: crawl seeds through Tor and index every page into Elasticsearch."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_json_option, es_session, print_answer, say
from crawler.errors import ServiceError, UsageError

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings, Settings

    from crawler.crawl import CrawlResult
    from crawler.seeds import Seed, SeedList

logger = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "crawl",
        run,
        help="crawl seed URLs through Tor and index the pages",
        description="Crawl onion (and, if allowed, clearnet) seeds through Tor only; extract signals; index pages.",
    )
    parser.add_argument(
        "seeds_file", nargs="?", metavar="SEEDS",
        help="seeds file: one URL a line, # comments; - = stdin; or one URL (darkcrawl crawl http://xyz.onion/)",
    )
    parser.add_argument("--url", action="append", default=[], metavar="URL", help="a seed URL (repeatable)")
    parser.add_argument(
        "--from-index", action="store_true", help="recrawl every site already in the index (from its home page)"
    )
    add_crawl_options(parser, distributed=False)
    add_json_option(parser, "print the summary as JSON")


def add_crawl_options(parser: Any, distributed: bool) -> None:
    """The options ``crawl`` and ``worker`` share (read by :func:`overrides_from_args`); with *distributed* (the
    worker), budgets are said to count for all workers together and there is no ``--jobdir`` (Redis keeps the state)."""
    together = ", all workers together" if distributed else ""
    parser.add_argument(
        "--depth", type=int, metavar="N", help="link depth from the seeds (DEPTH_LIMIT, default 5; 0: the seeds only)"
    )
    parser.add_argument(
        "--max-pages", type=int, metavar="N", help=f"pages in all{together} (DARKCRAWL_MAX_PAGES; 0: no limit)"
    )
    parser.add_argument("--max-pages-per-site", type=int, metavar="N", help=f"pages per site{together} (default 1000)")
    parser.add_argument("--follow-onions", action="store_true", help="follow links onto onions not among the seeds")
    parser.add_argument("--allow-clearnet", action="store_true", help="allow clearnet URLs (still through Tor)")
    parser.add_argument(
        "--concurrency", type=int, metavar="N",
        help="simultaneous requests" + (" of this worker" if distributed else "") + " (CONCURRENT_REQUESTS)",
    )
    if distributed:
        parser.set_defaults(jobdir=None)
    else:
        parser.add_argument("--jobdir", metavar="DIR", help="persist the crawl state here; rerun with it to resume")
    parser.add_argument("--tor-socks", metavar="HOST:PORT[,...]", help="use this running tor (DARKCRAWL_TOR_SOCKS)")
    parser.add_argument("--tor-control", metavar="HOST:PORT[,...]", help="its control port (DARKCRAWL_TOR_CONTROL)")
    parser.add_argument("--no-index", action="store_true", help="do not index into Elasticsearch")
    parser.add_argument(
        "--render", action="store_true",
        help="render pages that need JavaScript in Chromium through Tor (DARKCRAWL_RENDER; docs/rendering.md)",
    )
    parser.add_argument(
        "--render-site", action="append", default=[], metavar="HOST",
        help="always render this site's pages (DARKCRAWL_RENDER_SITES; repeatable; implies --render)",
    )
    parser.add_argument(
        "--screenshots", action="store_true", help="keep a full-page screenshot of each rendered page"
    )
    parser.add_argument(
        "--warc", action="store_true",
        help="keep every response as WARC evidence for this crawl (DARKCRAWL_WARC_ENABLED; docs/evidence.md)",
    )


def known_site_urls(settings: BaseSettings) -> list[str]:
    """The home page of every site the pages index knows (one terms aggregation over ``site``)."""
    from crawler.es.schema import index_names

    alias = index_names(settings).pages
    with es_session(settings) as client:
        response = client.search(index=alias, size=0, aggs={"sites": {"terms": {"field": "site", "size": 100_000}}})
    return [f"http://{bucket['key']}/" for bucket in response["aggregations"]["sites"]["buckets"]]


def names_a_url(argument: str) -> bool:
    """Whether the SEEDS argument is a URL or an onion typed as it is (``http://xyz.onion/``, ``xyz.onion``) rather
    than a seeds file: a newcomer's first crawl is one URL."""
    return "://" in argument or argument.split("/", 1)[0].lower().endswith(".onion")


def load_seeds(args: argparse.Namespace, allow_clearnet: bool, settings_for_index: Any = None) -> SeedList:
    from crawler.seeds import SeedList, parse_seeds, read_seed_file

    seeds = SeedList()
    urls = list(args.url)
    if args.seeds_file == "-":
        seeds = parse_seeds(sys.stdin.read().splitlines(), allow_clearnet)
    elif args.seeds_file and names_a_url(args.seeds_file) and not Path(args.seeds_file).is_file():
        urls.insert(0, args.seeds_file)
    elif args.seeds_file:
        seeds = read_seed_file(args.seeds_file, allow_clearnet)
    if getattr(args, "from_index", False):
        urls += known_site_urls(settings_for_index)
    if urls:
        extra = parse_seeds(urls, allow_clearnet, first_line=0)
        known = {seed.url for seed in seeds.seeds}
        seeds.seeds.extend(seed for seed in extra.seeds if seed.url not in known)
        seeds.problems.extend(extra.problems)
    return seeds


# Numeric options and the smallest value each accepts (CONCURRENT_REQUESTS 0 would wait forever, a negative budget
# would mean nothing).
OPTION_MINIMUM = {"depth": 0, "max_pages": 0, "max_pages_per_site": 0, "concurrency": 1}


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the command line sets. Raises :class:`UsageError` for a numeric option below its minimum."""
    for name, minimum in OPTION_MINIMUM.items():
        value = getattr(args, name, None)
        if value is not None and value < minimum:
            raise UsageError(f"--{name.replace('_', '-')} must be at least {minimum}, got {value}")
    values: dict[str, Any] = {}
    if args.depth == 0:  # Scrapy's DEPTH_LIMIT 0 means "no limit": depth 0 is said with its own setting
        values["DARKCRAWL_FOLLOW_LINKS"] = False
    elif args.depth is not None:
        values["DEPTH_LIMIT"] = args.depth
    if args.max_pages is not None:
        values["DARKCRAWL_MAX_PAGES"] = args.max_pages
    if args.max_pages_per_site is not None:
        values["DARKCRAWL_MAX_PAGES_PER_SITE"] = args.max_pages_per_site
    if args.follow_onions:
        values["DARKCRAWL_FOLLOW_NEW_ONIONS"] = True
    if args.allow_clearnet:
        values["DARKCRAWL_ALLOW_CLEARNET"] = True
    if args.concurrency is not None:
        values["CONCURRENT_REQUESTS"] = args.concurrency
    if args.jobdir:
        values["JOBDIR"] = args.jobdir
    if args.tor_socks:
        values["DARKCRAWL_TOR_SOCKS"] = args.tor_socks
    if args.tor_control:
        values["DARKCRAWL_TOR_CONTROL"] = args.tor_control
    if args.no_index:
        values["DARKCRAWL_ES_ENABLED"] = False
    if args.render or args.render_site:
        values["DARKCRAWL_RENDER"] = True
    if args.render_site:
        values["DARKCRAWL_RENDER_SITES"] = list(args.render_site)
    if args.screenshots:
        values["DARKCRAWL_RENDER_SCREENSHOTS"] = True
    if args.warc:
        values["DARKCRAWL_WARC_ENABLED"] = True
    return values


def summary_lines(result: CrawlResult) -> list[str]:
    lines = [
        f"crawl {result.crawl_id} finished ({result.finish_reason}) in {result.elapsed:.0f}s: "
        f"{result.pages} pages fetched, {result.indexed} indexed",
    ]
    if result.errors:
        lines.append("errors: " + ", ".join(f"{name} {count}" for name, count in sorted(result.errors.items())))
    if result.refused:
        lines.append("refused: " + ", ".join(f"{name} {count}" for name, count in sorted(result.refused.items())))
    if result.hostile:
        lines.append("hostile: " + ", ".join(f"{name} {count}" for name, count in sorted(result.hostile.items())))
    if result.extraction:
        stopped = ", ".join(f"{name} {count}" for name, count in sorted(result.extraction.items()))
        lines.append(f"extraction stopped: {stopped} (indexed without signals; see extraction.status)")
    if result.flagged:
        lines.append(f"{result.flagged} pages flagged for review by the content policy (their sites were stopped)")
    failed = result.stats.get("darkcrawl/index/failed", 0)
    if failed:
        lines.append(f"{failed} documents rejected by Elasticsearch: see the dead-letter file in the data directory")
    return lines


def print_summary(result: CrawlResult, skipped_seeds: Iterable[object], as_json: bool) -> None:
    """The end of ``crawl`` and ``worker``: :meth:`CrawlResult.as_summary` as JSON, or its lines for people."""
    print_answer(as_json, result.as_summary(skipped_seeds), lambda: summary_lines(result))


def ensure_index(settings: BaseSettings, verbose: bool = False) -> None:
    """Check Elasticsearch answers and the index templates are installed, before any page is fetched. What it did
    is said with ``-v`` only (``es init`` is where templates are talked about), except what the operator must act on:
    an alias moved to a new index, the old one kept to be deleted."""
    from crawler.es.schema import ensure_indices

    report = ensure_indices(settings, say if verbose else logger.debug)
    if not verbose:
        for action in report.actions:
            if action.startswith("alias "):
                say(action)


def run_crawl(settings: Settings, seeds: list[Seed], say: Callable[[str], None]) -> CrawlResult:
    """:func:`crawler.crawl.run_crawl`, imported when a crawl starts: it brings Scrapy and Twisted."""
    from crawler.crawl import run_crawl as crawl

    return crawl(settings, seeds, say)


def tor_unavailable(result: CrawlResult) -> bool:
    """Whether the crawl stopped because no tor instance was usable (nothing is fetched without Tor)."""
    from crawler.tor.health import CLOSE_REASON

    return result.finish_reason == CLOSE_REASON


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings.update(overrides_from_args(args), priority="cmdline")
    seeds = load_seeds(args, settings.getbool("DARKCRAWL_ALLOW_CLEARNET"), settings)
    for problem in seeds.problems:
        say(f"skipped seed, {problem}")
    if not seeds.seeds:
        raise UsageError(
            "no valid seed to crawl: give a seeds file, --url, or --from-index (one URL a line, # for comments)"
        )
    if any(seed.render for seed in seeds.seeds) and not settings.getbool("DARKCRAWL_RENDER"):
        say("some seeds ask for render=1 but rendering is off: they are fetched plainly (use --render)")
    if settings.getbool("DARKCRAWL_ES_ENABLED"):
        ensure_index(settings, args.verbose)
    if settings.get("DARKCRAWL_REDIS_URL") and settings.getfloat("DARKCRAWL_WORKER_IDLE_EXIT") <= 0:
        # a crawl ends: as a worker of the shared frontier, it stops once the frontier has been empty for a while
        settings.set("DARKCRAWL_WORKER_IDLE_EXIT", 10.0, priority="cmdline")
    result = run_crawl(settings, seeds.seeds, say)
    print_summary(result, seeds.problems, args.json)
    if tor_unavailable(result):
        raise ServiceError(
            "the crawl stopped because Tor became unusable: "
            + str(result.stats.get("darkcrawl/tor/unavailable", "no tor instance answered"))
            + ". Nothing was fetched without Tor; restart tor and rerun (with --jobdir to resume)"
        )
    return 0
