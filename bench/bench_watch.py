"""Benchmark of the watches: CPU cost per page of evaluating 1,000 term watches + 1,000 entity watches, and
separately regex and YARA watches, on bench_extract's corpus (market and forum pages of 30-200 KB).

Run: ``.venv/bin/python bench/bench_watch.py [--pages 300] [--seed 7] [--json]``. Builds bench_extract's corpus
(same seed, same bytes), extracts every page once into the page document the crawl indexes (not timed), compiles
each watch set once (timed apart), then evaluates every page and reports per-page CPU time of this process
(``time.process_time``: the machine is shared) as mean, p50, p90 and p99, and how many pages fired. Results go in
docs/performance.md ("Watches").

Watch sets: ``1 term + 1 entity`` (the floor); ``1,000 term + 1,000 entity`` (terms of one to three words, 1% of them
words the corpus uses; entity values of every kind, 1% of them addresses the corpus shows); ``10 regex`` (IBANs, card
numbers, phone numbers, wallet seeds...); ``10 yara`` (one rule file per watch, three strings each); ``1 clone`` against
a watched site of seven times the corpus's pages (every page fires: it is a copy of one of them).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_extract import ADDRESSES, VENDORS, build_corpus

from crawler.items import PageItem
from crawler.sink.documents import page_document
from crawler.watch.clone import CloneReferences, clone_spec
from crawler.watch.entity import entity_spec
from crawler.watch.matchers import WatchSet
from crawler.watch.model import CLONE, ENTITY, REGEX, TERM, YARA, Watch
from crawler.watch.regex import regex_spec
from crawler.watch.term import term_spec
from crawler.watch.yara import yara_spec
from pipelines.extract import default_config, extract_signals
from pipelines.extraction import fill_item

WATCHED = "jrnzwp6h2bk7icvkox6txld4void7iviijha6xcnpo2trscoav3zf4ad.onion"
CORPUS_WORDS = ["escrow", "vacuum sealed", "stealth shipping", "fullz", "cvv", "kokain", "wiet", "passeport",
                "moderator", "refund"]
REGEXES = [
    r"\b[A-Z]{2}\d{2}(?: ?[0-9A-Z]{4}){3,7}\b",  # IBAN
    r"\b(?:\d{4}[ -]?){3}\d{4}\b",  # card number
    r"(?i)\b(?:cash ?out|drop address|money mule)s?\b",
    r"\+\d{2} ?\d{3} ?\d{3} ?\d{3,4}",  # phone
    r"(?i)seed phrase|recovery phrase|mnemonic",
    r"(?i)\b[a-z0-9._%+-]+@(?:proton|tuta|cock)\.[a-z]{2,}\b",
    r"(?i)\bwire (?:transfer|fraud)\b",
    r"(?i)\b(?:sepa|swift|bic)\b",
    r"\b\d{3}-\d{2}-\d{4}\b",  # US SSN
    r"(?i)\bfinali[sz]e early\b",  # the corpus's prose has it
]
YARA_RULE = """rule r{n} {{
    strings: $a = "{a}" nocase $b = /{b}/ $c = "{c}"
    condition: any of them
}}
"""


def watch(number: int, kind: str, spec: dict[str, Any]) -> Watch:
    return Watch(id=f"w-{number:06x}", name=f"{kind} {number}", kind=kind, spec=spec)


def term_watches(count: int, rng: random.Random) -> list[Watch]:
    letters = "abcdefghijklmnopqrstuvwxyzéèüö"
    watches = []
    for number in range(count):
        if number % 100 == 0:
            terms = [CORPUS_WORDS[(number // 100) % len(CORPUS_WORDS)]]
        else:
            terms = [" ".join("".join(rng.choice(letters) for _ in range(rng.randint(5, 10)))
                              for _ in range(rng.randint(1, 3)))]
        watches.append(watch(number, TERM, term_spec(terms)))
    return watches


def entity_watches(count: int, rng: random.Random) -> list[Watch]:
    watches = []
    for number in range(count):
        which = number % 5
        if number % 100 == 0:
            value, kind = ADDRESSES[(number // 100) % len(ADDRESSES)], None
        elif which == 0:
            value, kind = f"user{number}@example.org", None
        elif which == 1:
            value, kind = f"telegram:@shop{number}", None
        elif which == 2:
            value, kind = f"{VENDORS[number % len(VENDORS)]}{number}", "vendor"
        elif which == 3:
            value, kind = "".join(rng.choice("0123456789ABCDEF") for _ in range(40)), None
        else:
            value, kind = "".join(rng.choice("0123456789abcdef") for _ in range(40)), "vendor"
        watches.append(watch(10_000 + number, ENTITY, entity_spec(value, kind)))
    return watches


def yara_watches(count: int, directory: Path) -> list[Watch]:
    watches = []
    for number in range(count):
        path = directory / f"rules{number}.yar"
        path.write_text(YARA_RULE.format(n=number, a=CORPUS_WORDS[number % len(CORPUS_WORDS)],
                                         b=f"order[0-9]{{{number + 3}}}", c=f"token-{number}"))
        watches.append(watch(20_000 + number, YARA, yara_spec(path, directory / "copies")))
    return watches


def documents(pages: int, seed: int) -> list[dict[str, Any]]:
    """The corpus as indexed page documents (extraction stage, then page_document), built once."""
    config = default_config()
    built = []
    for index, body in enumerate(build_corpus(pages, seed)):
        url = f"http://bench{index}.onion/page"
        item = PageItem(url=url, canonical_url="", site=f"bench{index}.onion", status=200, fetched_at="",
                        crawl_id="bench", html=body.decode("utf-8"))
        built.append(page_document(fill_item(item, extract_signals(body, url, config=config))))
    return built


def clone_references(pages: list[dict[str, Any]], copies: int) -> CloneReferences:
    """The corpus as *copies* times its pages of one watched site (a large watched market)."""
    references = CloneReferences([WATCHED])
    for copy in range(copies):
        for index, page in enumerate(pages):
            references.add(page | {"site": WATCHED, "url": f"http://{WATCHED}/{copy}/{index}"})
    return references


def measure(name: str, watches: list[Watch], pages: list[dict[str, Any]],
            references: CloneReferences | None = None) -> dict[str, Any]:
    gc.collect()  # the corpus's garbage is not the watch set's to pay for
    started = time.process_time()
    watch_set = WatchSet.compile(watches, references)
    compile_ms = (time.process_time() - started) * 1000
    costs: list[float] = []
    fired = 0
    for page in pages:
        before = time.process_time()
        found = watch_set.evaluate(page)
        costs.append((time.process_time() - before) * 1000)
        fired += bool(found)
    quantiles = statistics.quantiles(costs, n=100)
    return {
        "watches": name, "count": len(watches), "compile_ms": round(compile_ms, 1), "pages": len(pages),
        "pages_fired": fired, "mean_ms": round(statistics.fmean(costs), 3), "p50_ms": round(quantiles[49], 3),
        "p90_ms": round(quantiles[89], 3), "p99_ms": round(quantiles[98], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    pages = documents(args.pages, args.seed)
    text_kb = statistics.fmean(len(page.get("text") or "") for page in pages) / 1000
    terms, entities = term_watches(1000, rng), entity_watches(1000, rng)
    with tempfile.TemporaryDirectory() as directory:
        runs = [
            measure("1 term + 1 entity", [terms[0], entities[0]], pages),
            measure("1,000 term + 1,000 entity", terms + entities, pages),
            measure("1,000 term", terms, pages),
            measure("1,000 entity", entities, pages),
            measure("10 regex", [watch(30_000 + n, REGEX, regex_spec(p)) for n, p in enumerate(REGEXES)], pages),
            measure("10 yara", yara_watches(10, Path(directory)), pages),
            measure(f"1 clone, {len(pages) * 7} ref. pages", [watch(40_000, CLONE, clone_spec(WATCHED))], pages,
                    clone_references(pages, 7)),
        ]
    report = {"pages": len(pages), "mean_text_kb": round(text_kb, 1), "runs": runs,
              "load_average": [round(value, 2) for value in os.getloadavg()]}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['pages']} pages, {report['mean_text_kb']} KB of text each on average; "
          f"load average {report['load_average']}")
    print(f"{'watches':<28}{'compile':>10}{'fired':>8}{'mean':>9}{'p50':>9}{'p90':>9}{'p99':>9}  (ms CPU per page)")
    for run in runs:
        print(f"{run['watches']:<28}{run['compile_ms']:>9.1f} {run['pages_fired']:>7}{run['mean_ms']:>9.3f}"
              f"{run['p50_ms']:>9.3f}{run['p90_ms']:>9.3f}{run['p99_ms']:>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
