"""Index templates on the real node: es init is idempotent and upgrades, pages are indexed and found through the alias,
the strict mapping refuses unknown fields, and the node's actual mapping is the one the template builder promises."""

from __future__ import annotations

import hashlib

import pytest
from elasticsearch import BadRequestError

from crawler.es.schema import SCHEMA_VERSION, entity_id, index_names, init_schema, node_modules
from crawler.es.templates import ANALYSIS_PLUGIN, KINDS, index_template, mapped_fields, mappings_for
from crawler.identity import page_id
from crawler.items import PageItem
from crawler.sink.documents import page_document

pytestmark = pytest.mark.integration

ONION = "7tqyx5ksqfm4k6oxsmrblsm2ew5nxdrbhcm4vmbh2uz4rbs7xrg7hwid.onion"
BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


@pytest.fixture
def es(es_node):
    client = es_node.client()
    yield client
    client.close()


def sample_page(prefix: str) -> dict:
    item = PageItem(
        url=f"http://{ONION}/listing/42",
        canonical_url=f"http://{ONION}/listing/42",
        site=ONION,
        status=200,
        fetched_at="2026-11-29T03:00:00.000Z",
        crawl_id=f"{prefix}-crawl",
        depth=1,
        headers={"server": "nginx", "content-type": "text/html; charset=utf-8"},
        content_type="text/html; charset=utf-8",
        content_length=5120,
        title="Fresh cards - vendor NightOwl",
        text="Buy fresh dumps from NightOwl. Payment to bitcoin only. Escrow accepted.",
        html="<html>never indexed</html>",
        links_onion=[f"http://{ONION}/vendor/nightowl"],
        content_sha256="ab" * 32,
        language="en",
        signals={
            "language": {"code": "en", "probability": 0.99},
            "crypto_addresses": [
                {"currency": "BTC", "address": BTC, "kind": "p2wpkh", "context": "pay to bitcoin",
                 "ambiguous_with": [], "checksum": "verified"}
            ],
            "onions": [ONION],
            "pgp_keys": [
                {"fingerprint": "A" * 40, "key_id": "A" * 16, "version": 4, "algorithm": "RSA", "bits": 4096,
                 "created": "2024-01-02T03:04:05Z", "uids": ["NightOwl <nightowl@example.onion>"]}
            ],
            "emails": ["nightowl@example.org"],
            "handles": [{"network": "telegram", "handle": "nightowl_shop"}],
            "vendors": [{"name": "NightOwl", "source": "heuristic:vendor"}],
            "keywords": [{"term": "dumps", "category": "fraud", "count": 1},
                         {"term": "escrow", "category": "market", "count": 1}],
            "content_sha256": "ab" * 32,
            "simhash": "0f0f0f0f0f0f0f0f",
            "title": "Fresh cards - vendor NightOwl",
            "text_length": 72,
            "links": {"onion": [f"http://{ONION}/vendor/nightowl"], "clearnet": []},
        },
    )
    document = page_document(item)
    document.update(first_seen=item.fetched_at, last_seen=item.fetched_at, content_changed_at=item.fetched_at,
                    schema_version=SCHEMA_VERSION)
    return document


def test_init_creates_templates_and_write_aliases_and_is_idempotent(es, es_node, es_prefix):
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    first = init_schema(es, names, lambda message: None)
    assert first.changed
    for kind in KINDS:
        alias = es.indices.get_alias(name=names.alias(kind))
        assert dict(alias) == {names.first_index(kind): {"aliases": {names.alias(kind): {"is_write_index": True}}}}
        template = es.indices.get_index_template(name=names.template(kind))["index_templates"][0]["index_template"]
        assert template["version"] == SCHEMA_VERSION
        assert template["index_patterns"] == [names.pattern(kind)]
    second = init_schema(es, names, lambda message: None)
    assert not second.changed
    assert all("current" in action for action in second.actions)
    assert sorted(es.indices.get(index=f"{es_prefix}-*")) == sorted(names.first_index(kind) for kind in KINDS)


