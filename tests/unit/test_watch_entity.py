"""Entity watches: a value typed in any spelling pivot accepts, compared exactly with the page's signals."""

from __future__ import annotations

import pytest

from crawler.errors import UsageError
from crawler.lab.sites import placeholder_onion
from crawler.watch.entity import PGP_KEY_ID, entity_spec
from crawler.watch.matchers import WatchSet
from crawler.watch.model import ENTITY
from tests.unit.watch_support import lab_docs, page_doc, watch

ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
MIRROR = placeholder_onion("forum")
HOST = placeholder_onion("phishing")
PAGE = (f"<p>Pay {ETH} or {BTC}. Contact Telegram: @NightOwl_Shop or mail NightOwl@Protonmail.com. "
        f"Mirror: http://{MIRROR}/</p>")
STAFF_FINGERPRINT = "1AF01427702692921CA9A61D6EF40112DD9A2FAA"  # the lab market's staff key (/pgp)


@pytest.fixture(scope="module")
def page():
    return page_doc(PAGE, f"http://{HOST}/contact")


@pytest.mark.parametrize(("typed", "kind", "expected"), [
    (ETH.lower(), None, ("crypto_address", ETH.lower())),
    (ETH.upper().replace("0X", "0x"), None, ("crypto_address", ETH.lower())),
    (BTC.upper(), None, ("crypto_address", BTC)),
    ("1af0 1427 7026 9292 1ca9  a61d 6ef4 0112 dd9a 2faa", None, ("pgp_fingerprint", STAFF_FINGERPRINT)),
    ("0x6EF40112DD9A2FAA", None, (PGP_KEY_ID, "6EF40112DD9A2FAA")),
    ("6ef4 0112 dd9a 2faa", "pgp_key_id", (PGP_KEY_ID, "6EF40112DD9A2FAA")),
    ("0xDD9A2FAA", None, (PGP_KEY_ID, "DD9A2FAA")),
    ("DD9A2FA", "pgp_key_id", None),
    ("NightOwl@ProtonMail.com", None, ("email", "nightowl@protonmail.com")),
    ("telegram:@NightOwl_Shop", None, ("handle", "telegram:nightowl_shop")),
    ("https://t.me/NightOwl_Shop", None, ("handle", "telegram:nightowl_shop")),
    ("mailto:NightOwl@ProtonMail.com?subject=order", None, ("email", "nightowl@protonmail.com")),
    ("NightOwl_Shop", "handle", None),  # a handle needs its network
    ("  Night   Owl ", "vendor", ("vendor", "night owl")),
    (f"http://{MIRROR.upper()}/forum", None, ("onion", MIRROR)),
])
def test_every_spelling_pivot_accepts(typed, kind, expected):
    if expected is None:
        with pytest.raises(UsageError):
            entity_spec(typed, kind)
        return
    spec = entity_spec(typed, kind)
    assert (spec["entity_kind"], spec["value"]) == expected


def test_a_bare_name_is_ambiguous():
    with pytest.raises(UsageError, match="--entity-kind"):
        entity_spec("NightOwl")


def test_not_a_value_is_refused():
    with pytest.raises(UsageError, match="not a value darkcrawl extracts"):
        entity_spec("   ")


@pytest.mark.parametrize(("typed", "kind"), [
    (ETH.lower(), None), (BTC, None), ("nightowl@protonmail.com", None), ("telegram:nightowl_shop", None),
    (MIRROR, None),
])
def test_entity_watches_fire_on_the_signal(page, typed, kind):
    entity_watch = watch(ENTITY, entity_spec(typed, kind))
    found = WatchSet.compile([entity_watch]).evaluate(page)
    assert [m.watch.id for m in found] == [entity_watch.id]
    match = found[0].matches[0]
    assert match["entity_kind"] == entity_watch.spec["entity_kind"] and match["value"] == entity_watch.spec["value"]
    assert match["context"]


def test_address_context_is_extractions(page):
    entity_watch = watch(ENTITY, entity_spec(BTC))
    match = WatchSet.compile([entity_watch]).evaluate(page)[0].matches[0]
    assert BTC in match["context"] and "Contact Telegram" in match["context"]


def test_exact_values_only(page):
    """Another address, a value only written in the text (not a signal), the page's own onion: no fire."""
    others = [
        watch(ENTITY, entity_spec("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")),
        watch(ENTITY, entity_spec("Mirror", "vendor")),  # in the text, but no vendor signal
        watch(ENTITY, entity_spec("Pay", "vendor")),
        watch(ENTITY, entity_spec(HOST)),  # a page never "mentions" its own site
    ]
    assert WatchSet.compile(others).evaluate(page) == []


def test_vendor_watch_fires_on_the_vendor_signal():
    forum_page = lab_docs("forum")["/board/general"]
    vendor = watch(ENTITY, entity_spec("NIGHTOWL", "vendor"))
    found = WatchSet.compile([vendor]).evaluate(forum_page)
    assert [m.matches[0]["value"] for m in found] == ["nightowl"]


def test_pgp_fingerprint_and_key_id_fire_on_the_key_block():
    pgp_page = lab_docs("market")["/pgp"]
    by_fingerprint = watch(ENTITY, entity_spec(STAFF_FINGERPRINT.lower()))
    by_key_id = watch(ENTITY, entity_spec("6EF4 0112 DD9A 2FAA"))
    by_short_id = watch(ENTITY, entity_spec("0xdd9a2faa"))
    wrong_key_id = watch(ENTITY, entity_spec("0x0000000000000001"))
    v6_style = watch(ENTITY, entity_spec(STAFF_FINGERPRINT[:16]))  # the start of a v4 fingerprint is no key id
    watches = [by_fingerprint, by_key_id, by_short_id, wrong_key_id, v6_style]
    found = {m.watch.id: m for m in WatchSet.compile(watches).evaluate(pgp_page)}
    assert set(found) == {by_fingerprint.id, by_key_id.id, by_short_id.id}
    assert found[by_key_id.id].matches[0]["value"] == STAFF_FINGERPRINT
    assert "staff@nocturne.example.org" in found[by_key_id.id].matches[0]["context"]


def test_a_thousand_entity_watches_fire_exactly(page):
    watches = [watch(ENTITY, {"entity_kind": "email", "value": f"user{i}@example.org"}) for i in range(1000)]
    watches.append(watch(ENTITY, entity_spec(ETH)))
    found = WatchSet.compile(watches).evaluate(page)
    assert [m.watch.id for m in found] == [watches[-1].id]
