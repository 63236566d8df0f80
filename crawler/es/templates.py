"""The index mappings and composable index templates, as plain data. Every field is documented in docs/schema.md.

* ``SCHEMA_VERSION`` -- the one version number of the templates; raise it with every mapping change.
* :func:`page_mappings`, :func:`entity_mappings`, :func:`sighting_mappings`, :func:`crawl_mappings`,
  :func:`site_mappings` -- the mappings of the indices; :data:`MAPPING_BUILDERS` / :data:`KINDS` list them (add a
  kind there).
* :func:`index_template` -- the composable template body for one kind of index under a prefix.
* :func:`mapped_fields` -- every field path of a mapping with its type (sub-fields included), for docs and tests.

Pages are mapped strictly (an unknown field is an error, never a silent new field). The page title and text get
per-language sub-fields (``english``, ``french``, ``dutch``, ``german``) and an accent-folded one (``folded``),
analysed by darkcrawl's own analysis plugin (:mod:`crawler.es.plugin`), when every node has it: the same analyzers,
hence the same mapping, on the managed node and on a full cluster. Without the plugin the standard analyzer serves
alone (no sub-fields). No other mapping needs a module beyond the server and x-pack core (``flattened`` and
``nested`` are in the server).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crawler.es.plugin import PLUGIN_NAME

SCHEMA_VERSION = 3
# Language code (signals.language.code) -> the per-language sub-field of title and text.
LANGUAGE_SUBFIELDS = {"en": "english", "fr": "french", "nl": "dutch", "de": "german"}
FOLDED_SUBFIELD = "folded"  # every language: lower case, ASCII folding, elision, no stemming
# Sub-field -> its analyzer, provided by darkcrawl's analysis plugin (crawler/es/analysis-plugin).
SUBFIELD_ANALYZERS = {name: f"darkcrawl_{name}" for name in (*LANGUAGE_SUBFIELDS.values(), FOLDED_SUBFIELD)}
ANALYSIS_PLUGIN = PLUGIN_NAME
TEMPLATE_PRIORITY = 200

# Longest keyword values indexed (longer ones are stored but not searchable): URLs, headers, free-form labels.
URL_LENGTH = 2048
LABEL_LENGTH = 512

# The response headers the spider keeps (spiders/onion.py HEADERS_OF_INTEREST), each a keyword.
HEADER_FIELDS = ("server", "content-type", "content-language", "last-modified", "x-powered-by", "location")


def keyword(ignore_above: int | None = None) -> dict[str, Any]:
    field: dict[str, Any] = {"type": "keyword"}
    if ignore_above:
        field["ignore_above"] = ignore_above
    return field


def text_with_keyword(language_analyzers: bool = False) -> dict[str, Any]:
    """Analysed text with an exact ``keyword`` sub-field for aggregations (and language sub-fields if asked)."""
    field = analysed_text(language_analyzers)
    field["fields"]["keyword"] = keyword(LABEL_LENGTH)
    return field


def analysed_text(language_analyzers: bool) -> dict[str, Any]:
    """A ``text`` field (standard analyzer), with the language and folded sub-fields when the node has the plugin."""
    field: dict[str, Any] = {"type": "text", "fields": {}}
    if language_analyzers:
        for name, analyzer in SUBFIELD_ANALYZERS.items():
            field["fields"][name] = {"type": "text", "analyzer": analyzer}
    return field


def _drop_empty_fields(field: dict[str, Any]) -> dict[str, Any]:
    if field.get("fields") == {}:
        del field["fields"]
    return field


# The signal kinds that pipelines.extract caps per page (signals.capped); tests/unit/extract/test_caps.py keeps them
# in step with extraction.
CAPPED_KINDS = ("crypto_addresses", "onions", "pgp_keys", "emails", "handles", "vendors", "keywords", "links")


def signals_mapping(language_analyzers: bool) -> dict[str, Any]:
    """The ``signals`` object: the JSON contract of ``darkcrawl extract --json`` (docs/signals.md)."""
    return {
        "properties": {
            "language": {"properties": {"code": keyword(), "probability": {"type": "float"}}},
            "crypto_addresses": {
                "properties": {
                    "currency": keyword(),
                    "address": keyword(LABEL_LENGTH),
                    "kind": keyword(),
                    "context": {"type": "text"},
                    "ambiguous_with": keyword(),
                    "checksum": keyword(),
                }
            },
            "onions": keyword(),
            "pgp_keys": {
                "properties": {
                    "fingerprint": keyword(),
                    "key_id": keyword(),
                    "version": {"type": "short"},
                    "algorithm": keyword(),
                    "bits": {"type": "integer"},
                    "created": {"type": "date"},
                    "uids": _drop_empty_fields(text_with_keyword()),
                }
            },
            "emails": keyword(LABEL_LENGTH),
            "handles": {"properties": {"network": keyword(), "handle": keyword(LABEL_LENGTH)}},
            "vendors": {"properties": {"name": _drop_empty_fields(text_with_keyword()), "source": keyword()}},
            # nested: which term belongs to which category must survive (a query pairs them).
            "keywords": {
                "type": "nested",
                "properties": {"term": keyword(), "category": keyword(), "count": {"type": "integer"}},
            },
            "content_sha256": keyword(),
            "simhash": keyword(),
            "title": _drop_empty_fields(text_with_keyword()),
            "text_length": {"type": "integer"},
            "links": {"properties": {"onion": keyword(URL_LENGTH), "clearnet": keyword(URL_LENGTH)}},
            # optional: only the kinds whose cap (DARKCRAWL_EXTRACT_MAX_PER_KIND) a page reached, with the count past it
            "capped": {"properties": {kind: {"type": "integer"} for kind in CAPPED_KINDS}},
        }
    }


def warc_mapping() -> dict[str, Any]:
    """Where a fetch's WARC record is (crawler/evidence): the same on a page and on each of its versions."""
    return {
        "properties": {
            "file": keyword(),
            "offset": {"type": "long"},
            "length": {"type": "long"},
            "record_sha256": keyword(),
            "payload_digest": keyword(),
            "record_id": keyword(),
            "exchange_length": {"type": "long"},
        }
    }


