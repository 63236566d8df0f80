"""Precision and recall of watch-list matching: the shipped list as darkcrawl matches it (inflected forms in each
term's language, ambiguous terms only with context) against the baseline (written forms only, every term counted),
on three corpora:

* non-market text: the manual pages Debian ships in English, French, German and Dutch (technical prose, no crime:
  every hit is a false positive). Needs `apt-get install manpages-fr manpages-de manpages-nl`; a language whose
  pages are missing is skipped, and the figures say how many documents were read.
* the lab's fixture sites (crawler/lab/sites, 120 pages): every hit is printed with its context, and the hits judged
  here (JUDGED) give the precision;
* market sentences (MARKET, below): listings in the four languages written with inflected forms, each naming the
  term (and so the category) it should hit: recall.

    .venv/bin/python bench/bench_watchlist.py [--per-language 400] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

from crawler.lab.sites import SITE_NAMES, build_pages
from pipelines.extract import default_config, extract_signals
from pipelines.extract.keywords import Watchlist, WatchTerm, default_watchlist_path, read_watchlist

MAN_ROOTS = {"en": Path("/usr/share/man"), "fr": Path("/usr/share/man/fr"), "de": Path("/usr/share/man/de"),
             "nl": Path("/usr/share/man/nl")}
_ROFF_ESCAPE = re.compile(r"\\(?:f[BIRP]|f\(..|\(..|[-&|^,/ e]|\*.)")

# Listings as vendors write them: inflected forms of the shipped terms, each with the term it should hit.
MARKET = [
    ("Faux passeports belges et français, qualité premium", "faux passeport"),
    ("Fausses cartes d'identité, livraison en 48h", "fausse carte d'identité"),
    ("Faux billets de 50 euros, passent les stylos", "faux billets"),
    ("Valse paspoorten uit Nederland en België", "vals paspoort"),
    ("Valse identiteitskaarten, binnen 3 dagen geleverd", "valse identiteitskaart"),
    ("Gefälschte Reisepässe aus Polen, beste Qualität", "gefälschter reisepass"),
    ("Gefälschte Ausweise für alle EU-Länder", "gefälschter ausweis"),
    ("Fake passports from every EU country", "fake passport"),
    ("Counterfeit banknotes, 20 and 50 EUR", "counterfeit banknotes"),
    ("Cartes bancaires avec code PIN, cartes clonées", "carte bancaire"),
    ("Gekloonde passen met pincode", "gekloonde pas"),
    ("Geklonte Karten mit PIN, weltweit nutzbar", "geklonte karte"),
    ("Pistolets et fusils d'assaut, munitions incluses", "pistolet"),
    ("Aanvalsgeweren en pistolen, munitie op voorraad", "pistool"),
    ("Pistolen und Sturmgewehre, Munition inklusive", "pistole"),
    ("Glocks and handguns, ammunition included", "handgun"),
    ("Bitcoin mixers with no logs, clean your coins", "bitcoin mixer"),
    ("Comptes offshore et sociétés écrans clés en main", "société écran"),
    ("Brievenbusfirma's en katvangers beschikbaar", "brievenbusfirma"),
    ("Briefkastenfirmen und Strohmänner gegen Provision", "briefkastenfirma"),
    ("Phishing kits for every bank, scam pages included", "phishing kit"),
    ("Kits de phishing pour toutes les banques", "kit de phishing"),
    ("Pirates informatiques à louer, piratage de comptes", "pirate informatique"),
    ("Erpressungstrojaner als Dienst, Datenlecks zu verkaufen", "datenleck"),
]
# The fixture sites' hits, judged by reading their context (True: the page is about the category).
JUDGED = {
    ("directory", "/lang/fr", "arnaque"): True,  # "signalées dans notre liste des arnaques": a scam warning
    ("directory", "/lang/de", "betrug"): True,
    ("directory", "/lang/nl", "oplichting"): True,
    ("paste", "/", "dumps"): False,
    ("paste", "/", "mailer"): False,
}


def roff_text(path: Path) -> str:
    """The prose of a manual page's roff source: requests (lines starting with a dot) and font escapes dropped."""
    raw = gzip.decompress(path.read_bytes()).decode("utf-8", "replace") if path.suffix == ".gz" else path.read_text()
    lines = [line for line in raw.splitlines() if not line.startswith((".", "'"))]
    return _ROFF_ESCAPE.sub(" ", "\n".join(lines))


def manual_pages(language: str, count: int, seed: int) -> list[str]:
    root = MAN_ROOTS[language]
    paths = sorted(path for path in root.glob("man[1-8]/*") if path.is_file())
    random.Random(seed).shuffle(paths)
    return [roff_text(path) for path in paths[:count]]


