"""``darkcrawl worker``: one worker of a distributed crawl (``DARKCRAWL_REDIS_URL``), and the frontier's operations.

Each worker has its own tor instance(s), launched or given with ``--tor-socks``, and takes its requests from the
shared frontier in Redis; see docs/distributed.md.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_json_option, print_answer, say
from crawler.cli.crawl import (
    add_crawl_options,
    ensure_index,
    load_seeds,
    overrides_from_args,
    print_summary,
    run_crawl,
    tor_unavailable,
)
from crawler.errors import ServiceError, UsageError

if TYPE_CHECKING:
    from scrapy.settings import Settings


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "worker",
        run,
        help="run one worker of a distributed crawl (needs DARKCRAWL_REDIS_URL)",
        description="Take requests from the shared frontier in Redis, fetch them through this worker's Tor, index "
        "the pages. Optionally push seeds first (once: seeds seen before are dropped by the shared filter).",
    )
    parser.add_argument("seeds_file", nargs="?", metavar="SEEDS", help="seeds to push first: one URL a line; - = stdin")
    parser.add_argument("--seeds", dest="seeds_option", metavar="FILE", help="same as SEEDS")
    parser.add_argument("--url", action="append", default=[], metavar="URL", help="a seed URL to push (repeatable)")
    parser.add_argument("--push-only", action="store_true", help="push the seeds and exit, without crawling")
    parser.add_argument("--status", action="store_true", help="print the frontier's state (queue, leases, filter)")
    parser.add_argument("--reset", action="store_true", help="delete the frontier (queue, filter, budgets) and exit")
    parser.add_argument(
        "--exit-when-idle", type=float, metavar="SECONDS",
        help="stop once nothing is queued or leased anywhere for this long (DARKCRAWL_WORKER_IDLE_EXIT; 0: never)",
    )
    add_crawl_options(parser, distributed=True)
    add_json_option(parser, "print the summary (or --status) as JSON")
    parser.set_defaults(from_index=False)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from crawler.frontier.store import Frontier
    from spiders.seeding import push_seeds

    if not settings.get("DARKCRAWL_REDIS_URL"):
        raise UsageError(
            "darkcrawl worker needs DARKCRAWL_REDIS_URL (e.g. redis://127.0.0.1:6379/0): the shared frontier lives "
            "there. For a crawl on this host alone, use darkcrawl crawl"
        )
    if args.seeds_option and args.seeds_file:
        raise UsageError("give the seeds file once: as SEEDS or as --seeds, not both")
    args.seeds_file = args.seeds_file or args.seeds_option
    settings.update(overrides_from_args(args), priority="cmdline")
    if args.exit_when_idle is not None:
        settings.set("DARKCRAWL_WORKER_IDLE_EXIT", args.exit_when_idle, priority="cmdline")
    if args.status or args.reset:
        frontier = Frontier.from_settings(settings)
        if args.reset:
            status = frontier.status()
            if status.workers_alive:
                raise UsageError(
                    f"{len(status.workers_alive)} workers are running on this frontier "
                    f"({', '.join(status.workers_alive)}): stop them before --reset"
                )
            say(f"deleted {frontier.reset()} keys of the frontier {frontier.prefix}")
            return 0
        report = frontier.status().as_dict()
        print_answer(args.json, report, lambda: status_line(frontier.prefix, report))
        return 0
    seeds = load_seeds(args, settings.getbool("DARKCRAWL_ALLOW_CLEARNET"), settings)
    for problem in seeds.problems:
        say(f"skipped seed, {problem}")
    if args.push_only:
        if not seeds.seeds:
            raise UsageError("--push-only needs seeds: a seeds file, --seeds or --url")
        pushed = push_seeds(Frontier.from_settings(settings), seeds.seeds)
        say(f"pushed {pushed.queued} seeds ({pushed.already_seen} seen before, {pushed.over_budget} over budget)")
        return 0
    if settings.getbool("DARKCRAWL_ES_ENABLED"):
        ensure_index(settings, args.verbose)
    result = run_crawl(settings, seeds.seeds, say)
    print_summary(result, seeds.problems, args.json)
    if tor_unavailable(result):
        raise ServiceError("the worker stopped because Tor became unusable; restart tor and rerun the worker")
    return 0


def status_line(prefix: str, report: dict[str, Any]) -> str:
    """``worker --status`` for people: the frontier's state in one line."""
    bloom = report["bloom"]
    return (
        f"frontier {prefix}: {report['queued']} queued, {report['leased']} leased, "
        f"{len(report['workers_alive'])} workers alive, {report['sites']} seed sites; duplicate filter "
        f"{bloom['bits_set']}/{bloom['bits']} bits set ({bloom['fill']:.2%}, sized for "
        f"{bloom['capacity']} URLs at {bloom['error_rate']:g}); "
        f"Redis uses {report['redis_used_memory'] / 2**20:.1f} MiB"
    )