def test_init_upgrades_when_the_version_rises(es, es_node, es_prefix):
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    init_schema(es, names, lambda message: None)
    report = init_schema(es, names, lambda message: None, version=SCHEMA_VERSION + 1)
    assert report.changed
    assert f"template {names.pages}: upgraded from version {SCHEMA_VERSION} to {SCHEMA_VERSION + 1}" in report.actions
    template = es.indices.get_index_template(name=names.template("pages"))["index_templates"][0]["index_template"]
    assert template["version"] == SCHEMA_VERSION + 1
    mapping = es.indices.get_mapping(index=names.pages)[names.first_index("pages")]["mappings"]
    assert mapping["_meta"]["darkcrawl_schema_version"] == SCHEMA_VERSION + 1
    older = init_schema(es, names, lambda message: None)  # an older darkcrawl never downgrades
    assert not older.changed
    assert any("newer than this darkcrawl" in action for action in older.actions)


def test_incompatible_upgrade_moves_the_alias_and_keeps_id_based_upserts_exact(es, es_node, es_prefix, tmp_path):
    """A field type change cannot be applied in place: es init moves the alias to a new index with every document
    copied, so the alias still has one index and the sink's mget + upsert by id find each page once (no duplicate,
    first_seen kept)."""
    import asyncio

    from crawler.sink.bulk import BulkConfig, PageSink

    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    old = index_template("pages", es_prefix, version=SCHEMA_VERSION)
    old["template"]["mappings"]["properties"]["status"] = {"type": "keyword"}  # a type the new version changes
    es.indices.put_index_template(name=names.template("pages"), body=old)
    es.indices.create(index=names.first_index("pages"), aliases={names.pages: {"is_write_index": True}})
    document = sample_page(es_prefix)
    es.index(index=names.pages, id=page_id(document["url"]), document=document, refresh=True)

    report = init_schema(es, names, lambda message: None, version=SCHEMA_VERSION + 1)
    assert any(action.startswith(f"alias {names.pages}: moved to {es_prefix}-pages-000002 with 1 documents copied")
               for action in report.actions), report.actions
    assert list(es.indices.get_alias(name=names.pages)) == [f"{es_prefix}-pages-000002"]
    new_mapping = es.indices.get_mapping(index=names.pages)[f"{es_prefix}-pages-000002"]["mappings"]
    assert new_mapping["properties"]["status"]["type"] == "short"
    blocks = es.indices.get_settings(index=names.first_index("pages"))[names.first_index("pages")]
    assert blocks["settings"]["index"]["blocks"]["write"] == "true"

    async def recrawl() -> None:
        client = es_node.async_client()
        config = BulkConfig(max_docs=10, max_bytes=10**6, flush_interval=60, max_retries=0,
                            dead_letter_path=tmp_path / "dead.jsonl")
        sink = PageSink(client, names.pages, config, lambda key, count: None)
        try:
            await sink.add(document | {"fetched_at": "2026-11-30T00:00:00.000Z"})
            await sink.flush()
        finally:
            await client.close()

    asyncio.run(recrawl())
    es.indices.refresh(index=names.pages)
    hits = es.search(index=names.pages, query={"term": {"url": document["url"]}})["hits"]["hits"]
    assert len(hits) == 1
    assert hits[0]["_source"]["first_seen"] == document["first_seen"]
    assert hits[0]["_source"]["last_seen"] == "2026-11-30T00:00:00.000Z"
    assert not (tmp_path / "dead.jsonl").exists()


def test_fields_added_within_a_version_reach_existing_indices(es, es_node, es_prefix):
    """An optional field added by another part of darkcrawl without a version bump: es init applies it anyway."""
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    init_schema(es, names, lambda message: None)
    older = index_template("crawls", es_prefix)
    del older["template"]["mappings"]["properties"]["hostname"]
    es.indices.put_index_template(name=names.template("crawls"), body=older)
    report = init_schema(es, names, lambda message: None)
    assert f"template {names.crawls}: fields changed within version {SCHEMA_VERSION}; updated" in report.actions
    assert not init_schema(es, names, lambda message: None).changed


