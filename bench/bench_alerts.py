"""Benchmark of the crawl's watching stage (pipelines/watching.py): what checking pages against the watches costs, and
what skipping unchanged pages with one ``mget`` saves over evaluating everything and letting ``create`` refuse the
alerts that exist.

Run: ``.venv/bin/python bench/bench_alerts.py [--pages 1000] [--terms 100] [--repeat 3] [--json]`` with the usual
``DARKCRAWL_ES_*`` settings. A fresh index prefix per run (deleted afterwards); the documents are the lab's fixture
pages (and bigmarket's) through the extraction stage, as in bench/bench_index.py. The watches: one of each kind the
lab shows (term, entity, regex, yara, clone of the market) plus ``--terms`` more term watches. Measured per batch of
``DARKCRAWL_ALERTS_BATCH`` pages, through the stage's own ``_evaluate``:

* ``new``: pages never indexed (the mget finds none): every page evaluated, the alerts created;
* ``unchanged``: the same pages indexed with the same content after the watches were added: mget, nothing evaluated,
  the ``last_seen`` of their alerts moved (one search and one bulk per batch);
* ``evaluate all``: the same unchanged pages evaluated anyway, every alert refused by ``create`` (409) and its
  ``last_seen`` moved: what the crawl would cost without the skip.

Reported: this process's CPU time (``time.process_time``) per page, best of ``--repeat`` runs (the fair figure on a
shared machine), wall time, and the alerts made. Results go in docs/performance.md ("Alerts").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_index import corpus, drop, fresh_names
from scrapy.statscollectors import StatsCollector

from crawler.config import load_settings
from crawler.es.client import es_sync_client
from crawler.identity import page_id
from crawler.items import utc_timestamp
from crawler.watch.model import Watch
from pipelines.watching import WatchingPipeline

YARA_RULE = 'rule official_mirror { strings: $a = "Official Mirror" condition: $a }\n'
WORDS = ("carding", "fullz", "cashout", "dumps", "bank drop", "mule", "cvv", "skimmer", "phishing kit", "logs")


def bench_watches(data_dir: Path, terms: int) -> list[Watch]:
    from crawler.watch.clone import clone_spec
    from crawler.watch.entity import entity_spec
    from crawler.watch.regex import regex_spec
    from crawler.watch.term import term_spec
    from crawler.watch.yara import yara_spec

    rules = data_dir / "bench.yar"
    rules.write_text(YARA_RULE)
    specs = [
        ("term", term_spec(["escrow"])),
        ("entity", entity_spec("34C2681A1A8EA4205E36E7026B5BD27090407D5B")),
        ("regex", regex_spec(r"nocturne_official_\w+")),
        ("yara", yara_spec(rules, data_dir / "rules")),
        ("clone", clone_spec(placeholder_market())),
    ]
    specs += [("term", term_spec([f"{WORDS[number % len(WORDS)]} {number}"])) for number in range(terms)]
    now = utc_timestamp()
    return [Watch(f"w-{number:06x}", f"bench {number}", kind, spec, severity="high", created_at=now)
            for number, (kind, spec) in enumerate(specs, start=1)]


def placeholder_market() -> str:
    """The market's host in the corpus: ``market.bench.onion`` is no v3 onion, so the corpus is re-hosted on the
    placeholder onions the lab gives its sites when built without a lab."""
    from crawler.lab.sites import placeholder_onion

    return placeholder_onion("market")


def rehost(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Put each ``<name>.bench.onion`` page on the placeholder onion of its site (clone watches need v3 onions)."""
    from crawler.lab.sites import placeholder_onion

    moved = []
    for document in documents:
        name = document["site"].split(".", 1)[0]
        host = placeholder_onion(name)
        moved.append(document | {"site": host, "url": document["url"].replace(document["site"], host)})
    return moved


async def run_mode(pipeline: WatchingPipeline, documents: list[dict[str, Any]], batch: int) -> tuple[float, float]:
    loop = asyncio.get_running_loop()
    started_cpu, started = time.process_time(), time.perf_counter()
    for start in range(0, len(documents), batch):
        chunk = [(page_id(document["url"]), document, loop.create_future())
                 for document in documents[start:start + batch]]
        await pipeline._evaluate(chunk)
    return time.process_time() - started_cpu, time.perf_counter() - started


