"""Search that speaks French, Dutch, German and English, on a real node with darkcrawl's analysis plugin: the
analyzers, the queries of issue #15 finding their pages first, site titles and signals in the hits, "what is new"
(--new-since, --changed-since, --sort date), and es init copying an index made without the plugin.

The node the session starts (tests/integration/fixtures_es.py) is installed by ``darkcrawl es install``, which
installs the plugin: there these tests must pass. On an external cluster (``DARKCRAWL_TEST_ES_URL``) without the
plugin they are skipped.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from elasticsearch import Elasticsearch

from crawler.cli import main
from crawler.cli.dates import iso_utc
from crawler.es.plugin import ANALYZERS
from crawler.es.schema import IndexNames, index_names, init_schema, node_modules
from crawler.es.templates import ANALYSIS_PLUGIN, KINDS, SCHEMA_VERSION, index_template
from crawler.identity import page_id
from crawler.items import PageItem
from crawler.sink.documents import page_document

pytestmark = pytest.mark.integration

SITE_FR = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
SITE_EU = "7tqyx5ksqfm4k6oxsmrblsm2ew5nxdrbhcm4vmbh2uz4rbs7xrg7hwid.onion"
BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
NOW = datetime.now(UTC)
OLD = "2026-01-05T10:00:00Z"

# (site, path, language, title, text, depth): what a Brussels analyst meets, in four languages.
PAGES = [
    (SITE_FR, "", "fr", "Papiers Nocturnes", "Bienvenue. Catalogue, contact, conditions de vente.", 0),
    (SITE_FR, "papiers", "fr", "Passeports et cartes d'identité",
     "Nous fabriquons des passeports belges et des cartes d'identité françaises, livrés sous huit jours. "
     f"Paiement en bitcoin {BTC}.", 1),
    (SITE_FR, "hebergement", "fr", "Hébergement discret",
     "Un hébergement web discret hors de l'Union européenne, payé une seule fois pour toute l'année.", 1),
    (SITE_FR, "forum", "fr", "Discussion générale",
     "Qui connaît un bon fournisseur ? Mon identifiant a changé, écrivez-moi en privé.", 2),
    (SITE_EU, "", "en", "Euro Docs", "Documents shipped across Europe.", 0),
    (SITE_EU, "nl", "nl", "Valse documenten",
     "Valse paspoorten en identiteitskaarten, verzending naar België en Nederland binnen een week.", 1),
    (SITE_EU, "de", "de", "Gefälschte Dokumente",
     "Gefälschte Reisepässe und Führerscheine, diskreter Versand nach Deutschland und Österreich.", 1),
    (SITE_EU, "en", "en", "Passports shop",
     "Our vendors ship passports worldwide. Escrow accepted, reviews from trusted buyers.", 1),
    (SITE_EU, "travel", "en", "Travel notes",
     "A long English page about travel. In France they call them passeports; we sell none of them here.", 2),
]


def url(site: str, path: str) -> str:
    return f"http://{site}/{path}"


def document(site: str, path: str, language: str, title: str, text: str, depth: int,
             first_seen: str = OLD, last_seen: str = OLD, changed: str = OLD) -> dict:
    item = PageItem(url=url(site, path), canonical_url=url(site, path), site=site, status=200, fetched_at=last_seen,
                    crawl_id="lang", depth=depth, title=title, text=text, language=language,
                    signals={"language": {"code": language, "probability": 0.99},
                             "crypto_addresses": ([{"currency": "BTC", "address": BTC, "kind": "p2wpkh",
                                                    "checksum": "verified"}] if BTC in text else []),
                             "vendors": [{"name": "NightOwl", "source": "label"}] if "vendors" in text else []})
    return page_document(item) | {"first_seen": first_seen, "last_seen": last_seen, "content_changed_at": changed}


@pytest.fixture(scope="module")
def client(es_node) -> Iterator[Elasticsearch]:
    es = es_node.client()
    if ANALYSIS_PLUGIN not in node_modules(es):
        es.close()
        if es_node.instance is None:
            pytest.skip(f"the external test cluster lacks darkcrawl's analysis plugin {ANALYSIS_PLUGIN}")
        pytest.fail(f"the test node (installed by darkcrawl es install) lacks the analysis plugin {ANALYSIS_PLUGIN}")
    yield es
    es.close()


def drop(es: Elasticsearch, prefix: str) -> None:
    for index in es.indices.get(index=f"{prefix}-*", expand_wildcards="all"):
        es.indices.delete(index=index, ignore_unavailable=True)
    for kind in KINDS:
        es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-{kind}")


@pytest.fixture(scope="module")
def indexed(es_node, client) -> Iterator[IndexNames]:
    """One prefix for the module: the pages above, plus three of known age for "what is new"."""
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=f"t{uuid.uuid4().hex[:10]}"))
    init_schema(client, names, lambda _line: None)
    hour_ago, two_hours_ago = iso_utc(NOW - timedelta(hours=1)), iso_utc(NOW - timedelta(hours=2))
    documents = [document(*page) for page in PAGES] + [
        document(SITE_FR, "news/old", "fr", "Ancienne annonce", "Annonce ancienne, rien de neuf.", 1),
        document(SITE_FR, "news/changed", "fr", "Annonce modifiée", "Annonce modifiée ce matin.", 1,
                 last_seen=hour_ago, changed=hour_ago),
        document(SITE_FR, "news/new", "fr", "Nouvelle annonce", "Annonce toute nouvelle.", 1,
                 first_seen=two_hours_ago, last_seen=two_hours_ago, changed=two_hours_ago),
    ]
    operations: list[dict] = []
    for doc in documents:
        operations += [{"index": {"_index": names.pages, "_id": page_id(doc["url"])}}, doc]
    assert not client.bulk(operations=operations, refresh=True)["errors"]
    yield names
    drop(client, names.prefix)


def cli_env(es_node, names: IndexNames) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    return env | es_node.env() | {"DARKCRAWL_ES_INDEX_PREFIX": names.prefix}


def search(es_node, names: IndexNames, *args: str) -> dict:
    """``darkcrawl search ARGS --json`` run in this process (the real command, without a Python start-up each)."""
    output = io.StringIO()
    with mock.patch.dict(os.environ, cli_env(es_node, names), clear=True), contextlib.redirect_stdout(output):
        assert main(["search", *args, "--json"]) == 0
    return json.loads(output.getvalue())


def urls(answer: dict) -> list[str]:
    return [hit["url"] for hit in answer["hits"]]


def test_every_analyzer_of_the_plugin_runs_on_the_node(client):
    def tokens(analyzer: str, text: str) -> list[str]:
        return [token["token"] for token in client.indices.analyze(analyzer=analyzer, text=text)["tokens"]]

    assert set(ANALYZERS) == {"darkcrawl_english", "darkcrawl_french", "darkcrawl_dutch", "darkcrawl_german",
                              "darkcrawl_folded"}
    assert tokens("darkcrawl_folded", "Cartes d'identité, HÉBERGEMENT") == ["cartes", "identite", "hebergement"]
    assert tokens("darkcrawl_french", "passeports") == tokens("darkcrawl_french", "passeport")
    assert tokens("darkcrawl_french", "l'hébergement") == tokens("darkcrawl_french", "hebergement")
    assert tokens("darkcrawl_dutch", "paspoorten") == tokens("darkcrawl_dutch", "paspoort")
    assert tokens("darkcrawl_german", "Reisepässe") == tokens("darkcrawl_german", "reisepass")
    assert tokens("darkcrawl_german", "Straße") == tokens("darkcrawl_german", "strasse")
    assert tokens("darkcrawl_english", "vendors' shipping") == tokens("darkcrawl_english", "vendor ship")
    assert tokens("darkcrawl_english", "the passports") == ["passport"]  # stop word gone


@pytest.mark.parametrize(("query", "first", "absent"), [
    ("passeport", "papiers", ["en", "nl"]),         # issue: found nothing (only "passeports" did)
    ("hebergement", "hebergement", []),             # issue: 0 without the accent
    ("identité", "papiers", ["forum"]),             # issue: "cartes d'identité" was not found
    ("paspoort", "nl", []),                         # Dutch plural
    ("reisepass", "de", []),                        # German plural with umlaut
    ("fuhrerschein", "de", []),                     # German, typed without the umlaut
    ("vendor", "en", []),                           # English plural
    ("passport", "en", ["papiers"]),                # English stem: not the French page
])
def test_the_issues_queries_find_their_page_first(es_node, indexed, query, first, absent):
    found = urls(search(es_node, indexed, query))
    site = SITE_EU if first in ("nl", "de", "en") else SITE_FR
    assert found and found[0] == url(site, first), found
    for path in absent:
        assert url(SITE_EU if path in ("nl", "de", "en") else SITE_FR, path) not in found


def test_a_french_query_ranks_the_french_page_above_an_english_one_using_the_word(es_node, indexed):
    found = urls(search(es_node, indexed, "passeport"))
    assert url(SITE_EU, "travel") in found  # matched by stemming: "passeports" on an English page
    assert found.index(url(SITE_FR, "papiers")) < found.index(url(SITE_EU, "travel"))


def test_hits_carry_site_title_and_signals(es_node, indexed):
    answer = search(es_node, indexed, "passeport")
    hit = answer["hits"][0]
    assert hit["site_title"] == "Papiers Nocturnes"  # the site's home page (depth 0)
    assert [address["address"] for address in hit["signals"]["crypto_addresses"]] == [BTC]
    assert "\x1b" not in hit["highlight"] and "passeports" in hit["highlight"].lower()
    english = search(es_node, indexed, "vendor")["hits"][0]
    assert english["site_title"] == "Euro Docs" and english["signals"]["vendors"][0]["name"] == "NightOwl"


def test_human_output_shows_the_site_title_and_signals_brief(es_node, indexed):
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "search", "identité"], env=cli_env(es_node, indexed),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"site: {SITE_FR} (Papiers Nocturnes)" in result.stdout
    assert "signals: 1 crypto_addresses (BTC bc1qar0srr...wf5mdq)" in result.stdout


def test_what_is_new_changed_and_sorted_by_date(es_node, indexed):
    news = [url(SITE_FR, f"news/{name}") for name in ("old", "changed", "new")]
    assert urls(search(es_node, indexed, "annonce", "--new-since", "24h")) == [news[2]]
    assert urls(search(es_node, indexed, "annonce", "--changed-since", "yesterday")) == [news[1]]
    both = search(es_node, indexed, "annonce", "--new-since", "now-1d", "--changed-since", "1d", "--sort", "date")
    assert urls(both) == [news[1], news[2]]  # changed an hour ago, then new two hours ago
    recent = search(es_node, indexed, "", "--since", "3h", "--sort", "date")
    assert urls(recent) == [news[1], news[2]]
    everything = search(es_node, indexed, "annonce", "--sort", "date", "-n", "1")
    assert urls(everything) == [news[1]] and everything["total"] == 3


def test_es_init_copies_an_index_made_without_the_plugin_so_old_pages_get_the_language_fields(es_node, client):
    """An index created before the plugin (standard analyzer only, schema 2): es init moves the alias to a copy made
    from the new template, so pages indexed before it are found by stemmed and folded words too."""
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=f"t{uuid.uuid4().hex[:10]}"))
    try:
        for kind in KINDS:
            client.indices.put_index_template(name=names.template(kind),
                                              body=index_template(kind, names.prefix, False, version=2))
            client.indices.create(index=names.first_index(kind), aliases={names.alias(kind): {"is_write_index": True}})
        old = document(*PAGES[1])
        client.index(index=names.pages, id=page_id(old["url"]), document=old, refresh=True)
        assert client.count(index=names.pages, query={"match": {"text": "passeport"}})["count"] == 0
        said: list[str] = []
        report = init_schema(client, names, said.append)
        assert report.language_analyzers
        assert any(f"alias {names.pages}: moved to {names.prefix}-pages-000002 with 1 documents copied" in line
                   for line in said), said
        client.indices.refresh(index=names.pages)
        for field, word in (("text.french", "passeport"), ("text.folded", "identite"), ("title.folded", "identite")):
            assert client.count(index=names.pages, query={"match": {field: word}})["count"] == 1, field
        assert client.get(index=names.pages, id=page_id(old["url"]))["_source"] == old
        assert f"template {names.template('pages')}: current (version {SCHEMA_VERSION})" in "\n".join(
            init_schema(client, names, lambda _line: None).actions)
    finally:
        drop(client, names.prefix)