def page_mappings(language_analyzers: bool = False) -> dict[str, Any]:
    """Mapping of the pages index: :class:`crawler.items.PageItem` without ``html``, plus the indexing dates."""
    return {
        "dynamic": "strict",
        "_meta": {"darkcrawl_schema_version": SCHEMA_VERSION, "language_analyzers": language_analyzers},
        "properties": {
            "url": keyword(URL_LENGTH),
            "canonical_url": keyword(URL_LENGTH),
            "site": keyword(),
            "status": {"type": "short"},
            "fetched_at": {"type": "date"},
            "crawl_id": keyword(),
            "depth": {"type": "short"},
            "referer": keyword(URL_LENGTH),
            "headers": {"properties": {name: keyword(LABEL_LENGTH) for name in HEADER_FIELDS}},
            "content_type": keyword(),
            "content_length": {"type": "long"},
            "title": _drop_empty_fields(text_with_keyword(language_analyzers)),
            "text": _drop_empty_fields(analysed_text(language_analyzers)),
            "links_onion": keyword(URL_LENGTH),
            "links_clearnet": keyword(URL_LENGTH),
            "content_sha256": keyword(),
            "language": keyword(),
            "tor_instance": {"type": "short"},
            "rendered": {"type": "boolean"},
            "render_reason": keyword(),
            "screenshot_path": keyword(URL_LENGTH),
            "screenshot_sha256": keyword(),
            "warc": warc_mapping(),
            "first_seen": {"type": "date"},
            "last_seen": {"type": "date"},
            "content_changed_at": {"type": "date"},
            "version": keyword(),  # id of the current version in the versions index (page history)
            "schema_version": {"type": "short"},
            "signals": signals_mapping(language_analyzers),
            # optional: how extraction ended (pipelines/extraction.py); absent when it is off or the page was flagged
            "extraction": {"properties": {"status": keyword(), "elapsed_ms": {"type": "integer"}}},
            # optional: only pages the content policy flagged (crawler/safety); their text is never stored
            "review": {
                "properties": {
                    "reason": keyword(),
                    "categories": keyword(),
                    "terms_matched": {"type": "integer"},
                    "flagged_at": {"type": "date"},
                    "body_sha256": keyword(),
                    "body_length": {"type": "long"},
                    "text_sha256": keyword(),
                }
            },
        },
    }


def entity_mappings(language_analyzers: bool = False) -> dict[str, Any]:
    """Mapping of the entities index: one document per signal value (id = ``entity_id(kind, value)``), rolled up
    from its sightings by the indexing stage (crawler/sink/entities.py)."""
    return {
        "dynamic": "strict",
        "_meta": {"darkcrawl_schema_version": SCHEMA_VERSION},
        "properties": {
            "kind": keyword(),
            "value": keyword(LABEL_LENGTH),
            "label": keyword(LABEL_LENGTH),
            "first_seen": {"type": "date"},
            "last_seen": {"type": "date"},
            "sites": keyword(),
            "pages": keyword(URL_LENGTH),
            "counts": {"properties": {"pages": {"type": "integer"}, "sites": {"type": "integer"}}},
            "attributes": {"type": "flattened"},
            "updated_at": {"type": "date"},
            "schema_version": {"type": "short"},
        },
    }