def test_a_refresh_interval_changed_within_a_version_reaches_the_template_and_live_indices(es, es_node, es_prefix):
    """The versions index went from 1 s to 5 s without a version bump (a cost choice): es init updates the template
    and the index an earlier init made, which Elasticsearch changes live."""
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    older = index_template("versions", es_prefix)
    older["template"]["settings"]["index"]["refresh_interval"] = "1s"
    es.indices.put_index_template(name=names.template("versions"), body=older)
    es.indices.create(index=names.first_index("versions"), aliases={names.versions: {"is_write_index": True}})
    assert es.indices.get_settings(index=names.versions)[names.first_index("versions")]["settings"]["index"][
        "refresh_interval"] == "1s"
    report = init_schema(es, names, lambda message: None)
    assert f"template {names.versions}: refresh interval 1s -> 5s; applied to its indices" in report.actions
    settings = es.indices.get_settings(index=names.versions)[names.first_index("versions")]["settings"]["index"]
    assert settings["refresh_interval"] == "5s"
    template = es.indices.get_index_template(name=names.template("versions"))["index_templates"][0]["index_template"]
    assert template["template"]["settings"]["index"]["refresh_interval"] == "5s"
    assert not init_schema(es, names, lambda message: None).changed


def test_two_crawls_starting_at_once_on_a_fresh_prefix_both_set_it_up(es, es_node, es_prefix):
    """es init reads a prefix's aliases once; when another crawl's es init makes them meanwhile (two scheduled crawls
    starting together), the alias it finds is taken as an alias, not refused as an index of that name."""
    from crawler.es.schema import InitReport, _init_kind, _Installed

    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    stale = _Installed.read(es, names)  # read before the other crawl's init: nothing there yet
    init_schema(es, names, lambda message: None)  # the other crawl
    analyzers = ANALYSIS_PLUGIN in node_modules(es)
    report = InitReport(language_analyzers=analyzers)
    for kind in KINDS:
        _init_kind(es, names, kind, analyzers, SCHEMA_VERSION, report, stale)
    assert sorted(es.indices.get(index=f"{es_prefix}-*")) == sorted(names.first_index(kind) for kind in KINDS)
    assert not any(action.startswith("index ") for action in report.actions), report.actions  # none made twice


def test_page_is_indexed_and_found_through_the_alias(es, es_node, es_prefix):
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    init_schema(es, names, lambda message: None)
    document = sample_page(es_prefix)
    assert "html" not in document
    es.index(index=names.pages, id=page_id(document["url"]), document=document, refresh=True)

    by_address = es.search(index=names.pages, query={"term": {"signals.crypto_addresses.address": BTC}})
    assert [hit["_id"] for hit in by_address["hits"]["hits"]] == [page_id(document["url"])]
    by_text = es.search(index=names.pages, query={"match": {"text": "escrow"}})
    assert by_text["hits"]["total"]["value"] == 1
    paired = {"nested": {"path": "signals.keywords", "query": {"bool": {"filter": [
        {"term": {"signals.keywords.term": "dumps"}}, {"term": {"signals.keywords.category": "market"}}]}}}}
    assert es.search(index=names.pages, query=paired)["hits"]["total"]["value"] == 0  # dumps is fraud, not market
    paired["nested"]["query"]["bool"]["filter"][1]["term"]["signals.keywords.category"] = "fraud"
    assert es.search(index=names.pages, query=paired)["hits"]["total"]["value"] == 1
    sites = es.search(index=names.pages, size=0, aggs={"vendors": {"terms": {"field": "signals.vendors.name.keyword"}}})
    assert [bucket["key"] for bucket in sites["aggregations"]["vendors"]["buckets"]] == ["NightOwl"]


def test_strict_mapping_rejects_an_unknown_field(es, es_node, es_prefix):
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    init_schema(es, names, lambda message: None)
    for stray in ({"html": "<p>raw body</p>"}, {"signals": {"ssn": "123-45-6789"}}):
        document = sample_page(es_prefix) | stray
        if "signals" in stray:
            document["signals"] = sample_page(es_prefix)["signals"] | stray["signals"]
        with pytest.raises(BadRequestError) as caught:
            es.index(index=names.pages, id="stray", document=document)
        assert caught.value.error == "document_parsing_exception" or "strict" in str(caught.value)
    assert es.count(index=names.pages)["count"] == 0


