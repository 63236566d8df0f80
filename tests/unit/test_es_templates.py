"""The template builder in both shapes (with and without darkcrawl's analysis plugin), and its agreement
with the page item, the spider's headers and the extraction contract."""

from __future__ import annotations

import dataclasses

import pytest

from crawler.es.templates import (
    HEADER_FIELDS,
    KINDS,
    LANGUAGE_SUBFIELDS,
    SCHEMA_VERSION,
    SUBFIELD_ANALYZERS,
    index_template,
    mapped_fields,
    mappings_for,
    page_mappings,
)
from crawler.items import PageItem
from crawler.sink.documents import EXCLUDED_FIELDS

INDEXING_DATES = {"first_seen", "last_seen", "content_changed_at", "schema_version"}
INDEXING_FIELDS = INDEXING_DATES | {"version"}  # written by the indexing stage, not the spider
SIGNALS_CONTRACT = {
    "language", "crypto_addresses", "onions", "pgp_keys", "emails", "handles", "vendors", "keywords",
    "content_sha256", "simhash", "title", "text_length", "links", "capped",
}


def test_every_page_item_field_but_html_is_mapped_and_nothing_else():
    item_fields = {field.name for field in dataclasses.fields(PageItem)} - EXCLUDED_FIELDS
    mapped = set(page_mappings()["properties"])
    assert "html" not in mapped
    assert mapped == item_fields | INDEXING_FIELDS


def test_the_spiders_headers_of_interest_are_all_mapped():
    from spiders.onion import HEADERS_OF_INTEREST

    assert set(HEADERS_OF_INTEREST) == set(HEADER_FIELDS)
    assert set(page_mappings()["properties"]["headers"]["properties"]) == set(HEADER_FIELDS)


