"""Index names under a prefix, and the deterministic entity ids."""

from __future__ import annotations

import hashlib

import pytest

from crawler.config import load_settings
from crawler.errors import UsageError
from crawler.es.schema import entity_id, index_names


def names_for(prefix: str):
    return index_names(load_settings(overrides={"DARKCRAWL_ES_INDEX_PREFIX": prefix}, environ={}))


def test_default_names():
    names = index_names(load_settings(environ={}))
    assert (names.pages, names.entities, names.crawls) == ("darkcrawl-pages", "darkcrawl-entities", "darkcrawl-crawls")
    assert names.pages_pattern == "darkcrawl-pages-*"
    assert names.first_index("entities") == "darkcrawl-entities-000001"
    assert names.template("crawls") == "darkcrawl-crawls"


def test_custom_prefix():
    names = names_for("case-2026.11_a")
    assert names.pages == "case-2026.11_a-pages"
    assert names.crawls_pattern == "case-2026.11_a-crawls-*"


@pytest.mark.parametrize("prefix", ["", "Case", "-x", "_x", "a b", "a*b", "a,b", "a/b", "a:b", "a#b", "x" * 120])
def test_invalid_prefix_is_a_usage_error_naming_the_setting(prefix):
    with pytest.raises(UsageError, match="DARKCRAWL_ES_INDEX_PREFIX"):
        names_for(prefix)


def test_entity_id_is_deterministic_and_kind_sensitive():
    value = "nightowl@example.org"
    assert entity_id("email", value) == entity_id("email", value)
    assert entity_id("email", value) != entity_id("handle", value)
    assert entity_id("email", value) == hashlib.sha256(b"email\x00nightowl@example.org").hexdigest()
    assert entity_id("ab", "c") != entity_id("a", "bc")


def test_new_subfields_of_existing_fields_are_what_forces_a_copy():
    from crawler.es.schema import new_subfields
    from crawler.es.templates import page_mappings

    plain, rich = page_mappings(False), page_mappings(True)
    added = new_subfields(plain, rich)
    assert set(added) == {f"{field}.{sub}" for field in ("title", "text")
                          for sub in ("english", "french", "dutch", "german", "folded")}
    assert new_subfields(rich, rich) == [] and new_subfields(rich, plain) == []
    # a new field (not a new sub-field of a field documents have) is applied in place: nothing to copy
    assert new_subfields({"properties": {}}, rich) == []
