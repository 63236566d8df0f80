"""Per-page caps on every signal kind (issue #13, item 5): at most ``max_per_kind`` values of each kind, the kinds
that reached it counted in ``signals.capped``; past the cap a value costs a key in a set, not its object."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import random
from pathlib import Path

import pytest

from crawler.errors import UsageError
from crawler.es.templates import CAPPED_KINDS, signals_mapping
from pipelines.extract import ExtractionConfig, default_config, extract_signals
from pipelines.extract.caps import Capped, Distinct
from pipelines.extract.crypto import finder
from tests.vectors import load_vectors

CAP = 5
MANY = 40
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "extract"


def onion(rng: random.Random) -> str:
    pubkey = rng.randbytes(32)
    checksum = hashlib.sha3_256(b".onion checksum" + pubkey + b"\x03").digest()[:2]
    return base64.b32encode(pubkey + checksum + b"\x03").decode().lower() + ".onion"


def crowded_page() -> str:
    """A page with MANY distinct values of every kind (two PGP keys)."""
    rng = random.Random(13)
    terms = ["cocaine", "fake passport", "cvv", "fullz", "mdma", "heroin", "ransomware"]
    rows = []
    for number in range(MANY):
        rows.append(
            f"<p>{onion(rng)} pay 0x{rng.randbytes(20).hex()} mail user{number}@example.com "
            f"<a href='https://t.me/handle_{number:03d}'>tg</a> <a href='http://shop.example/vendor/seller{number}'>v</a>"
            f" {terms[number % len(terms)]}</p>"
        )
    keys = "".join(f"<pre>{vector['armored']}</pre>" for vector in load_vectors("pgp")["valid"][:1])
    keys += "<pre>" + (FIXTURES / "rfc9580_v6_sample.asc").read_text() + "</pre>"
    return "<html><body>" + "".join(rows) + keys + "</body></html>"


def capped_config(cap: int) -> ExtractionConfig:
    return dataclasses.replace(default_config(), max_per_kind=cap)


def test_every_kind_is_capped_and_counted() -> None:
    page = crowded_page()
    full = extract_signals(page, content_type="text/html", config=capped_config(10_000)).to_dict()
    assert full["capped"] == {}
    capped = extract_signals(page, content_type="text/html", config=capped_config(CAP)).to_dict()
    assert set(capped["capped"]) == set(CAPPED_KINDS) - {"pgp_keys"}  # two keys only: see the next test
    for kind in ("crypto_addresses", "onions", "pgp_keys", "emails", "handles", "vendors", "keywords"):
        assert len(capped[kind]) == min(CAP, len(full[kind])), kind
        assert capped[kind] == full[kind][:CAP], kind  # the first values, in the same order
        assert capped["capped"].get(kind, 0) == max(0, len(full[kind]) - CAP), kind
    for group in ("onion", "clearnet"):
        assert capped["links"][group] == full["links"][group][:CAP]
    beyond_links = sum(max(0, len(full["links"][group]) - CAP) for group in ("onion", "clearnet"))
    assert capped["capped"]["links"] == beyond_links


def test_a_cap_of_one_keeps_the_first_pgp_key_and_counts_the_other() -> None:
    result = extract_signals(crowded_page(), content_type="text/html", config=capped_config(1)).to_dict()
    assert len(result["pgp_keys"]) == 1 and result["capped"]["pgp_keys"] == 1


def test_past_the_cap_no_context_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """The work stops at the cap: the page's 40 addresses are all validated (to be counted), 5 get a context."""
    calls = []
    original = finder._context
    monkeypatch.setattr(finder, "_context", lambda *args: calls.append(1) or original(*args))
    rng = random.Random(5)
    found = finder.find_crypto_addresses(" ".join(f"0x{rng.randbytes(20).hex()}" for _ in range(MANY)), limit=CAP)
    assert len(found) == CAP and found.beyond == MANY - CAP
    assert len(calls) == CAP


def test_the_mapping_knows_every_capped_kind() -> None:
    assert set(signals_mapping(False)["properties"]["capped"]["properties"]) == set(CAPPED_KINDS)


def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(UsageError, match="DARKCRAWL_EXTRACT_MAX_PER_KIND"):
        ExtractionConfig.load(max_per_kind=0)


def test_capped_and_distinct() -> None:
    values = Capped.of(range(7), 3)
    assert values == [0, 1, 2] and values.beyond == 4
    assert Capped.of(range(3), None).beyond == 0
    distinct: Distinct[str, str] = Distinct(2)
    for key in "abacdd":
        distinct.add(key, key.upper)
    assert distinct.result() == ["A", "B"] and distinct.result().beyond == 2


def test_a_page_of_150000_values_keeps_the_default_cap_of_each() -> None:
    """The issue's page: 150,000 entities (75,000 addresses and 75,000 e-mails, 4.6 MB) become 1,000 of each and
    two counts."""
    rng = random.Random(150)
    page = " ".join(f"0x{rng.randbytes(20).hex()} u{number}@example.com" for number in range(75_000))
    result = extract_signals(page, content_type="text/plain", config=default_config()).to_dict()
    assert len(result["crypto_addresses"]) == len(result["emails"]) == 1000
    assert result["capped"] == {"crypto_addresses": 74_000, "emails": 74_000}
    assert result["emails"][:2] == ["u0@example.com", "u1@example.com"]


def test_the_cap_travels_to_the_extraction_workers() -> None:
    """A crawl extracts in worker processes: the setting reaches them in the ConfigSpec."""
    from crawler.config import load_settings
    from pipelines.extract.pool import ExtractionPool
    from pipelines.extraction import spec_from_settings

    spec = spec_from_settings(load_settings(environ={"DARKCRAWL_EXTRACT_MAX_PER_KIND": "2"}))
    assert spec.max_per_kind == 2
    with ExtractionPool(spec, workers=1, timeout=60) as pool:
        outcome = pool.extract_blocking(b"a@x.com b@x.com c@x.com", None, "text/plain")
    assert outcome.status == "ok"
    assert outcome.signals.emails == ["a@x.com", "b@x.com"] and outcome.signals.capped == {"emails": 1}
