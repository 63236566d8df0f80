"""Entities of a page document and the normalisation a typed value shares with the indexing stage."""

from __future__ import annotations

from crawler.es.schema import entity_id
from crawler.sink.entities import (
    CRYPTO,
    EMAIL,
    HANDLE,
    ONION,
    PGP,
    VENDOR,
    Entity,
    candidates,
    normalise,
    page_entities,
    sighting_document,
    sighting_id,
)  # fmt: skip

ONION_A = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
ONION_B = "sp3k262uwy4r2k3ycr5awluarykdpag6a7y33jxop4cs2lu5uz5sseqd.onion"
BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
FINGERPRINT = "6E2D8D5C9B9E2F1A0C3B7A4D5E6F708192A3B4C5"


def test_values_are_normalised_as_extraction_writes_them():
    assert normalise(PGP, "6e2d 8d5c 9b9e 2f1a 0c3b  7a4d 5e6f 7081 92a3 b4c5") == FINGERPRINT
    assert normalise(PGP, "0x" + FINGERPRINT.lower()) == FINGERPRINT
    assert normalise(PGP, FINGERPRINT[:-1]) is None
    assert normalise(CRYPTO, BTC.upper()) == BTC  # Bech32 is case-insensitive
    assert normalise(CRYPTO, ETH) == ETH.lower() == normalise(CRYPTO, ETH.lower())
    assert normalise(CRYPTO, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2") == "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
    assert normalise(CRYPTO, "1bvbmseystwetqtfn5au4m4gfg7xjanvn2") is None  # Base58: the case is the address
    assert normalise(EMAIL, " NightOwl@Example.ORG ") == "nightowl@example.org"
    assert normalise(HANDLE, "Telegram:@NightOwl_Shop") == "telegram:nightowl_shop"
    assert normalise(HANDLE, "myspace:x") is None
    assert normalise(VENDOR, "  Night   OWL ") == "night owl"
    assert normalise(ONION, f"http://{ONION_A.upper()}/x") == ONION_A


def test_candidates_of_a_typed_value():
    assert candidates(BTC.upper())[0] == (CRYPTO, BTC)
    assert (PGP, FINGERPRINT) in candidates(FINGERPRINT.lower())
    kinds = dict(candidates("nightowl@example.org"))
    assert kinds[EMAIL] == "nightowl@example.org"
    assert (HANDLE, "xmpp:nightowl@example.org") in candidates("nightowl@example.org")
    assert candidates("telegram:NightOwl") == [(HANDLE, "telegram:nightowl"), (VENDOR, "telegram:nightowl")]
    assert (VENDOR, "night owl") in candidates("Night Owl")
    assert candidates("   ") == []


def test_page_entities_one_each_and_not_the_pages_own_onion():
    document = {
        "url": f"http://{ONION_A}/x", "site": ONION_A, "crawl_id": "c",
        "signals": {
            "crypto_addresses": [{"currency": "ETH", "address": ETH, "kind": "eip55", "ambiguous_with": []},
                                 {"currency": "ETH", "address": ETH.lower(), "kind": "eth_unchecked"}],
            "pgp_keys": [{"fingerprint": FINGERPRINT, "key_id": FINGERPRINT[-16:], "bits": None}],
            "emails": ["a@example.org"], "handles": [{"network": "telegram", "handle": "nightowl"}],
            "vendors": [{"name": "Night Owl", "source": "rule:x"}, {"name": "NIGHT OWL", "source": "heuristic:v"}],
            "onions": [ONION_A, ONION_B],
        },
    }
    found = page_entities(document)
    assert [(entity.kind, entity.value) for entity in found] == [
        (CRYPTO, ETH.lower()), (PGP, FINGERPRINT), (EMAIL, "a@example.org"), (HANDLE, "telegram:nightowl"),
        (VENDOR, "night owl"), (ONION, ONION_B),
    ]
    assert found[0].label == ETH and found[0].attributes == {"currency": "ETH", "address_type": "eip55"}
    assert found[1].attributes == {"key_id": FINGERPRINT[-16:]}  # empty values dropped
    assert page_entities({"url": "u", "site": "s"}) == []


def test_ids_and_sighting_document():
    entity = Entity(PGP, FINGERPRINT)
    assert entity.id == entity_id(PGP, FINGERPRINT)
    assert sighting_id(entity.id, "p1") != sighting_id(entity.id, "p2")
    sighting = sighting_document(entity, {"url": "http://x.onion/", "site": "x.onion", "crawl_id": "c"}, "2026-11-29")
    assert sighting["entity_id"] == entity.id and sighting["last_seen"] == "2026-11-29" and "first_seen" not in sighting
