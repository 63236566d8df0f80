"""``darkcrawl clones SITE`` on the real node through the real CLI: a site whose pages copy the market's text with
its own payment addresses is named, with the addresses that differ; an unrelated site is not."""

from __future__ import annotations

import json

import pytest

from crawler.es.schema import index_names, init_schema
from crawler.sink.bulk import BulkConfig, PageSink
from tests.integration.test_entities import run_cli

pytestmark = pytest.mark.integration

MARKET = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
CLONE = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"
OTHER = "xa4r2iadxm55fbnqgwwi5mymqdcofiu3w6rpbtqn7b2dyn7mgwj64jyd.onion"
REAL, FAKE = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
LISTING = ("Premium listing number {n}: a full year of service on a fresh account, delivered inside an encrypted "
           "message within an hour of payment. Pay the escrow address {address} and keep the transaction id; "
           "support answers within a day, and replacement is free during the first month of use. Reviews: {n} "
           "buyers rated this vendor five stars for speed and discretion.")


def page(site: str, n: int, address: str | None, text: str | None = None) -> dict:
    body = text or LISTING.format(n=n, address=address)
    return {
        "url": f"http://{site}/product/{n}", "canonical_url": f"http://{site}/product/{n}", "site": site,
        "status": 200, "fetched_at": "2026-12-01T10:00:00.000Z", "crawl_id": "c1", "title": f"listing {n}",
        "text": body, "content_sha256": f"{hash(body) & (2**64 - 1):064x}",
        "signals": {"crypto_addresses": [{"currency": "BTC", "address": address, "kind": "p2pkh"}] if address else [],
                    "onions": [], "emails": [], "handles": []},
    }


@pytest.fixture
async def indexed(es_node, es_prefix, tmp_path):
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    sync = es_node.client()
    init_schema(sync, names, lambda message: None)
    client = es_node.async_client()
    sink = PageSink(client, names.pages, BulkConfig(100, 10**7, 60, 1, tmp_path / "dead.jsonl"), lambda k, n: None)
    unrelated = ("Ein Forum über Gartenbau: Tomaten, Gurken und Kürbisse im Hochbeet, Kompost und Mulch, Fragen zu "
                 "Schädlingen und zur Bewässerung im Sommer, dazu Fotos der Ernte und Tipps für den Winter im Garten.")
    try:
        for n in range(1, 4):
            await sink.add(page(MARKET, n, REAL))
            await sink.add(page(CLONE, n, FAKE))
            await sink.add(page(OTHER, n, None, f"{unrelated} Beitrag {n}."))
        await sink.flush()
    finally:
        await client.close()
    sync.indices.refresh(index=names.pages)
    sync.close()
    return names


def test_a_clone_is_named_with_the_addresses_it_swapped(es_node, indexed):
    result = run_cli(es_node, indexed.prefix, "clones", f"http://{MARKET}/", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["reference_pages"] == 3 and answer["pages_compared"] == 6
    [clone] = answer["clones"]
    assert clone["site"] == CLONE and clone["pages"] == 3 and clone["closest"] <= 8
    assert clone["addresses"] == {"this": [FAKE], "watched": [REAL]}
    assert {pair["url"].rsplit("/", 1)[1] for pair in clone["pairs"]} == {"1", "2", "3"}
    text = run_cli(es_node, indexed.prefix, "clones", MARKET).stdout
    assert f"{CLONE}  3 page(s) copied" in text and f"payment addresses only on the clone: {FAKE}" in text
    none = run_cli(es_node, indexed.prefix, "clones", OTHER).stdout
    assert none.startswith(f"no clone of {OTHER}")


def test_bad_site_is_one_line(es_node, indexed):
    result = run_cli(es_node, indexed.prefix, "clones", "not-an-onion")
    assert result.returncode == 2 and "is not a v3 onion" in result.stderr and "Traceback" not in result.stderr
