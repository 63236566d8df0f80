"""Benchmark of the whole extraction chain (``extract_signals``) on markup-heavy market and forum pages of 30-200 KB.

Run: ``.venv/bin/python bench/bench_extract.py [--pages 1000] [--seed 7] [--json] [--workers N] [--from-parse]``.
Builds the corpus deterministically (same seed, same bytes), then extracts every page on one core with the shipped
watch list and vendor rules, and reports pages/s, MB/s of HTML, per-page latency p50/p90/p99, peak resident memory
(``resource.getrusage``) and each stage's share of the time. Throughput is given by wall clock and by CPU time of
this process: on a shared machine the second is the fair figure for "one core". Results go in docs/performance.md
("Extraction"). With ``--workers N`` the pages go through the crawl's worker pool (pipelines/extract/pool.py)
instead, all submitted at once, and the report is pages/s by wall clock and the cores kept busy. With
``--from-parse`` the chain is split as the crawl runs it since #16: each page is parsed first (the crawl process's
one parse, timed apart), and the figures are extraction from that parse (the workers' share).

The pages look like what the crawler meets: a head with inline CSS and scripts, navigation with hundreds of links
(onion and clearnet), listing tables or forum posts with prose in English, French, Dutch or German, prices, valid
payment addresses (BTC legacy/P2SH/bech32/taproot, XMR, ETH), armored PGP keys (some mangled by ``<br>``), contact
handles (plain and obfuscated), vendor labels, and watch-list vocabulary.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.extract import default_config, extract_signals
from pipelines.extract.signals import STAGES
from pipelines.extract.text import parse_document
from pipelines.extract.vendors import rule_vendor_values
from tests.vectors import load_vectors

PROSE = {
    "en": (
        "The vendor ships every order within two days and answers messages quickly. Packaging is discreet, "
        "vacuum sealed and tracked. Escrow is mandatory for new buyers; finalize early only after fifty orders. "
        "Quality was excellent, exactly as described, and stealth shipping worked again. Refunds are handled in "
        "the dispute section by a moderator. Read the terms before you order and encrypt your address."
    ),
    "fr": (
        "Le vendeur expédie chaque commande sous deux jours et répond rapidement aux messages. L'emballage est "
        "discret et le suivi est inclus. Le séquestre est obligatoire pour les nouveaux acheteurs. La qualité "
        "était excellente, exactement comme décrit. Les remboursements passent par un modérateur."
    ),
    "nl": (
        "De verkoper verstuurt elke bestelling binnen twee dagen en reageert snel op berichten. De verpakking "
        "is discreet en er is een volgnummer. Escrow is verplicht voor nieuwe kopers. De kwaliteit was "
        "uitstekend, precies zoals beschreven. Terugbetalingen lopen via een moderator."
    ),
    "de": (
        "Der Verkäufer verschickt jede Bestellung innerhalb von zwei Tagen und antwortet schnell. Die "
        "Verpackung ist diskret und vakuumiert, die Sendung ist verfolgbar. Treuhand ist für neue Käufer "
        "Pflicht. Die Qualität war ausgezeichnet, genau wie beschrieben. Erstattungen laufen über einen Moderator."
    ),
}
PRODUCTS = ["Cocaine 1g 90%", "MDMA crystals 5g", "Fullz US premium", "CVV EU fresh", "Fake passport NL",
            "Glock 19 Gen5", "Phishing kit bank", "Bitcoin mixer service", "RDP access corp", "Hashish 10g",
            "Faux passeport FR", "Kokain 5g", "Wiet 10g", "Ransomware builder"]  # fmt: skip
VENDORS = ["GreenLeaf", "DrWhite", "Tulpen_NL", "LapinNoir", "Schwarzwald", "CryptoKing", "PharmaBoss", "NordWind"]
ADDRESSES = [
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
    "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
    "0xdAC17F958D2ee523a2206206994597C13D831ec7",
]
CSS = "".join(f".c{n}{{margin:{n % 7}px;padding:{n % 5}px;color:#{n * 9973 % 0xFFFFFF:06x}}}" for n in range(150))
STAR_SVG = (
    "<svg class='icon' width='14' height='14' viewBox='0 0 24 24' aria-hidden='true'><path fill='currentColor' "
    "d='M12 17.27L18.18 21l-1.64-7.03L22 9.24l-7.19-.61L12 2 9.19 8.63 2 9.24l5.46 4.73L5.82 21z'/></svg>"
)
CART_SVG = (
    "<svg class='icon' width='16' height='16' viewBox='0 0 24 24'><path d='M7 18c-1.1 0-1.99.9-1.99 2S5.9 22 7 22s2"
    "-.9 2-2-.9-2-2-2zM1 2v2h2l3.6 7.59-1.35 2.45c-.16.28-.25.61-.25.96 0 1.1.9 2 2 2h12v-2H7.42'/></svg>"
)
QTY_OPTIONS = "".join(f"<option value='{n}'>{n} pcs</option>" for n in (1, 2, 5, 10, 25, 50, 100))
SCRIPT = "var cfg={" + ",".join(f'"k{n}":"{n * 31337 % 99991}"' for n in range(300)) + "};function t(){return cfg;}"


def _pgp_blocks() -> list[str]:
    alice = load_vectors("pgp")["valid"][0]["armored"]
    v6 = (Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "extract" / "rfc9580_v6_sample.asc").read_text()
    return [alice, v6]


def make_page(rng: random.Random, target: int, onions: list[str], keys: list[str]) -> str:
    """Return one page of about *target* bytes: markup first, then content blocks until the size is reached."""
    language = rng.choice(list(PROSE))
    vendor = rng.choice(VENDORS)
    site = rng.choice(onions)
    parts = [
        f"<!DOCTYPE html><html lang='{language}'><head><meta charset='utf-8'><title>{rng.choice(PRODUCTS)} - "
        f"{vendor} - Market</title><meta name='generator' content='BenchMarket 1.{rng.randrange(9)}'>"
        f"<style>{CSS}</style><script>{SCRIPT}</script></head><body class='market'>",
        "<nav><ul>"
        + "".join(
            f"<li class='c{n % 150}'><a href='/category/{n}?sort=price&amp;page={n % 7}'>Category {n}</a></li>"
            for n in range(rng.randrange(60, 160))
        )
        + "</ul></nav><main>",
    ]
    size = sum(len(p) for p in parts)
    while size < target:
        roll = rng.random()
        if roll < 0.55:
            price = f"{rng.randrange(10, 900)}.{rng.randrange(100):02d}"
            block = (
                f"<div class='listing c{rng.randrange(150)}' data-id='{rng.randrange(10**8)}' "
                f"data-cat='{rng.randrange(40)}' data-ship='eu,us,ww'><div class='row g-2 align-items-center'>"
                f"<div class='col-2 thumb'>{STAR_SVG}</div>"
                f"<div class='col'><a "
                f"href='http://{site}/product/{rng.randrange(10**6)}' class='title'>{rng.choice(PRODUCTS)}</a>"
                f"</div><div class='col price'><span class='cur'>EUR</span> <span>{price}</span></div>"
                f"<div class='col vendor'>Sold by <a href='/vendor/{vendor}'>{vendor}</a></div>"
                f"<div class='col rating'>{STAR_SVG * 5}(4.{rng.randrange(10)})</div>"
                f"<form class='col buy' method='post' action='/cart/add'><input type='hidden' name='csrf' "
                f"value='{rng.randbytes(24).hex()}'><input type='hidden' name='item' value='{rng.randrange(10**6)}'>"
                f"<select name='qty' class='form-select form-select-sm'>{QTY_OPTIONS}</select>"
                f"<button type='submit' class='btn btn-sm btn-outline-success'>{CART_SVG}</button></form>"
                f"</div><p class='desc'>{PROSE[language][: rng.randrange(120, 400)]}</p></div>"
            )
        elif roll < 0.80:
            block = (
                f"<article class='post c{rng.randrange(150)}'><header><a href='/user/{rng.choice(VENDORS)}'>"
                f"{rng.choice(VENDORS)}</a> <time>2026-0{rng.randrange(1, 9)}-1{rng.randrange(9)}</time></header>"
                f"<div class='body'><p>{PROSE[language]}</p><p>{PROSE[rng.choice(list(PROSE))][:200]}</p></div>"
                f"<footer class='sig'>Jabber: {vendor.lower()}@jabber.example.org | Telegram: @{vendor.lower()}_shop"
                "</footer></article>"
            )
        elif roll < 0.90:
            block = "<div class='links'>" + "".join(
                f"<a href='http://{rng.choice(onions)}/'>mirror {n}</a> "
                f"<a href='https://clear{n}.example.com/page'>clear {n}</a>"
                for n in range(rng.randrange(10, 40))
            ) + "</div>"  # fmt: skip
        elif roll < 0.96:
            block = (
                f"<div class='pay'><p>Payment to <code>{rng.choice(ADDRESSES)}</code> only. Backup mirror "
                f"{rng.choice(onions)[:-6]}[.]onion. Contact {vendor.lower()} [at] cock [dot] li</p></div>"
            )
        else:
            armored = rng.choice(keys)
            body = "<br>".join(armored.splitlines()) if rng.random() < 0.5 else f"<pre>{armored}</pre>"
            block = f"<div class='pgp'>Vendor: {vendor}<br>{body}</div>"
        parts.append(block)
        size += len(block)
    parts.append("</main><footer><p>© Market 2026</p></footer></body></html>")
    return "".join(parts)


def build_corpus(pages: int, seed: int) -> list[bytes]:
    """*pages* pages, sizes uniform in 30-200 KB, from *seed*."""
    rng = random.Random(seed)
    onions = load_vectors("onion")["valid"]
    keys = _pgp_blocks()
    return [make_page(rng, rng.randrange(30_000, 200_000), onions, keys).encode("utf-8") for _ in range(pages)]


def main(argv: list[str] | None = None) -> int:
    """Build the corpus, run the chain on every page, print the report; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--workers", type=int, default=0, help="extract through the crawl's pool of N worker processes")
    parser.add_argument(
        "--from-parse",
        action="store_true",
        help="split the chain as the crawl runs it (#16): the one parse (crawl process) timed apart, then extraction "
        "from that parse (worker processes)",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    corpus = build_corpus(args.pages, args.seed)
    build_seconds = time.perf_counter() - started
    if args.workers:
        return pool_report(corpus, args.workers, args.json)
    total_bytes = sum(len(page) for page in corpus)
    config = default_config()
    extract_signals(corpus[0], "http://warm.up/", content_type="text/html", config=config)
    pages: list[Any] = list(corpus)
    parse_cpu = 0.0
    if args.from_parse:  # what the spider hands the extraction stage: the page's one parse, vendor rules applied
        cpu_started = time.process_time()
        for number, page in enumerate(corpus):
            url = f"http://bench.example/page/{number}"
            parsed = parse_document(page, url, "text/html")
            values = rule_vendor_values(
                config.vendor_rules, url=url, tree=parsed.tree, html=parsed.html, generator=parsed.generator
            )
            pages[number] = parsed.for_extraction(values)
        parse_cpu = time.process_time() - cpu_started

    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # corpus built, profiles loaded
    text_chars = 0
    timings: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    latencies: list[float] = []
    found = dict.fromkeys(("crypto_addresses", "onions", "pgp_keys", "emails", "handles", "vendors", "keywords"), 0)
    gc.collect()
    started = time.perf_counter()
    cpu_started = time.process_time()
    for number, page in enumerate(pages):
        before = time.perf_counter()
        signals = extract_signals(page, f"http://bench.example/page/{number}", content_type="text/html",
                                  config=config, timings=timings)  # fmt: skip
        latencies.append(time.perf_counter() - before)
        text_chars += signals.text_length
        for name in found:
            found[name] += bool(getattr(signals, name))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stage_total = sum(timings.values()) or 1.0
    report: dict[str, Any] = {
        "pages": len(corpus),
        "corpus_mb": round(total_bytes / 1e6, 1),
        "mean_page_kb": round(total_bytes / len(corpus) / 1e3, 1),
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "pages_per_second": round(len(corpus) / elapsed, 1),
        "mb_per_second": round(total_bytes / 1e6 / elapsed, 2),
        "pages_per_cpu_second": round(len(corpus) / cpu, 1),
        "mb_per_cpu_second": round(total_bytes / 1e6 / cpu, 2),
        "latency_ms": {
            "p50": round(statistics.median(latencies) * 1000, 2),
            "p90": round(statistics.quantiles(latencies, n=10)[-1] * 1000, 2),
            "p99": round(statistics.quantiles(latencies, n=100)[-1] * 1000, 2),
        },
        "mean_text_kchars": round(text_chars / len(corpus) / 1e3, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "rss_before_extraction_mb": round(rss_before_kb / 1024, 1),
        "stage_share_percent": {name: round(100 * value / stage_total, 1) for name, value in timings.items()},
        "pages_with": found,
        "corpus_build_seconds": round(build_seconds, 1),
    }
    if args.from_parse:
        report["parse_pages_per_cpu_second"] = round(len(corpus) / parse_cpu, 1)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"extraction chain, one core: {report['pages']} pages, {report['corpus_mb']} MB of HTML "
          f"(mean {report['mean_page_kb']} KB)")  # fmt: skip
    print(f"  wall clock: {report['pages_per_second']} pages/s, {report['mb_per_second']} MB/s, {report['seconds']} s")
    print(
        f"  CPU time:   {report['pages_per_cpu_second']} pages/s, {report['mb_per_cpu_second']} MB/s, "
        f"{report['cpu_seconds']} s (what one core delivers when other processes compete for it)"
    )
    latency = report["latency_ms"]
    print(f"  latency per page: p50 {latency['p50']} ms, p90 {latency['p90']} ms, p99 {latency['p99']} ms")
    print(
        f"  peak resident memory: {report['peak_rss_mb']} MB ({report['rss_before_extraction_mb']} MB before the first "
        f"page: corpus, watch list, language profiles); cleaned text {report['mean_text_kchars']}k chars a page"
    )
    print("  stage shares: " + ", ".join(f"{k} {v}%" for k, v in report["stage_share_percent"].items()))
    print("  pages with: " + ", ".join(f"{k} {v}" for k, v in found.items()))
    if args.from_parse:
        print(
            f"  (--from-parse: the figures above are extraction from the crawl's parse, the worker's share; the parse "
            f"itself, in the crawl process: {report['parse_pages_per_cpu_second']} pages per CPU second)"
        )
    return 0


def pool_report(corpus: list[bytes], workers: int, as_json: bool) -> int:
    """Extract *corpus* through :class:`ExtractionPool` (all pages submitted at once, as a busy crawl does) and print
    pages/s by wall clock, the CPU time of this process and of the workers (their start included), and how many cores
    that kept busy."""
    import asyncio

    from pipelines.extract.pool import ConfigSpec, ExtractionPool

    pool = ExtractionPool(ConfigSpec(), workers=workers, timeout=60)
    started = time.perf_counter()
    pool.start()
    start_seconds = time.perf_counter() - started

    async def run_all() -> list[str]:
        outcomes = await asyncio.gather(
            *(pool.extract(page, f"http://bench.example/page/{n}", "text/html") for n, page in enumerate(corpus))
        )
        return [outcome.status for outcome in outcomes]

    cpu_started = time.process_time()
    started = time.perf_counter()
    statuses = asyncio.run(run_all())
    elapsed = time.perf_counter() - started
    parent_cpu = time.process_time() - cpu_started
    pool.close()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = children.ru_utime + children.ru_stime
    report = {
        "pages": len(corpus),
        "workers": workers,
        "ok": statuses.count("ok"),
        "seconds": round(elapsed, 2),
        "pages_per_second": round(len(corpus) / elapsed, 1),
        "crawl_process_cpu_seconds": round(parent_cpu, 2),
        "workers_cpu_seconds_with_start": round(workers_cpu, 2),
        "pool_start_seconds": round(start_seconds, 2),
        "cores_busy": round((parent_cpu + workers_cpu) / (elapsed + start_seconds), 2),
    }
    if as_json:
        print(json.dumps(report))
    else:
        print(f"extraction pool of {workers}: {report['pages']} pages ({report['ok']} ok) in {report['seconds']} s, "
              f"{report['pages_per_second']} pages/s; CPU: {report['crawl_process_cpu_seconds']} s in this process, "
              f"{report['workers_cpu_seconds_with_start']} s in the workers (start {report['pool_start_seconds']} s "
              f"included); {report['cores_busy']} cores busy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