def sighting_mappings(language_analyzers: bool = False) -> dict[str, Any]:
    """Mapping of the sightings index: one document per (entity, page), the source the entity roll-up counts."""
    return {
        "dynamic": "strict",
        "_meta": {"darkcrawl_schema_version": SCHEMA_VERSION},
        "properties": {
            "entity_id": keyword(),
            "kind": keyword(),
            "value": keyword(LABEL_LENGTH),
            "url": keyword(URL_LENGTH),
            "site": keyword(),
            "crawl_id": keyword(),
            "first_seen": {"type": "date"},
            "last_seen": {"type": "date"},
            "schema_version": {"type": "short"},
        },
    }


def crawl_mappings(language_analyzers: bool = False) -> dict[str, Any]:
    """Mapping of the crawls index: one document per crawl run, written at its start and completed at its end."""
    count = {"type": "long"}
    return {
        "dynamic": "strict",
        "_meta": {"darkcrawl_schema_version": SCHEMA_VERSION},
        "properties": {
            "crawl_id": keyword(),
            "status": keyword(),
            "hostname": keyword(),
            "started_at": {"type": "date"},
            "finished_at": {"type": "date"},
            "updated_at": {"type": "date"},
            "elapsed_seconds": {"type": "float"},
            "finish_reason": keyword(),
            "seeds": keyword(URL_LENGTH),
            "sites": keyword(),
            "pages_fetched": count,
            "pages_indexed": count,
            "pages_spooled": count,
            "pages_failed": count,
            "items": count,
            "requests": count,
            "responses": count,
            "bytes": count,
            "errors_total": count,
            "tor_failures": count,
            "errors": {"type": "flattened"},
            "statuses": {"type": "flattened"},
            "refused": {"type": "flattened"},
            "options": {"type": "flattened"},
            "stats": {"type": "flattened"},
            "darkcrawl_version": keyword(),
            "schema_version": {"type": "short"},
        },
    }


def site_mappings(language_analyzers: bool = False) -> dict[str, Any]:
    """Mapping of the sites index: the adaptive recrawl state of each site (id = the site, e.g. ``xyz.onion``).

    Added beside the other kinds without changing them (an index of its own, installed by ``es init``)."""
    return {
        "dynamic": "strict",
        "_meta": {"darkcrawl_schema_version": SCHEMA_VERSION},
        "properties": {
            "site": keyword(),
            "url": keyword(URL_LENGTH),
            "first_seen": {"type": "date"},
            "last_visit": {"type": "date"},
            "last_success": {"type": "date"},
            "last_failure": {"type": "date"},
            "consecutive_failures": {"type": "integer"},
            "visits": {"type": "integer"},
            "successes": {"type": "integer"},
            "change_rate": {"type": "float"},
            "interval_seconds": {"type": "float"},
            "next_due": {"type": "date"},
            "retired": {"type": "boolean"},
            "retired_at": {"type": "date"},
            "last_crawl_id": keyword(),
            "schema_version": {"type": "short"},
        },
    }


def version_mappings(language_analyzers: bool = False) -> dict[str, Any]:
    """Mapping of the versions index: the page history, one document per run of identical content of a page (id =
    ``version_id(page id, content hash, first fetch)``), so an analyst can read what a page said on a date.

    Added beside the other kinds without changing them (an index of its own, installed by ``es init``)."""
    return {
        "dynamic": "strict",
        "_meta": {"darkcrawl_schema_version": SCHEMA_VERSION},
        "properties": {
            "page_id": keyword(),
            "url": keyword(URL_LENGTH),
            "site": keyword(),
            "status": {"type": "short"},
            "title": _drop_empty_fields(text_with_keyword(language_analyzers)),
            "text": _drop_empty_fields(analysed_text(language_analyzers)),
            "language": keyword(),
            "content_sha256": keyword(),
            "simhash": keyword(),
            "crawl_id": keyword(),
            "first_seen": {"type": "date"},
            "last_seen": {"type": "date"},
            "warc": warc_mapping(),
            "schema_version": {"type": "short"},
        },
    }