def test_entity_with_deterministic_id(es, es_node, es_prefix):
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    init_schema(es, names, lambda message: None)
    entity = entity_id("crypto_address", BTC)
    assert entity == hashlib.sha256(f"crypto_address\x00{BTC}".encode()).hexdigest()
    document = {"kind": "crypto_address", "value": BTC, "first_seen": "2026-11-29T03:00:00Z",
              "last_seen": "2026-11-29T03:00:00Z", "sites": [ONION], "pages": [f"http://{ONION}/listing/42"],
              "counts": {"pages": 1, "sites": 1}, "attributes": {"currency": "BTC"},
              "updated_at": "2026-11-29T03:00:00Z", "schema_version": SCHEMA_VERSION}
    es.create(index=names.entities, id=entity, document=document, refresh=True)
    es.update(index=names.entities, id=entity, doc={"last_seen": "2026-11-30T00:00:00Z",
                                                       "counts": {"pages": 2}}, refresh=True)
    stored = es.get(index=names.entities, id=entity)["_source"]
    assert stored["counts"] == {"pages": 2, "sites": 1}
    hits = es.search(index=names.entities, query={"term": {"attributes.currency": "BTC"}})["hits"]["hits"]
    assert [hit["_id"] for hit in hits] == [entity]


def test_actual_mapping_is_what_the_builder_promises(es, es_node, es_prefix):
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    report = init_schema(es, names, lambda message: None)
    has_analyzers = ANALYSIS_PLUGIN in node_modules(es)
    assert report.language_analyzers == has_analyzers
    for kind in KINDS:
        actual = es.indices.get_mapping(index=names.alias(kind))[names.first_index(kind)]["mappings"]
        expected = mappings_for(kind, has_analyzers)  # mappings_for gives sub-fields to the prose kinds only
        assert mapped_fields(actual) == mapped_fields(expected)
        assert actual["dynamic"] == "strict"
    text_fields = mapped_fields(es.indices.get_mapping(index=names.pages)[names.first_index("pages")]["mappings"])
    assert ("text.english" in text_fields) == has_analyzers


def test_signals_from_the_real_extraction_fit_the_strict_mapping(es, es_node, es_prefix):
    """The extraction chain's actual output (not a hand-written sample) is accepted and searchable, with the count
    of values past a cap (``signals.capped``; a cap of 1 here, so that the page reaches it)."""
    import dataclasses

    from pipelines.extract.signals import default_config, extract_signals
    from tests.vectors import load_vectors

    onion = load_vectors("onion")["valid"][0]
    armored = load_vectors("pgp")["valid"][0]["armored"]
    html = f"""<html><head><title>NightOwl shop</title></head><body>
    <p>Vendor: NightOwl. Contact jabber: nightowl@xmpp.jp, telegram @nightowl_shop, nightowl [at] example [dot] org</p>
    <p>Pay BTC {BTC}. Fresh cvv dumps, fake passport.</p>
    <a href="http://{onion}/mirror">mirror</a> <a href="https://example.com/">clearnet</a>
    <pre>{armored}</pre></body></html>"""
    config = dataclasses.replace(default_config(), max_per_kind=1)
    signals = extract_signals(html, f"http://{ONION}/shop", content_type="text/html", config=config).to_dict()
    assert signals["pgp_keys"] and signals["crypto_addresses"] and signals["onions"]
    assert signals["capped"]["handles"] == 1  # xmpp and telegram: one kept
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    init_schema(es, names, lambda message: None)
    document = sample_page(es_prefix) | {"signals": signals}
    es.index(index=names.pages, id=page_id(document["url"]), document=document, refresh=True)
    fingerprint = signals["pgp_keys"][0]["fingerprint"]
    for query in (
        {"term": {"signals.pgp_keys.fingerprint": fingerprint}},
        {"term": {"signals.onions": onion}},
        {"term": {"signals.crypto_addresses.address": BTC}},
        {"nested": {"path": "signals.keywords", "query": {"exists": {"field": "signals.keywords.term"}}}},
        {"range": {"signals.capped.handles": {"gte": 1}}},
    ):
        assert es.count(index=names.pages, query=query)["count"] == 1, query
