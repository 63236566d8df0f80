"""The facade: the JSON contract, HTML vs text, and that no input makes extraction raise."""

from __future__ import annotations

import hashlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.extract import SIGNAL_KEYS, ExtractionConfig, default_config, extract_signals
from pipelines.extract.signals import STAGES
from tests.vectors import load_vectors

ONION = load_vectors("onion")["valid"][0]
OTHER_ONION = load_vectors("onion")["valid"][1]
BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"  # BIP-173 example
PAGE = f"""<!DOCTYPE html><html><head><title>Green Leaf - product</title>
<meta name="generator" content="SomeMarket 2.0"></head><body>
<h1>Premium hashish 10g</h1>
<p>Sold by GreenLeaf. Stealth shipping worldwide, vacuum sealed. Pay to {BTC} only.</p>
<p>Backup: {OTHER_ONION[:-6]}[.]onion - Jabber: green@jabber.example.org - mail green [at] cock [dot] li</p>
<pre>{load_vectors("pgp")["valid"][0]["armored"]}</pre>
<a href="/vendor/GreenLeaf">profile</a> <a href="http://{ONION}/listing/2">next</a>
<a href="https://clearnet.example/about">about</a>
<script>var tracker = "ignored@tracker.example";</script>
</body></html>"""


def test_contract_keys_types_and_json() -> None:
    signals = extract_signals(PAGE.encode(), f"http://{ONION}/listing/1")
    document = signals.to_dict()
    assert tuple(document) == SIGNAL_KEYS
    assert json.loads(json.dumps(document)) == document
    assert document["title"] == "Green Leaf - product"
    assert document["language"]["code"] == "en"
    assert [a["address"] for a in document["crypto_addresses"]] == [BTC]
    assert document["onions"] == [ONION, OTHER_ONION]
    assert [k["fingerprint"] for k in document["pgp_keys"]] == [
        load_vectors("pgp")["valid"][0]["expected"]["fingerprint"]
    ]
    assert document["emails"] == ["green@cock.li"]
    assert {"network": "xmpp", "handle": "green@jabber.example.org"} in document["handles"]
    assert document["vendors"][0] == {"name": "GreenLeaf", "source": "heuristic:sold by"}
    terms = {k["term"] for k in document["keywords"]}
    assert {"hashish", "stealth shipping", "vacuum sealed"} <= terms
    assert document["content_sha256"] == hashlib.sha256(signals.text.encode()).hexdigest()
    assert len(document["simhash"]) == 16
    assert document["text_length"] == len(signals.text)
    assert "ignored@tracker.example" not in signals.text
    assert document["links"] == {
        "onion": [f"http://{ONION}/vendor/GreenLeaf", f"http://{ONION}/listing/2"],
        "clearnet": ["https://clearnet.example/about"],
    }


def test_plain_text_is_not_parsed_as_html() -> None:
    text = f"paste: <b>not a tag</b> {BTC}"
    signals = extract_signals(text, content_type="text/plain")
    assert "<b>" in signals.text
    assert signals.links == {"onion": [], "clearnet": []}
    assert [a["address"] for a in signals.crypto_addresses] == [BTC]


def test_empty_document() -> None:
    document = extract_signals(b"").to_dict()
    assert document["language"] == {"code": "unknown", "probability": 0.0}
    assert document["text_length"] == 0
    assert document["content_sha256"] == hashlib.sha256(b"").hexdigest()


def test_config_is_built_once_and_timings_are_reported(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert default_config() is default_config()
    watch = tmp_path / "w.yaml"
    watch.write_text("- term: greenleaf\n  category: watched vendor\n", encoding="utf-8")
    config = ExtractionConfig.load(watchlists=[watch], language_sample=500)
    timings: dict[str, float] = {}
    signals = extract_signals(PAGE, config=config, timings=timings)
    assert signals.keywords == [{"term": "greenleaf", "category": "watched vendor", "count": 1}]
    assert set(timings) == set(STAGES) and all(value >= 0 for value in timings.values())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_never_raises_on_bytes(body: bytes) -> None:
    document = extract_signals(body, "http://x.example/").to_dict()
    assert tuple(document) == SIGNAL_KEYS
    assert document["onions"] == []


FRAGMENTS = [
    "<html>", "<body>", "<div>", "</div>", "<p", ">", "<a href='", "http://", ONION, "'>", "</a>", "<br>", "&amp;",
    "&#0;", "&#x110000;", "-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----END PGP PUBLIC KEY BLOCK-----", "mDMEXEcE6",
    "=iIGO", "Vendor:", "Sold by", "[at]", "[dot]", "t.me/", "Jabber:", "05", "<script>", "<!--", "\x00", "\ud800",
    "Kokain", "é", "onion", "[.]", BTC, "<meta charset='utf-16'>", "<base href='::'>",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=20), max_size=60))
def test_never_raises_on_broken_html(parts: list[str]) -> None:
    page = "".join(parts)
    signals = extract_signals(page, "http://x.example/a/b")
    json.dumps(signals.to_dict())
