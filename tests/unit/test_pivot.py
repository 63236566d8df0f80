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
