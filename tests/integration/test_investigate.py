"""The investigation commands on the real node, through the real CLI: ``profile`` (what was seen with a value),
``entities --min-sites`` (what links sites), and ``pivot`` taking the spellings analysts paste (a key id, a
``t.me/`` link, ``mailto:``, a quoted vendor name)."""

from __future__ import annotations

import json

import pytest

from tests.integration.test_entities import (
    BTC,
    ETH,
    FINGERPRINT,
    SITE_A,
    SITE_B,
    index_all,
    make_sink,
    page,
    run_cli,
)

pytestmark = pytest.mark.integration

SITE_C = "xa4r2iadxm55fbnqgwwi5mymqdcofiu3w6rpbtqn7b2dyn7mgwj64jyd.onion"
LONE = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"


@pytest.fixture
async def indexed(es_node, es_names, tmp_path):
    """Sites A and B share the vendor's address and handle; A alone shows its key and an e-mail; C shows the
    address on a page of its own, without the vendor; a lone address is on one page of C."""
    sink, _counts = make_sink(es_node, es_names, tmp_path)
    documents = [page(SITE_A, n, f"2026-11-2{n}T10:00:00.000Z") for n in range(3)]
    documents[0]["signals"]["emails"] = ["owl@example.org"]
    documents.append(page(SITE_B, 7, "2026-11-26T10:00:00.000Z", keys=()))
    documents.append(page(SITE_C, 1, "2026-11-27T10:00:00.000Z", addresses=(BTC, LONE), keys=()))
    documents[-1]["signals"].update(vendors=[], handles=[])
    documents.append(page(SITE_C, 2, "2026-11-27T11:00:00.000Z", addresses=(ETH,), keys=()))
    documents[-1]["signals"].update(vendors=[], handles=[], onions=[])
    try:
        await index_all(sink, documents)
    finally:
        await sink.client.close()
    return documents


def answer(es_node, es_names, *args: str) -> dict:
    result = run_cli(es_node, es_names.prefix, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_profile_of_a_vendor_names_what_goes_with_it(es_node, es_names, indexed):
    profile = answer(es_node, es_names, "profile", '"Night Owl"')
    [vendor] = profile["entities"]
    assert (vendor["kind"], vendor["value"]) == ("vendor", "night owl")
    assert vendor["counts"] == {"pages": 4, "sites": 2}
    seen_with = profile["seen_with"]
    [address] = seen_with["crypto_address"]
    assert address["value"] == BTC and address["shared_pages"] == 4 and address["shared_sites"] == 2
    assert [key["value"] for key in seen_with["pgp_fingerprint"]] == [FINGERPRINT]
    assert seen_with["pgp_fingerprint"][0]["shared_pages"] == 3
    assert [e["value"] for e in seen_with["email"]] == ["owl@example.org"]
    assert [h["value"] for h in seen_with["handle"]] == ["telegram:nightowl_shop"]
    # the lone address and ETH were never on a page with the vendor
    assert LONE not in json.dumps(seen_with) and ETH.lower() not in json.dumps(seen_with)

    text = run_cli(es_node, es_names.prefix, "profile", "Night Owl").stdout
    assert "seen with it on the same pages:" in text and f"{BTC}  4 page(s), 2 site(s)" in text


def test_profile_of_an_address_and_of_nothing(es_node, es_names, indexed):
    profile = answer(es_node, es_names, "profile", LONE)
    [entity] = profile["entities"]
    assert entity["counts"] == {"pages": 1, "sites": 1}
    assert [a["value"] for a in profile["seen_with"]["crypto_address"]] == [BTC]
    assert "vendor" not in profile["seen_with"]
    assert answer(es_node, es_names, "profile", "nobody@example.org") == {
        "query": "nobody@example.org", "entities": [], "seen_with": {}}


def test_entities_seen_on_several_sites(es_node, es_names, indexed):
    shared = answer(es_node, es_names, "entities", "--min-sites", "2")
    values = [(entity["kind"], entity["value"]) for entity in shared["entities"]]
    assert values[0] == ("crypto_address", BTC) and shared["entities"][0]["counts"]["sites"] == 3
    assert set(values) == {("crypto_address", BTC), ("vendor", "night owl"), ("handle", "telegram:nightowl_shop"),
                           ("onion", SITE_A), ("onion", SITE_B)}
    assert shared["total"] == 5
    only = answer(es_node, es_names, "entities", "--min-sites", "3", "--kind", "crypto_address")
    assert [entity["value"] for entity in only["entities"]] == [BTC]
    limited = answer(es_node, es_names, "entities", "-n", "1")
    assert len(limited["entities"]) == 1 and limited["total"] == 5
    text = run_cli(es_node, es_names.prefix, "entities", "--min-sites", "9").stdout
    assert text.strip() == "no entity seen on 9 or more sites"


@pytest.mark.parametrize("spelling, kind, value", [
    ("0x" + FINGERPRINT[-8:].lower(), "pgp_fingerprint", FINGERPRINT),  # short key id
    (" ".join([FINGERPRINT[-16:-8], FINGERPRINT[-8:]]), "pgp_fingerprint", FINGERPRINT),  # long key id, spaced
    ("https://t.me/NightOwl_Shop", "handle", "telegram:nightowl_shop"),
    ("mailto:Owl@Example.org?subject=order", "email", "owl@example.org"),
    ("\u201cNight  Owl\u201d", "vendor", "night owl"),
])  # fmt: skip
def test_pivot_takes_the_spellings_analysts_paste(es_node, es_names, indexed, spelling, kind, value):
    found = answer(es_node, es_names, "pivot", spelling)
    assert (kind, value) in [(entity["kind"], entity["value"]) for entity in found["entities"]]


def test_a_key_id_that_names_no_key_finds_nothing(es_node, es_names, indexed):
    assert answer(es_node, es_names, "pivot", "0xDEADBEEF", "--kind", "pgp_fingerprint")["entities"] == []
    result = run_cli(es_node, es_names.prefix, "pivot", "not a key", "--kind", "pgp_fingerprint")
    assert result.returncode == 2 and "key id" in result.stderr
