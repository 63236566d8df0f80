"""``darkcrawl clones SITE``: the sites whose pages are near-copies of a site's pages (phishing clones, scam mirrors),
with the payment addresses that differ. The comparison is the clone watch's (:mod:`crawler.watch.clone`: SimHash of
the text with what a clone swaps taken out, within N bits); this asks it of everything indexed, once.

Offers :func:`find_clones` (the pages index -> the clone sites of one site) and :func:`format_clones`.
"""

from __future__ import annotations

from typing import Any

from crawler.pivot import short_date
from crawler.watch.clone import (
    REFERENCE_FIELDS,
    ReferencePage,
    _addresses,
    clone_fingerprint,
    closest,
    load_clone_references,
)

PAIRS_SHOWN = 5  # page pairs listed per clone site (the closest)


def find_clones(client: Any, names: Any, site: str, max_distance: int) -> dict[str, Any]:
    """Compare every indexed page of the other sites with the pages of *site* (one scroll each). Returns the
    answer for tools: per clone site, its pages within *max_distance* bits of a page of *site*, the closest pairs,
    and the crypto addresses shown only on its matching pages (``this``) or only on the pages they copy
    (``watched``)."""
    from elasticsearch.helpers import scan

    references = load_clone_references(client, names, [site])
    reference_pages = list(references.pages(site))
    clones: dict[str, dict[str, Any]] = {}
    compared = 0
    if reference_pages:
        query = {"query": {"bool": {"must_not": [{"term": {"site": site}}]}},
                 "_source": [*REFERENCE_FIELDS, "last_seen"]}
        for hit in scan(client, index=names.pages, query=query, size=500):
            page = hit["_source"]
            fingerprint = clone_fingerprint(page)
            if fingerprint is None:
                continue
            compared += 1
            best = closest(reference_pages, fingerprint, max_distance)
            if best is not None:
                _add_pair(clones, page, *best)
    found = sorted(clones.values(), key=lambda clone: (-clone["pages"], clone["closest"], clone["site"]))
    for clone in found:
        clone["pairs"] = sorted(clone["pairs"], key=lambda pair: (pair["distance"], pair["url"]))[:PAIRS_SHOWN]
        clone["addresses"] = {side: sorted(values) for side, values in clone["addresses"].items()}
    return {"site": site, "max_distance": max_distance, "reference_pages": len(reference_pages),
            "pages_compared": compared, "clones": found}


def _add_pair(clones: dict[str, dict[str, Any]], page: dict[str, Any], distance: int, reference: ReferencePage) -> None:
    clone = clones.setdefault(str(page.get("site")), {
        "site": page.get("site"), "pages": 0, "closest": distance, "last_seen": None, "pairs": [],
        "addresses": {"this": set(), "watched": set()},
    })
    addresses = _addresses(page)
    clone["pages"] += 1
    clone["closest"] = min(clone["closest"], distance)
    clone["last_seen"] = max(filter(None, [clone["last_seen"], page.get("last_seen")]), default=None)
    clone["pairs"].append({"url": page.get("url"), "copies": reference.url, "distance": distance})
    clone["addresses"]["this"] |= addresses - reference.addresses
    clone["addresses"]["watched"] |= reference.addresses - addresses


def format_clones(result: dict[str, Any]) -> str:
    """The clone sites for people: per site its matching pages, the closest pairs and the differing addresses."""
    if not result["reference_pages"]:
        return (f"no page of {result['site']} long enough to compare is indexed (crawl it first: darkcrawl crawl "
                f"http://{result['site']}/)")
    if not result["clones"]:
        return (f"no clone of {result['site']}: {result['pages_compared']} pages of other sites compared with its "
                f"{result['reference_pages']}, none within {result['max_distance']} bits")
    lines = [f"clones of {result['site']} ({result['pages_compared']} pages of other sites compared with its "
             f"{result['reference_pages']}, within {result['max_distance']} bits):"]
    for clone in result["clones"]:
        lines.append(f"  {clone['site']}  {clone['pages']} page(s) copied, closest {clone['closest']} bit(s), last "
                     f"seen {short_date(clone['last_seen'])}")
        for pair in clone["pairs"]:
            lines.append(f"    {pair['distance']:>2}  {pair['url']}  copies  {pair['copies']}")
        if clone["addresses"]["this"]:
            lines.append("    payment addresses only on the clone: " + ", ".join(clone["addresses"]["this"]))
        if clone["addresses"]["watched"]:
            lines.append("    replaced (only on the original): " + ", ".join(clone["addresses"]["watched"]))
    return "\n".join(lines)
