"""Clone watches on the lab's market and its phishing clone: SimHash within N bits of a watched page on another
site, with the payment addresses that differ named."""

from __future__ import annotations

import pytest

from crawler.errors import UsageError
from crawler.lab.sites import placeholder_onion
from crawler.watch.clone import (
    DEFAULT_MAX_DISTANCE,
    CloneReferences,
    clone_fingerprint,
    clone_spec,
    references_query,
)
from crawler.watch.matchers import WatchSet
from crawler.watch.model import CLONE
from tests.unit.watch_support import lab_docs, page_doc, watch

MARKET = placeholder_onion("market")
PHISHING = placeholder_onion("phishing")


@pytest.fixture(scope="module")
def references():
    references = CloneReferences([MARKET])
    for document in lab_docs("market").values():
        references.add(document)
    return references


def addresses(document):
    return {address["address"] for address in document["signals"]["crypto_addresses"]}


def test_the_phishing_clone_is_found_with_its_own_payment_addresses(references):
    clone_watch = watch(CLONE, clone_spec(MARKET))
    watch_set = WatchSet.compile([clone_watch], references)
    fired = {doc["url"]: watch_set.evaluate(doc) for doc in lab_docs("phishing").values()}
    fired = {url: found[0] for url, found in fired.items() if found}
    assert len(fired) >= 25  # most copied pages are within 8 bits (docs/watch.md), among them the payment page
    payment = fired[f"http://{PHISHING}/payment"].clone
    assert len(payment["addresses"]["this"]) == len(payment["addresses"]["watched"]) == 5
    product = fired[f"http://{PHISHING}/product/110"]
    clone = product.clone
    assert clone["of_site"] == MARKET and clone["of_url"] == f"http://{MARKET}/product/110"
    watched_doc, this_doc = lab_docs("market")["/product/110"], lab_docs("phishing")["/product/110"]
    assert clone["distance"] == (clone_fingerprint(this_doc) ^ clone_fingerprint(watched_doc)).bit_count()
    assert clone["distance"] <= DEFAULT_MAX_DISTANCE
    assert set(clone["addresses"]["this"]) == addresses(this_doc) - addresses(watched_doc) != set()
    assert set(clone["addresses"]["watched"]) == addresses(watched_doc) - addresses(this_doc) != set()
    assert product.matches[0]["value"] == clone["of_url"]
    swapped = [m for m in product.matches[1:]]
    assert [m["value"] for m in swapped] == clone["addresses"]["this"]
    assert all(m["entity_kind"] == "crypto_address" and m["context"] for m in swapped)


def test_distance_bound_is_the_watchs(references):
    strict, loose = watch(CLONE, clone_spec(MARKET, 0)), watch(CLONE, clone_spec(MARKET, 16))
    watch_set = WatchSet.compile([strict, loose], references)
    counts = {strict.id: 0, loose.id: 0}
    for document in lab_docs("phishing").values():
        for match in watch_set.evaluate(document):
            counts[match.watch.id] += 1
            assert match.clone["distance"] <= match.watch.spec["max_distance"]
    assert counts[strict.id] == 0 and counts[loose.id] > 20


def test_the_watched_site_itself_and_unrelated_sites_do_not_fire(references):
    watch_set = WatchSet.compile([watch(CLONE, clone_spec(MARKET))], references)
    for site in ("market", "forum", "paste", "directory"):
        assert all(watch_set.evaluate(document) == [] for document in lab_docs(site).values()), site


def test_short_pages_take_no_part():
    references = CloneReferences([MARKET])
    short = "<p>Page not found. Go back to the home page.</p>"
    assert not references.add(page_doc(short, f"http://{MARKET}/missing"))
    clone_watch = watch(CLONE, clone_spec(MARKET))
    assert WatchSet.compile([clone_watch], references).evaluate(page_doc(short, f"http://{PHISHING}/x")) == []


def test_references_grow_as_the_crawl_meets_the_watched_site():
    """Without loaded references, the watched site's pages met later still count."""
    clone_watch = watch(CLONE, clone_spec(MARKET))
    watch_set = WatchSet.compile([clone_watch])
    watch_set.evaluate(lab_docs("market")["/product/110"])
    found = watch_set.evaluate(lab_docs("phishing")["/product/110"])
    assert [match.watch.id for match in found] == [clone_watch.id]


@pytest.mark.parametrize(("site", "distance"), [("example.com", 3), (MARKET, 17), (MARKET, -1)])
def test_bad_specs_are_refused(site, distance):
    with pytest.raises(UsageError):
        clone_spec(site, distance)


def test_spec_takes_a_url():
    assert clone_spec(f"http://{MARKET.upper()}/listings")["site"] == MARKET


def test_references_query_reads_only_what_comparison_needs():
    query = references_query([MARKET, MARKET])
    assert query["query"] == {"terms": {"site": [MARKET]}}
    assert "text" in query["_source"] and "html" not in query["_source"] and "signals.crypto_addresses.address" in (
        query["_source"])


def test_the_fingerprint_leaves_out_what_a_clone_swaps():
    """Two copies of a page differing only in the payment address, the contact and the onion: the same fingerprint,
    where their plain SimHashes differ."""
    body = ("<p>" + "Welcome to the shop, our products are listed below with their prices and shipping. " * 6 +
            "Pay to {btc} and write to {mail} or visit http://{onion}/ for support.</p>")
    first = page_doc(body.format(btc="bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", mail="shop@example.org",
                                 onion=MARKET), f"http://{MARKET}/")
    second = page_doc(body.format(btc="1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", mail="scam@example.net",
                                  onion=PHISHING), f"http://{PHISHING}/")
    assert first["signals"]["simhash"] != second["signals"]["simhash"]
    assert clone_fingerprint(first) == clone_fingerprint(second) is not None


def test_a_page_with_nothing_to_take_out_keeps_extractions_simhash():
    from pipelines.extract.simhash import simhash

    document = page_doc("<p>" + "Plain prose about gardening, seeds and the weather in spring. " * 8 + "</p>",
                        f"http://{PHISHING}/garden")
    assert clone_fingerprint(document) == int(simhash(document["text"]), 16) == int(document["signals"]["simhash"], 16)
