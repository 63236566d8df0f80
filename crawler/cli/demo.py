"""``darkcrawl demo``: the newcomer's first command, everything on this machine and nothing from the Internet.

Starts the managed Elasticsearch node and the private Tor lab (in parallel), installs the index templates, crawls the
lab's fixture onions through Tor, indexes them, and prints a short report with a sample search.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, es_session, say
from crawler.cli.crawl import run_crawl
from crawler.errors import DarkcrawlError
from crawler.redact import mask_url

if TYPE_CHECKING:
    from scrapy.settings import Settings


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "demo",
        run,
        help="start Elasticsearch and the Tor lab, crawl the fixture onions, show what was found",
        description="Start the managed Elasticsearch node and the private Tor network, crawl the lab's fixture "
        "onion sites through Tor, index them, and print a report. Takes about a minute and a quarter from cold.",
    )
    parser.add_argument("--query", default="bitcoin escrow", help="the sample search (default: %(default)s)")


def start_elasticsearch(settings: Settings, errors: list[BaseException]) -> None:
    from crawler.es.node import NodeInstance, start

    try:
        if settings.get("DARKCRAWL_ES_URL"):
            say(f"using the Elasticsearch cluster at {mask_url(settings.get('DARKCRAWL_ES_URL'))}")
            return
        start(NodeInstance.from_settings(settings), lambda message: say(f"[elasticsearch] {message}"))
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)


def report(settings: Settings, crawl_id: str, query: str) -> list[str]:
    """Lines describing what the demo crawl indexed, from Elasticsearch itself."""
    from crawler.es.schema import index_names
    from crawler.search import SearchFilters, build_search, format_hit

    alias = index_names(settings).pages
    with es_session(settings) as client:
        client.indices.refresh(index=alias)
        response = client.search(
            index=alias,
            size=0,
            query={"term": {"crawl_id": crawl_id}},
            aggs={
                "sites": {"terms": {"field": "site", "size": 20}},
                "languages": {"terms": {"field": "language", "size": 20}},
                "currencies": {"terms": {"field": "signals.crypto_addresses.currency", "size": 20}},
                "addresses": {"cardinality": {"field": "signals.crypto_addresses.address"}},
                "pgp": {"cardinality": {"field": "signals.pgp_keys.fingerprint"}},
                "vendors": {"terms": {"field": "signals.vendors.name.keyword", "size": 10}},
            },
        )
        aggs = response["aggregations"]
        lines = [f"indexed {response['hits']['total']['value']} pages from {len(aggs['sites']['buckets'])} sites:"]
        lines += [f"  {bucket['key']}  {bucket['doc_count']} pages" for bucket in aggs["sites"]["buckets"]]
        lines.append("languages: " + ", ".join(f"{b['key']} {b['doc_count']}" for b in aggs["languages"]["buckets"]))
        lines.append(
            f"signals: {aggs['addresses']['value']} distinct crypto addresses ("
            + ", ".join(f"{b['key']} on {b['doc_count']} pages" for b in aggs["currencies"]["buckets"])
            + f"), {aggs['pgp']['value']} PGP keys, vendors: "
            + ", ".join(bucket["key"] for bucket in aggs["vendors"]["buckets"])
        )
        # this crawl's pages only: the index also holds earlier crawls (an earlier lab had other onion addresses)
        hits = client.search(index=alias, **build_search(query, SearchFilters(crawl_id=crawl_id), size=3))["hits"]
        lines.append(f"sample search {query!r} in this crawl: {hits['total']['value']} pages; best:")
    lines += [format_hit(rank, hit, color=sys.stdout.isatty()) for rank, hit in enumerate(hits["hits"], 1)]
    return lines


def run(args: argparse.Namespace, settings: Settings) -> int:
    from crawler.es.schema import ensure_indices
    from crawler.lab.network import Lab, LabConfig
    from crawler.lab.sites import SITE_NAMES
    from crawler.seeds import parse_seeds

    say("demo: Elasticsearch and a private Tor network on this machine; nothing leaves it")
    es_errors: list[BaseException] = []
    es_thread = threading.Thread(target=start_elasticsearch, args=(settings, es_errors), daemon=True)
    es_thread.start()
    say("starting the private Tor network (about a minute: authorities vote a consensus first)")
    lab_state = Lab(LabConfig.from_settings(settings), lambda message: say(f"[lab] {message}")).up()
    es_thread.join()
    if es_errors:
        error = es_errors[0]
        raise error if isinstance(error, DarkcrawlError) else DarkcrawlError(f"Elasticsearch: {error}")
    ensure_indices(settings, say)
    settings.set("DARKCRAWL_TOR_SOCKS", f"127.0.0.1:{lab_state.socks_port}", priority="cmdline")
    settings.set("DARKCRAWL_TOR_CONTROL", f"127.0.0.1:{lab_state.control_port}", priority="cmdline")
    settings.set("DARKCRAWL_PROGRESS_INTERVAL", 5, priority="cmdline")
    seeds = parse_seeds([f"http://{host}/" for name, host in lab_state.onions.items() if name in SITE_NAMES])
    result = run_crawl(settings, seeds.seeds, say)
    print(f"crawled {result.pages} pages through Tor in {result.elapsed:.0f}s ({result.finish_reason})")
    for line in report(settings, result.crawl_id, args.query):
        print(line)
    print()
    print("next: darkcrawl search \"your words\"   (--json for tools; --site, --lang, --since to filter)")
    print("      darkcrawl extract page.html --json   (signals of one page)")
    print("      darkcrawl lab status | darkcrawl lab down ; darkcrawl es status | darkcrawl es stop")
    return 0