def watchlists() -> tuple[Watchlist, Watchlist]:
    terms = read_watchlist(default_watchlist_path())
    baseline = Watchlist([WatchTerm(t.term, t.category, t.language, t.source) for t in terms], inflect=False)
    return Watchlist(terms), baseline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-language", type=int, default=400, help="manual pages read per language")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    darkcrawl, baseline = watchlists()
    report: dict[str, object] = {}

    # non-market text: every hit is a false positive
    for name, watchlist in (("darkcrawl", darkcrawl), ("baseline", baseline)):
        per_language = {}
        for language in MAN_ROOTS:
            documents = manual_pages(language, args.per_language, args.seed)
            if not documents:
                continue
            started = time.process_time()
            hits: Counter[str] = Counter()
            pages_with_hits = 0
            for text in documents:
                found = watchlist.find(text)
                pages_with_hits += bool(found)
                hits.update(hit["term"] for hit in found)
            per_language[language] = {
                "documents": len(documents), "megabytes": round(sum(map(len, documents)) / 1e6, 1),
                "documents_with_hits": pages_with_hits,
                "false_positive_rate": round(pages_with_hits / len(documents), 4),
                "terms": dict(hits.most_common(8)), "cpu_ms_per_document": round(
                    (time.process_time() - started) * 1000 / len(documents), 3),
            }
        report[f"non_market_{name}"] = per_language

    # fixture sites: hits, judged
    config = default_config()
    fixture: dict[str, list[dict[str, object]]] = {"darkcrawl": [], "baseline": []}
    for site in SITE_NAMES:
        for path, built in build_pages(site).items():
            signals = extract_signals(built.page.body, f"http://x.onion{path}", config=config)
            text = f"{signals.title}\n{signals.text}"
            for name, watchlist in (("darkcrawl", darkcrawl), ("baseline", baseline)):
                for hit in watchlist.find(text):
                    judged = JUDGED.get((site, path, str(hit["term"])))
                    fixture[name].append({"site": site, "path": path, "term": hit["term"], "true": judged})
    for name, hits in fixture.items():
        judged = [hit for hit in hits if hit["true"] is not None]
        report[f"fixture_{name}"] = {
            "hits": len(hits), "unjudged": len(hits) - len(judged),
            "precision": round(sum(bool(hit["true"]) for hit in judged) / len(judged), 3) if judged else None,
            "list": hits,
        }

    # market sentences: recall (a hit of the expected term's category counts: "Pistolen" may report the Dutch
    # "pistool" as well as the German "pistole", both weapons)
    category = {term.term: term.category for term in darkcrawl.terms}
    for name, watchlist in (("darkcrawl", darkcrawl), ("baseline", baseline)):
        found = [category[term] in {hit["category"] for hit in watchlist.find(text)} for text, term in MARKET]
        report[f"market_recall_{name}"] = {"sentences": len(MARKET), "found": sum(found),
                                           "missed": [MARKET[i][0] for i, ok in enumerate(found) if not ok]}

    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    print("non-market text (manual pages): documents with a hit (all false positives)")
    for language, figures in report["non_market_darkcrawl"].items():  # type: ignore[union-attr]
        base = report["non_market_baseline"][language]  # type: ignore[index]
        print(f"  {language}: {figures['documents']} documents, {figures['megabytes']} MB: darkcrawl "
              f"{figures['documents_with_hits']} ({figures['false_positive_rate']:.1%}), baseline "
              f"{base['documents_with_hits']} ({base['false_positive_rate']:.1%}); darkcrawl's terms "
              f"{figures['terms']}; baseline's {base['terms']}; {figures['cpu_ms_per_document']} ms/doc "
              f"(baseline {base['cpu_ms_per_document']})")
    for name in ("darkcrawl", "baseline"):
        figures = report[f"fixture_{name}"]
        print(f"fixture sites, {name}: {figures['hits']} hits, precision {figures['precision']} "  # type: ignore[index]
              f"({figures['unjudged']} unjudged)")  # type: ignore[index]
        for hit in figures["list"]:  # type: ignore[index]
            print(f"    {hit['site']}{hit['path']}: {hit['term']} ({'ok' if hit['true'] else hit['true']})")
    for name in ("darkcrawl", "baseline"):
        figures = report[f"market_recall_{name}"]
        print(f"market sentences, {name}: {figures['found']}/{figures['sentences']} found; "  # type: ignore[index]
              f"missed: {figures['missed']}")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())