def index_pages(settings: Any, alias: str, documents: list[dict[str, Any]]) -> None:
    """The pages as the indexing stage leaves them, last fetched now (after the watches were added)."""
    from elasticsearch.helpers import bulk

    client = es_sync_client(settings)
    try:
        now = utc_timestamp()
        bulk(client, ({"_index": alias, "_id": page_id(document["url"]),
                       "_source": document | {"first_seen": now, "last_seen": now}} for document in documents),
             chunk_size=500, refresh="wait_for")
    finally:
        client.close()


async def one_run(settings: Any, documents: list[dict[str, Any]], terms: int) -> dict[str, Any]:
    names = fresh_names(settings)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    run_settings = settings.copy()
    run_settings.set("DARKCRAWL_ES_INDEX_PREFIX", names.prefix, priority="cmdline")
    run_settings.set("DARKCRAWL_DATA_DIR", str(data_dir), priority="cmdline")
    batch = run_settings.getint("DARKCRAWL_ALERTS_BATCH")
    try:
        market = [document for document in documents if document["site"] == placeholder_market()]
        index_pages(run_settings, names.pages, market)  # the clone watch's references
        watches = bench_watches(data_dir, terms)
        stats = StatsCollector(SimpleNamespace(settings=run_settings))  # type: ignore[arg-type]
        crawler = SimpleNamespace(settings=run_settings, stats=stats)
        pipeline = WatchingPipeline(crawler, watches)  # type: ignore[arg-type]
        await pipeline.open_spider()
        others = [document for document in documents if document["site"] != placeholder_market()]
        result: dict[str, Any] = {"pages": len(others), "watches": len(watches)}
        cpu, wall = await run_mode(pipeline, others, batch)
        result["new"] = {"cpu_ms_per_page": 1000 * cpu / len(others), "wall_s": wall,
                         "alerts": stats.get_value("darkcrawl/alerts/new", 0)}
        index_pages(run_settings, names.pages, others)
        cpu, wall = await run_mode(pipeline, others, batch)
        result["unchanged"] = {"cpu_ms_per_page": 1000 * cpu / len(others), "wall_s": wall,
                               "skipped": stats.get_value("darkcrawl/alerts/pages_unchanged", 0),
                               "last_seen_moved": stats.get_value("darkcrawl/alerts/seen_again", 0)}

        async def nothing_stored(ids: list[str]) -> dict[str, dict[str, Any]]:
            return {}

        pipeline._stored = nothing_stored  # type: ignore[method-assign]
        cpu, wall = await run_mode(pipeline, others, batch)
        result["evaluate_all"] = {"cpu_ms_per_page": 1000 * cpu / len(others), "wall_s": wall,
                                  "existing": stats.get_value("darkcrawl/alerts/existing", 0)}
        await pipeline.close_spider()
        return result
    finally:
        drop(settings, names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--terms", type=int, default=100, help="extra term watches (default 100)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    documents = rehost(corpus(args.pages))
    runs = [asyncio.run(one_run(settings, documents, args.terms)) for _ in range(args.repeat)]
    best = {mode: min((run[mode] for run in runs), key=lambda item: item["cpu_ms_per_page"])
            for mode in ("new", "unchanged", "evaluate_all")}
    report = {"pages": runs[0]["pages"], "watches": runs[0]["watches"], "repeat": args.repeat, **best}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['pages']} pages, {report['watches']} watches, best of {args.repeat} (client CPU per page)")
        for mode in ("new", "unchanged", "evaluate_all"):
            figures = report[mode]
            extra = ", ".join(f"{key} {value}" for key, value in figures.items()
                              if key not in ("cpu_ms_per_page", "wall_s"))
            print(f"  {mode:<13} {figures['cpu_ms_per_page']:.3f} ms CPU/page, {figures['wall_s']:.2f} s wall, "
                  f"{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