def test_signals_object_follows_the_extraction_contract():
    signals = page_mappings()["properties"]["signals"]["properties"]
    assert set(signals) == SIGNALS_CONTRACT
    assert signals["keywords"]["type"] == "nested"  # term and category must stay paired
    nested = [path for path, kind in mapped_fields(page_mappings()).items() if kind == "nested"]
    assert nested == ["signals.keywords"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_index_is_strict(kind):
    assert mappings_for(kind)["dynamic"] == "strict"


def test_identifiers_are_keywords_and_dates_are_dates():
    fields = mapped_fields(page_mappings())
    for path in ("url", "site", "content_sha256", "signals.crypto_addresses.address", "signals.pgp_keys.fingerprint",
                 "signals.onions", "signals.emails", "signals.simhash", "links_onion"):
        assert fields[path] == "keyword", path
    for path in ("fetched_at", "first_seen", "last_seen", "content_changed_at", "signals.pgp_keys.created"):
        assert fields[path] == "date", path
    assert fields["title.keyword"] == "keyword"
    assert fields["signals.vendors.name.keyword"] == "keyword"


def test_without_the_plugin_text_uses_the_standard_analyzer_only():
    mapping = page_mappings(language_analyzers=False)
    text = mapping["properties"]["text"]
    assert text == {"type": "text"}
    assert set(mapping["properties"]["title"]["fields"]) == {"keyword"}
    assert not any("analyzer" in str(spec) for spec in mapping["properties"].values())
    assert mapping["_meta"]["language_analyzers"] is False


def test_with_the_plugin_text_has_one_subfield_per_language_and_a_folded_one():
    mapping = page_mappings(language_analyzers=True)
    for name in ("text", "title"):
        subfields = mapping["properties"][name]["fields"]
        for subfield, analyzer in SUBFIELD_ANALYZERS.items():
            assert subfields[subfield] == {"type": "text", "analyzer": analyzer}
    assert set(LANGUAGE_SUBFIELDS.values()) == {"english", "french", "dutch", "german"}
    assert SUBFIELD_ANALYZERS["french"] == "darkcrawl_french" and SUBFIELD_ANALYZERS["folded"] == "darkcrawl_folded"
    plain = mapped_fields(page_mappings(False))
    rich = mapped_fields(page_mappings(True))
    assert set(plain) < set(rich)
    assert set(rich) - set(plain) == {f"{field}.{sub}" for field in ("text", "title") for sub in SUBFIELD_ANALYZERS}


def test_the_mapping_names_only_analyzers_the_plugin_provides():
    from crawler.es.plugin import ANALYZERS, SOURCES

    assert set(SUBFIELD_ANALYZERS.values()) == set(ANALYZERS)
    java = "".join(path.read_text() for path in (SOURCES / "src").rglob("*.java"))
    components = (SOURCES / "src" / "plugin" / "named_components.json").read_text()
    for analyzer in ANALYZERS:
        assert f'@NamedComponent("{analyzer}")' in java and f'"{analyzer}"' in components


def test_language_analyzers_apply_to_pages_only():
    for kind in set(KINDS) - {"pages"}:
        template = index_template(kind, "p", language_analyzers=True)
        assert "analyzer" not in str(template["template"]["mappings"])
        assert template["_meta"]["language_analyzers"] is False


def test_template_names_pattern_version_and_settings():
    template = index_template("pages", "case42", version=SCHEMA_VERSION + 3)
    assert template["index_patterns"] == ["case42-pages-*"]
    assert template["version"] == SCHEMA_VERSION + 3
    assert template["template"]["mappings"]["_meta"]["darkcrawl_schema_version"] == SCHEMA_VERSION + 3
    settings = template["template"]["settings"]["index"]
    assert settings["number_of_shards"] == 1 and settings["auto_expand_replicas"] == "0-1"
    assert "aliases" not in template["template"]  # the write alias is set on the first index only


def test_builders_return_fresh_copies():
    first = page_mappings()
    first["properties"]["url"]["type"] = "text"
    assert page_mappings()["properties"]["url"]["type"] == "keyword"


def test_mapped_fields_lists_objects_and_subfields():
    mapping = {"properties": {"a": {"properties": {"b": {"type": "keyword"}}},
                              "t": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
                              "n": {"type": "nested", "properties": {"x": {"type": "integer"}}}}}
    assert mapped_fields(mapping) == {"a": "object", "a.b": "keyword", "t": "text", "t.raw": "keyword",
                                      "n": "nested", "n.x": "integer"}


@pytest.mark.parametrize("analyzers", [False, True])
def test_rendered_pages_template_in_both_shapes(analyzers):
    """What es init sends for each node shape: language sub-fields with the plugin, the standard analyzer (and
    the keyword sub-field for aggregations) without; the shape is recorded in _meta."""
    template = index_template("pages", "case42", language_analyzers=analyzers)
    properties = template["template"]["mappings"]["properties"]
    assert template["_meta"]["language_analyzers"] is analyzers
    assert template["template"]["mappings"]["_meta"]["language_analyzers"] is analyzers
    expected = {"english", "french", "dutch", "german", "folded"} if analyzers else set()
    assert set(properties["text"].get("fields", {})) == expected
    assert set(properties["title"]["fields"]) == expected | {"keyword"}
    assert properties["title"]["fields"]["keyword"]["type"] == "keyword"
    assert ("analyzer" in str(properties)) is analyzers
    assert mapped_fields(template["template"]["mappings"]) == mapped_fields(mappings_for("pages", analyzers))


def test_sightings_and_entities_carry_what_the_roll_up_and_pivot_need():
    entity = mapped_fields(mappings_for("entities"))
    sighting = mapped_fields(mappings_for("sightings"))
    assert {"kind", "value", "first_seen", "last_seen", "sites", "pages", "counts.pages", "counts.sites"} <= set(entity)
    assert {"entity_id", "url", "site", "first_seen", "last_seen"} <= set(sighting)
    assert all(sighting[name] == "keyword" for name in ("entity_id", "url", "site", "kind", "value"))
