"""Extraction on every page of the lab's fixture sites, compared with their ground truth (crawler/lab/sites/truth.py),
which is written from the same constants that build the pages."""

from __future__ import annotations

import statistics
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.identity import is_valid_onion_v3
from crawler.lab.sites import SITE_NAMES, build_site, placeholder_onion
from crawler.lab.sites.truth import expected_signals
from pipelines.extract import extract_signals, hamming

PAGES = [(name, path) for name in SITE_NAMES for path in build_site(name).pages]


@cache
def extracted(name: str, path: str) -> dict[str, Any]:
    page = build_site(name).pages[path]
    url = f"http://{placeholder_onion(name)}{path}"
    return extract_signals(page.body, url, content_type=page.content_type).to_dict()


@cache
def truth(name: str) -> dict[str, dict[str, Any]]:
    return expected_signals(name)


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[f"{name}{path}" for name, path in PAGES])
def test_page_signals_match_ground_truth(name: str, path: str) -> None:
    got = extracted(name, path)
    expected = truth(name)[path]
    assert got["language"]["code"] == expected["language"]
    assert sorted((a["currency"], a["address"]) for a in got["crypto_addresses"]) == sorted(
        (a["currency"], a["address"]) for a in expected["crypto_addresses"]
    )
    assert [k["fingerprint"] for k in got["pgp_keys"]] == expected["pgp_fingerprints"]
    assert got["emails"] == expected["emails"]
    assert sorted((h["network"], h["handle"]) for h in got["handles"]) == sorted(
        (h["network"], h["handle"]) for h in expected["handles"]
    )
    assert sorted(got["onions"]) == sorted(expected["onions"])
    # links["onion"] holds every onion link, same-site ones too; the truth lists the links to other onions.
    assert set(expected["onion_links"]) <= set(got["links"]["onion"])
    assert all(is_valid_onion_v3(urlsplit(link).hostname or "") for link in got["links"]["onion"])
    names = {vendor["name"] for vendor in got["vendors"]}
    own_profile = path.rsplit("/", 1)[-1] if path.startswith(("/user/", "/vendor/")) else None
    assert set(expected["vendors"]) <= names
    assert names <= set(expected["vendors"]) | set(expected["authors"]) | {own_profile}


def test_market_vendors_come_from_the_shipped_rule() -> None:
    sources = {v["source"] for path in build_site("market").pages for v in extracted("market", path)["vendors"]}
    assert "rule:shadowstall" in sources
    assert not any(source.startswith("rule:") for v_path in build_site("forum").pages
                   for source in {v["source"] for v in extracted("forum", v_path)["vendors"]})  # fmt: skip


def test_phishing_clone_is_a_near_duplicate_of_the_market() -> None:
    shared = [path for path in build_site("market").pages if path in build_site("phishing").pages]
    assert len(shared) > 10
    clone = [hamming(extracted("market", p)["simhash"], extracted("phishing", p)["simhash"]) for p in shared]
    unrelated = [
        hamming(extracted("market", p)["simhash"], extracted(other, q)["simhash"])
        for p in shared
        for other in ("forum", "paste", "directory")
        for q in build_site(other).pages
    ]
    assert max(clone) < min(unrelated)
    assert statistics.median(clone) <= 8
    # Same pages, different payment addresses: the clone's content hashes differ where its addresses do.
    differing = [
        p for p in shared if extracted("market", p)["content_sha256"] != extracted("phishing", p)["content_sha256"]
    ]
    assert differing
