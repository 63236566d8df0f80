"""darkcrawl pivot's pure part: readings of a typed value, the shape of the answer, its text form."""

from __future__ import annotations

from crawler.es.schema import entity_id
from crawler.pivot import format_pivot, pivot_ids, pivot_result, sightings_query

FINGERPRINT = "6E2D8D5C9B9E2F1A0C3B7A4D5E6F708192A3B4C5"


def test_readings_of_a_fingerprint_with_spaces_and_with_a_kind():
    readings = pivot_ids("6e2d 8d5c 9b9e 2f1a 0c3b 7a4d 5e6f 7081 92a3 b4c5")
    assert readings[entity_id("pgp_fingerprint", FINGERPRINT)] == ("pgp_fingerprint", FINGERPRINT)
    assert pivot_ids("Night Owl", kind="vendor") == {entity_id("vendor", "night owl"): ("vendor", "night owl")}
    assert pivot_ids("not an address", kind="crypto_address") == {}


D20, D22 = {"value_as_string": "2026-11-20T00:00:00.000Z"}, {"value_as_string": "2026-11-22T00:00:00.000Z"}


def test_answer_and_text():
    readings = pivot_ids(FINGERPRINT, kind="pgp_fingerprint")
    [key] = readings
    response = {
        "hits": {"hits": [
            {"_source": {"entity_id": key, "url": "http://a.onion/2", "site": "a.onion",
                         "first_seen": "2026-11-21T00:00:00.000Z", "last_seen": "2026-11-22T00:00:00.000Z"}},
            {"_source": {"entity_id": key, "url": "http://a.onion/1", "site": "a.onion",
                         "first_seen": "2026-11-20T00:00:00.000Z", "last_seen": "2026-11-20T00:00:00.000Z"}},
        ]},
        "aggregations": {"entities": {"buckets": [{
            "key": key, "doc_count": 3,
            "first": D20, "last": D22,
            "sites": {"buckets": [{"key": "a.onion", "doc_count": 3, "first": D20, "last": D22}]},
        }]}},
    }  # fmt: skip
    result = pivot_result(FINGERPRINT, readings, response, {key: {"label": FINGERPRINT, "attributes": {"bits": 4096}}})
    [entity] = result["entities"]
    assert entity["counts"] == {"pages": 3, "sites": 1} and entity["pages"][0]["url"] == "http://a.onion/2"
    text = format_pivot(result)
    assert "seen on 3 page(s) of 1 site(s), first 2026-11-20 00:00, last 2026-11-22 00:00" in text
    assert "... 1 more" in text and "(bits 4096)" in text
    assert format_pivot({"query": "x", "entities": []}) == "no sighting of 'x' in the index"
    assert sightings_query([key], 5)["size"] == 5


def test_spellings_analysts_paste_are_read_as_the_value():
    from crawler.sink.entities import candidates, key_id, typed_value

    assert typed_value("mailto:Owl@Example.org?subject=x") == "Owl@Example.org"
    assert ("email", "owl@example.org") in candidates("mailto:Owl@Example.org?subject=x")
    assert candidates("https://t.me/NightOwl_Shop")[0] == ("handle", "telegram:nightowl_shop")
    assert ("handle", "telegram:nightowl_shop") in candidates("t.me/s/nightowl_shop/")
    assert ("handle", "xmpp:owl@jabber.example") in candidates("xmpp:owl@jabber.example?message")
    assert candidates('"Night  Owl"') == [("vendor", "night owl")]
    assert candidates("\u201cNight Owl\u201d") == [("vendor", "night owl")]
    assert candidates("'unbalanced")[-1] == ("vendor", "'unbalanced")  # one quote is part of the name
    assert key_id("0x92a3b4c5") == "92A3B4C5" and key_id("5E6F 7081 92A3 B4C5") == "5E6F708192A3B4C5"
    assert key_id(FINGERPRINT) is None and key_id("92A3B4C") is None and key_id("not hex!") is None


def test_a_key_id_keeps_only_the_fingerprints_it_is_the_key_id_of():
    from crawler.pivot import key_id_query, key_id_readings

    v6 = "AB" * 32
    hits = [{"_source": {"value": value}} for value in (FINGERPRINT, v6, "0" * 24 + FINGERPRINT[-16:] + "0" * 24)]
    response = {"hits": {"hits": hits}}
    assert key_id_readings(FINGERPRINT[-8:], response) == {entity_id("pgp_fingerprint", FINGERPRINT):
                                                           ("pgp_fingerprint", FINGERPRINT)}
    assert key_id_readings(FINGERPRINT[-16:], response) == {entity_id("pgp_fingerprint", FINGERPRINT):
                                                            ("pgp_fingerprint", FINGERPRINT)}
    assert list(key_id_readings(v6[:16], response).values()) == [("pgp_fingerprint", v6)]
    assert key_id_query("92A3B4C5")["query"]["bool"]["filter"] == [{"term": {"kind": "pgp_fingerprint"}}]


def test_watchlist_categories_count_terms_per_language(tmp_path):
    from crawler.cli.watchlist import categories
    from pipelines.extract.keywords import load_watchlists

    path = tmp_path / "w.yaml"
    path.write_text("- {terms: [faux passeport, carte d'identité], category: counterfeit documents, language: fr}\n"
                    "- {term: vals paspoort, category: counterfeit documents, language: nl}\n"
                    "- {term: cvv, category: fraud}\n")
    assert categories(load_watchlists([path])) == [
        {"category": "counterfeit documents", "terms": 3, "languages": {"fr": 2, "nl": 1}},
        {"category": "fraud", "terms": 1, "languages": {"any": 1}},
    ]