def alert_mappings(language_analyzers: bool = False) -> dict[str, Any]:
    """Mapping of the alerts index: one document per watch and page content (id = ``crawler.alerts.documents.
    alert_id``), written with ``create`` by the crawl's watching stage and the retro-hunt (crawler/alerts).

    Added beside the other kinds without changing them. ``matches`` is a plain object array (not nested), so Kibana
    can aggregate the matched values."""
    date = {"type": "date"}
    return {
        "dynamic": "strict",
        "_meta": {"darkcrawl_schema_version": SCHEMA_VERSION},
        "properties": {
            "alert_id": keyword(),
            "watch": {
                "properties": {
                    "id": keyword(),
                    "name": keyword(LABEL_LENGTH),
                    "kind": keyword(),
                    "severity": keyword(),
                    "owner": keyword(),
                    "tags": keyword(),
                }
            },
            "page": {
                "properties": {
                    "id": keyword(),
                    "url": keyword(URL_LENGTH),
                    "site": keyword(),
                    "title": _drop_empty_fields(text_with_keyword()),
                    "content_sha256": keyword(),
                    "language": keyword(),
                }
            },
            "matches": {
                "properties": {
                    "kind": keyword(),
                    "value": keyword(LABEL_LENGTH),
                    "entity_kind": keyword(),
                    "context": {"type": "text"},
                    "rule": keyword(LABEL_LENGTH),
                }
            },
            "clone": {
                "properties": {
                    "of_site": keyword(),
                    "of_url": keyword(URL_LENGTH),
                    "distance": {"type": "integer"},
                    "addresses": {"properties": {"this": keyword(LABEL_LENGTH), "watched": keyword(LABEL_LENGTH)}},
                }
            },
            "first_seen": date,
            "last_seen": date,
            "state": keyword(),
            "state_changed_by": keyword(),
            "state_changed_at": date,
            "state_note": {"type": "text"},
            "history": {
                "properties": {"state": keyword(), "by": keyword(), "at": date, "note": {"type": "text"}}
            },
            "source": keyword(),
            "crawl_id": keyword(),
            "created_at": date,
            "schema_version": {"type": "short"},
        },
    }


# kind -> mapping builder (each takes ``language_analyzers``). To add an index kind, add its builder here: es init,
# the aliases (``<prefix>-<kind>``), the docs/mapping test and the template tests pick it up.
MAPPING_BUILDERS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "pages": page_mappings,
    "entities": entity_mappings,
    "sightings": sighting_mappings,
    "crawls": crawl_mappings,
    "sites": site_mappings,  # the recrawl state (crawler/scheduling/recrawl.py)
    "alerts": alert_mappings,  # what the watches found (crawler/alerts)
    "versions": version_mappings,  # the page history (crawler/sink/bulk.py writes it, darkcrawl history reads it)
}
KINDS = tuple(MAPPING_BUILDERS)
# The kinds whose text gets per-language sub-fields: the pages (the versions keep their text for reading by date, and
# analysing it five more times for a search nobody makes would double the indexing cost of every new page).
PROSE_KINDS = frozenset({"pages"})


def mappings_for(kind: str, language_analyzers: bool = False) -> dict[str, Any]:
    """The mapping of one kind of index (see :data:`KINDS`). Raises KeyError for another kind."""
    return MAPPING_BUILDERS[kind](language_analyzers and kind in PROSE_KINDS)


def index_settings(kind: str) -> dict[str, Any]:
    """Index settings: one shard (investigation-sized data), a replica only when a second node can hold it."""
    settings: dict[str, Any] = {
        "number_of_shards": 1,
        "auto_expand_replicas": "0-1",
        "refresh_interval": "5s" if kind in ("pages", "versions") else "1s",
    }
    if kind == "pages":
        settings["mapping"] = {"nested_objects": {"limit": 10000}, "total_fields": {"limit": 1000}}
    return settings


def index_template(
    kind: str, prefix: str, language_analyzers: bool = False, version: int = SCHEMA_VERSION
) -> dict[str, Any]:
    """The composable template for ``<prefix>-<kind>-*`` indices; ``version`` decides upgrades (see es init).

    Language analyzers apply to the pages index only (the others hold no prose)."""
    language_analyzers = language_analyzers and kind in PROSE_KINDS
    mappings = mappings_for(kind, language_analyzers)
    mappings["_meta"]["darkcrawl_schema_version"] = version
    return {
        "index_patterns": [f"{prefix}-{kind}-*"],
        "priority": TEMPLATE_PRIORITY,
        "version": version,
        "_meta": {"managed_by": "darkcrawl", "kind": kind, "language_analyzers": language_analyzers},
        "template": {"settings": {"index": index_settings(kind)}, "mappings": mappings},
    }


def mapped_fields(mappings: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Every field path of *mappings* with its type: objects as ``object``, sub-fields as ``field.sub``."""
    fields: dict[str, str] = {}
    for name, spec in mappings.get("properties", {}).items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            fields[path] = spec.get("type", "object")
            fields.update(mapped_fields(spec, f"{path}."))
        else:
            fields[path] = spec["type"]
        for sub, sub_spec in spec.get("fields", {}).items():
            fields[f"{path}.{sub}"] = sub_spec["type"]
    return fields
