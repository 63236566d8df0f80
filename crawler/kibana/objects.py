"""darkcrawl's Kibana saved objects, built as data for one index prefix. Documented in deploy/README.md ("Kibana").

* :func:`saved_objects` -- every object for a prefix, referenced objects before the objects that reference them.
* :func:`render_ndjson` -- those objects as the NDJSON Kibana 9.x imports (``POST /api/saved_objects/_import``).
* :func:`object_id` -- the id of one object under a prefix (ids carry the prefix: two teams share a Kibana space).
* :data:`DEFAULT_FILE` -- the committed rendering for the default prefix (a unit test keeps it equal to the code).

``python -m crawler.kibana.objects [PREFIX] > FILE`` writes the rendering (``darkcrawl kibana render`` does the same).

The objects are written in the shapes Kibana's own export produces (``coreMigrationVersion`` 8.8.0 and each type's
``typeMigrationVersion``): Kibana migrates objects of an older type version on import, never a newer one, so the
versions here are the oldest ones that already have these shapes. Charts are Lens objects on the data views; the
watch-list categories chart is a Vega visualization because ``signals.keywords`` is ``nested`` (term and category
stay paired) and Lens cannot aggregate nested fields. No field format turns URLs into links: an analyst's browser
must not open onion or clearnet addresses by a stray click.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from crawler.es.templates import KINDS
from pipelines.extract.keywords import default_watchlist_path, read_watchlist

DEFAULT_PREFIX = "darkcrawl"
DEFAULT_FILE = Path(__file__).resolve().parents[2] / "deploy" / "kibana" / "darkcrawl.ndjson"

CORE_MIGRATION_VERSION = "8.8.0"
# Oldest type versions with the attribute shapes below; Kibana 9.x migrates them forward on import.
TYPE_MIGRATION_VERSIONS = {
    "index-pattern": "8.0.0",
    "search": "10.5.0",
    "lens": "8.9.0",
    "visualization": "8.5.0",
    "dashboard": "10.2.0",
}

# Time field of each data view (one per index kind, crawler.es.templates.KINDS): when a page, an entity or one
# sighting was last seen; when a crawl started.
TIME_FIELDS = {
    "pages": "last_seen",
    "entities": "last_seen",
    "sightings": "last_seen",
    "crawls": "started_at",
    "sites": "last_visit",  # the recrawl state (crawler/scheduling/recrawl.py)
    "alerts": "first_seen",  # when a watch first fired (crawler/alerts)
    "versions": "first_seen",  # the page history: when the page began to show that content
}
LAYER = "layer1"
KQL = "kuery"


def object_id(prefix: str, name: str) -> str:
    """The id of object *name* under *prefix*: ``<prefix>-<name>``."""
    return f"{prefix}-{name}"


def data_view_id(prefix: str, kind: str) -> str:
    return object_id(prefix, f"data-view-{kind}")


def saved_object(
    kind: str, identifier: str, attributes: dict[str, Any], references: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """One saved object with the envelope Kibana's export writes."""
    return {
        "attributes": attributes,
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "id": identifier,
        "managed": False,
        "references": references or [],
        "type": kind,
        "typeMigrationVersion": TYPE_MIGRATION_VERSIONS[kind],
    }


def reference(kind: str, identifier: str, name: str) -> dict[str, str]:
    return {"id": identifier, "name": name, "type": kind}


# --- data views --------------------------------------------------------------------------------------------------


def data_view(prefix: str, kind: str) -> dict[str, Any]:
    """The data view of one read alias (``<prefix>-pages`` ...); Kibana reads the fields from the cluster."""
    return saved_object(
        "index-pattern",
        data_view_id(prefix, kind),
        {
            "fieldAttrs": "{}",
            "fieldFormatMap": "{}",
            "fields": "[]",
            "name": f"{prefix} {kind}",
            "runtimeFieldMap": "{}",
            "sourceFilters": "[]",
            "timeFieldName": TIME_FIELDS[kind],
            "title": f"{prefix}-{kind}",
        },
    )


# --- saved searches (Discover sessions) --------------------------------------------------------------------------

INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"


def saved_search(
    prefix: str, name: str, title: str, description: str, kind: str, query: str, columns: list[str]
) -> dict[str, Any]:
    """A KQL saved search on one data view, newest first."""
    source = {"query": {"query": query, "language": KQL}, "filter": [], "indexRefName": INDEX_REF}
    return search_object(
        prefix, name, title, description, columns, source, sort=[[TIME_FIELDS[kind], "desc"]], text_based=False,
        references=[reference("index-pattern", data_view_id(prefix, kind), INDEX_REF)],
    )


def esql_search(prefix: str, name: str, title: str, description: str, esql: str, columns: list[str]) -> dict[str, Any]:
    """An ES|QL saved search: for questions a filter cannot ask (a site's *first* page), no data view needed."""
    source = {"query": {"esql": esql}, "filter": []}
    return search_object(prefix, name, title, description, columns, source, sort=[], text_based=True)


def search_object(
    prefix: str,
    name: str,
    title: str,
    description: str,
    columns: list[str],
    source: dict[str, Any],
    sort: list[list[str]],
    text_based: bool,
    references: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The saved object of a Discover search, KQL or ES|QL (*text_based*: no chart, no data view)."""
    return saved_object(
        "search",
        object_id(prefix, name),
        {
            "columns": columns,
            "description": description,
            "grid": {},
            "hideChart": text_based,
            "isTextBasedQuery": text_based,
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(source, sort_keys=True)},
            "sort": sort,
            "timeRestore": False,
            "title": title,
        },
        references,
    )


def new_sites_esql(prefix: str) -> str:
    """Sites whose first page was first seen in the last 7 days, with their page counts."""
    return (
        f"FROM {prefix}-pages"
        " | STATS first_page_seen = MIN(first_seen), pages = COUNT(*) BY site"
        " | WHERE first_page_seen >= NOW() - 7 days"
        " | SORT first_page_seen DESC"
        " | LIMIT 1000"
    )


def watchlist_categories(paths: list[Path] | None = None) -> list[str]:
    """The categories of the shipped watch list (or of *paths*), sorted."""
    terms = [term for path in (paths or [default_watchlist_path()]) for term in read_watchlist(path)]
    return sorted({term.category for term in terms})


def saved_searches(prefix: str, categories: list[str]) -> list[dict[str, Any]]:
    page_columns = ["site", "url", "title", "language"]
    searches = [
        esql_search(
            prefix,
            "search-new-sites-this-week",
            "darkcrawl: new sites this week",
            "Sites whose first crawled page was first seen in the last 7 days (ES|QL), with their page counts.",
            new_sites_esql(prefix),
            ["site", "first_page_seen", "pages"],
        ),
        saved_search(
            prefix,
            "search-crypto-pages",
            "darkcrawl: pages with crypto addresses",
            "Pages carrying at least one checksum-validated cryptocurrency address.",
            "pages",
            "signals.crypto_addresses.address:*",
            ["site", "url", "signals.crypto_addresses.currency", "signals.crypto_addresses.address"],
        ),
        saved_search(
            prefix,
            "search-entities-on-several-sites",
            "darkcrawl: entities seen on several sites",
            "Addresses, keys, e-mails, handles, vendors and onions seen on two sites or more: the pivots.",
            "entities",
            "counts.sites >= 2",
            ["kind", "label", "counts.sites", "counts.pages", "sites"],
        ),
        open_alerts_search(prefix),
    ]
    for category in categories:
        searches.append(
            saved_search(
                prefix,
                f"search-category-{category}",
                f"darkcrawl: watch-list category {category}",
                f"Pages with at least one watch-list term of category '{category}' (signals.keywords is nested: "
                "term and category of one hit are matched together).",
                "pages",
                f'signals.keywords:{{ category: "{category}" }}',
                [*page_columns, "signals.keywords.term"],
            )
        )
    return searches


def open_alerts_search(prefix: str) -> dict[str, Any]:
    """The alerts nobody has acknowledged or dismissed yet (``darkcrawl alerts list --state new``)."""
    return saved_search(
        prefix,
        "search-open-alerts",
        "darkcrawl: open alerts",
        "Alerts in state new: what the watches found that nobody acknowledged or dismissed yet "
        "(darkcrawl alerts ack|dismiss ID).",
        "alerts",
        'state: "new"',
        ["watch.name", "watch.severity", "page.site", "page.url", "matches.value"],
    )


# --- Lens charts -------------------------------------------------------------------------------------------------


def count_column(label: str) -> dict[str, Any]:
    return {
        "dataType": "number",
        "isBucketed": False,
        "label": label,
        "customLabel": True,
        "operationType": "count",
        "params": {"emptyAsNull": True},
        "scale": "ratio",
        "sourceField": "___records___",
    }


def metric_column(operation: str, field: str, label: str) -> dict[str, Any]:
    """A numeric metric of *field*: ``unique_count``, ``sum``, ``max``, ``min``."""
    return {
        "dataType": "number",
        "isBucketed": False,
        "label": label,
        "customLabel": True,
        "operationType": operation,
        "params": {"emptyAsNull": True},
        "scale": "ratio",
        "sourceField": field,
    }


def date_column(field: str, label: str) -> dict[str, Any]:
    return {
        "dataType": "date",
        "isBucketed": True,
        "label": label,
        "customLabel": True,
        "operationType": "date_histogram",
        "params": {"dropPartials": False, "includeEmptyRows": True, "interval": "auto"},
        "scale": "interval",
        "sourceField": field,
    }


def terms_column(field: str, label: str, size: int, order_by: str, data_type: str = "string") -> dict[str, Any]:
    """The top *size* values of *field*, ordered by the metric column *order_by*."""
    return {
        "dataType": data_type,
        "isBucketed": True,
        "label": label,
        "customLabel": True,
        "operationType": "terms",
        "params": {
            "missingBucket": False,
            "orderBy": {"columnId": order_by, "type": "column"},
            "orderDirection": "desc",
            "otherBucket": False,
            "parentFormat": {"id": "terms"},
            "size": size,
        },
        "scale": "ordinal",
        "sourceField": field,
    }


def lens(
    prefix: str,
    name: str,
    title: str,
    kind: str,
    visualization_type: str,
    columns: dict[str, dict[str, Any]],
    visualization: dict[str, Any],
    query: str = "",
    description: str = "",
) -> dict[str, Any]:
    """A Lens chart with one layer on the data view of *kind*; *columns* in display order."""
    state = {
        "adHocDataViews": {},
        "datasourceStates": {
            "formBased": {
                "layers": {LAYER: {"columnOrder": list(columns), "columns": columns, "incompleteColumns": {}}}
            }
        },
        "filters": [],
        "internalReferences": [],
        "query": {"language": KQL, "query": query},
        "visualization": visualization,
    }
    return saved_object(
        "lens",
        object_id(prefix, name),
        {"description": description, "state": state, "title": title, "visualizationType": visualization_type},
        [reference("index-pattern", data_view_id(prefix, kind), f"indexpattern-datasource-layer-{LAYER}")],
    )


def xy(x: str, accessors: list[str], series: str = "bar_stacked", split: str | None = None) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "accessors": accessors,
        "layerId": LAYER,
        "layerType": "data",
        "seriesType": series,
        "xAccessor": x,
    }
    if split:
        layer["splitAccessor"] = split
    return {
        "layers": [layer],
        "legend": {"isVisible": True, "position": "right"},
        "preferredSeriesType": series,
        "valueLabels": "hide",
    }


def table(columns: list[str]) -> dict[str, Any]:
    return {"columns": [{"columnId": column} for column in columns], "layerId": LAYER, "layerType": "data"}


def pie(group: str, metric: str) -> dict[str, Any]:
    return {
        "layers": [
            {
                "categoryDisplay": "default",
                "layerId": LAYER,
                "layerType": "data",
                "legendDisplay": "default",
                "metrics": [metric],
                "nestedLegend": False,
                "numberDisplay": "percent",
                "primaryGroups": [group],
            }
        ],
        "shape": "donut",
    }


def page_charts(prefix: str) -> list[dict[str, Any]]:
    over_time = {
        "when": date_column("last_seen", "last seen"),
        "language": terms_column("language", "language", 5, "pages"),
        "pages": count_column("pages"),
    }
    languages = {"language": terms_column("language", "language", 10, "pages"), "pages": count_column("pages")}
    return [
        lens(
            prefix, "lens-pages-over-time", "darkcrawl: pages over time", "pages", "lnsXY", over_time,
            xy("when", ["pages"], split="language"),
            description="Pages by the time they were last fetched, split by language.",
        ),
        lens(
            prefix, "lens-languages", "darkcrawl: languages", "pages", "lnsPie", languages, pie("language", "pages"),
            description="Share of pages per detected language.",
        ),
    ]


def top_entities(prefix: str, entity_kind: str, name: str, title: str, description: str) -> dict[str, Any]:
    """The entities of one kind seen on the most sites (the roll-up's exact counts), with their latest sighting."""
    columns = {
        "value": terms_column("value", entity_kind.replace("_", " "), 20, "sites"),
        "sites": metric_column("max", "counts.sites", "sites"),
        "pages": metric_column("max", "counts.pages", "pages"),
        "last": metric_column("max", "last_seen", "last seen"),
    }
    columns["last"]["dataType"] = "date"
    return lens(
        prefix, name, title, "entities", "lnsDatatable", columns, table(list(columns)),
        query=f'kind: "{entity_kind}"', description=description,
    )


def entity_charts(prefix: str) -> list[dict[str, Any]]:
    return [
        top_entities(
            prefix, "crypto_address", "lens-top-crypto-addresses", "darkcrawl: top crypto addresses",
            "Addresses seen on the most sites (one operator behind several onions); pivot: darkcrawl pivot VALUE.",
        ),
        top_entities(
            prefix, "vendor", "lens-top-vendors", "darkcrawl: top vendors",
            "Vendor names (case-folded) seen on the most sites.",
        ),
    ]


def crawl_charts(prefix: str) -> list[dict[str, Any]]:
    health = {
        "when": date_column("started_at", "crawl started"),
        "fetched": metric_column("sum", "pages_fetched", "pages fetched"),
        "errors": metric_column("sum", "errors_total", "errors"),
        "tor": metric_column("sum", "tor_failures", "Tor failures"),
        "failed": metric_column("sum", "pages_failed", "pages rejected by Elasticsearch"),
    }
    recent = {
        "crawl": terms_column("crawl_id", "crawl", 20, "started"),
        "status": terms_column("status", "status", 1, "started"),
        "reason": terms_column("finish_reason", "finish reason", 1, "started"),
        "started": metric_column("max", "started_at", "started"),
        "fetched": metric_column("sum", "pages_fetched", "pages fetched"),
        "indexed": metric_column("sum", "pages_indexed", "indexed"),
        "spooled": metric_column("sum", "pages_spooled", "spooled"),
        "errors": metric_column("sum", "errors_total", "errors"),
        "tor": metric_column("sum", "tor_failures", "Tor failures"),
        "seconds": metric_column("max", "elapsed_seconds", "seconds"),
    }
    recent["started"]["dataType"] = "date"
    return [
        lens(
            prefix, "lens-crawl-pages", "darkcrawl: crawl health over time", "crawls", "lnsXY", health,
            xy("when", ["fetched", "errors", "tor", "failed"], series="bar"),
            description="Per crawl start: pages fetched, errors, Tor failures, pages Elasticsearch rejected.",
        ),
        lens(
            prefix, "lens-crawl-runs", "darkcrawl: crawl health, recent crawls", "crawls", "lnsDatatable", recent,
            table(list(recent)), description="The latest crawls: how they ended, pages fetched and indexed, duration.",
        ),
    ]


def alert_charts(prefix: str) -> list[dict[str, Any]]:
    """Open alerts per watch and severity, with the latest."""
    columns = {
        "watch": terms_column("watch.name", "watch", 20, "alerts"),
        "severity": terms_column("watch.severity", "severity", 4, "alerts"),
        "alerts": count_column("open alerts"),
        "sites": metric_column("unique_count", "page.site", "sites"),
        "last": metric_column("max", "last_seen", "last seen"),
    }
    columns["last"]["dataType"] = "date"
    return [
        lens(
            prefix, "lens-open-alerts", "darkcrawl: open alerts per watch", "alerts", "lnsDatatable", columns,
            table(list(columns)), query='state: "new"',
            description="Alerts in state new per watch and severity: how many, on how many sites, the latest.",
        )
    ]


# --- the watch-list categories chart (Vega: nested aggregation) --------------------------------------------------


def categories_spec(prefix: str) -> dict[str, Any]:
    """Vega-Lite: pages per watch-list category (a nested terms aggregation, counted back on the pages)."""
    body = {
        "size": 0,
        "aggs": {
            "hits": {
                "nested": {"path": "signals.keywords"},
                "aggs": {
                    "categories": {
                        "terms": {"field": "signals.keywords.category", "size": 20},
                        "aggs": {"pages": {"reverse_nested": {}}},
                    }
                },
            }
        },
    }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": "Pages per watch-list category",
        "data": {
            "url": {"index": f"{prefix}-pages", "%context%": True, "%timefield%": TIME_FIELDS["pages"], "body": body},
            "format": {"property": "aggregations.hits.categories.buckets"},
        },
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "y": {"field": "key", "type": "nominal", "sort": "-x", "title": "category"},
            "x": {"field": "pages.doc_count", "type": "quantitative", "title": "pages"},
        },
    }


def vega(prefix: str, name: str, title: str, spec: dict[str, Any], description: str) -> dict[str, Any]:
    vis_state = {"aggs": [], "params": {"spec": json.dumps(spec, indent=2)}, "title": title, "type": "vega"}
    search_source = {"query": {"query": "", "language": KQL}, "filter": []}
    return saved_object(
        "visualization",
        object_id(prefix, name),
        {
            "description": description,
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(search_source, sort_keys=True)},
            "title": title,
            "uiStateJSON": "{}",
            "version": 1,
            "visState": json.dumps(vis_state, sort_keys=True),
        },
    )


# --- the dashboard -----------------------------------------------------------------------------------------------

# (object name, x, y, width, height) on Kibana's 48-column grid.
DASHBOARD_LAYOUT = (
    ("search-open-alerts", 0, 0, 32, 14),
    ("lens-open-alerts", 32, 0, 16, 14),
    ("lens-pages-over-time", 0, 14, 32, 12),
    ("lens-languages", 32, 14, 16, 12),
    ("vega-keyword-categories", 0, 26, 24, 14),
    ("lens-top-crypto-addresses", 24, 26, 24, 14),
    ("lens-top-vendors", 0, 40, 24, 14),
    ("lens-crawl-pages", 24, 40, 24, 14),
    ("lens-crawl-runs", 0, 54, 48, 12),
)


def dashboard(prefix: str, panels: list[dict[str, Any]]) -> dict[str, Any]:
    """The analysts' overview: the open alerts, then every chart above, by reference; the last 30 days by
    default."""
    by_id = {panel["id"]: panel for panel in panels}
    panel_specs: list[dict[str, Any]] = []
    references: list[dict[str, str]] = []
    for number, (name, x, y, width, height) in enumerate(DASHBOARD_LAYOUT, start=1):
        target = by_id[object_id(prefix, name)]
        index = f"p{number}"
        panel_specs.append(
            {
                "embeddableConfig": {"enhancements": {}},
                "gridData": {"h": height, "i": index, "w": width, "x": x, "y": y},
                "panelIndex": index,
                "panelRefName": f"panel_{index}",
                "type": target["type"],
            }
        )
        references.append(reference(target["type"], target["id"], f"{index}:panel_{index}"))
    options = {"hidePanelTitles": False, "syncColors": False, "syncCursor": True, "syncTooltips": False,
               "useMargins": True}
    search_source = {"query": {"query": "", "language": KQL}, "filter": []}
    return saved_object(
        "dashboard",
        object_id(prefix, "dashboard-overview"),
        {
            "description": "darkcrawl: the open alerts, what was crawled, in which languages, which watch-list "
            "categories, the addresses and vendors seen on the most sites, and whether the crawls are healthy.",
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(search_source, sort_keys=True)},
            "optionsJSON": json.dumps(options, sort_keys=True),
            "panelsJSON": json.dumps(panel_specs, sort_keys=True),
            "refreshInterval": {"pause": True, "value": 60000},
            "timeFrom": "now-30d",
            "timeRestore": True,
            "timeTo": "now",
            "title": "darkcrawl overview",
            "version": 1,
        },
        references,
    )


# --- all of it ---------------------------------------------------------------------------------------------------


def saved_objects(prefix: str = DEFAULT_PREFIX, categories: list[str] | None = None) -> list[dict[str, Any]]:
    """Every saved object for *prefix*, referenced objects first. *categories*: the watch-list categories that get a
    saved search each (default: those of the shipped watch list)."""
    categories = watchlist_categories() if categories is None else categories
    views = [data_view(prefix, kind) for kind in KINDS]
    charts = [
        *page_charts(prefix),
        *entity_charts(prefix),
        vega(
            prefix, "vega-keyword-categories", "darkcrawl: watch-list categories", categories_spec(prefix),
            "Pages per watch-list category (Vega: the keywords are nested, which Lens cannot aggregate).",
        ),
        *crawl_charts(prefix),
        *alert_charts(prefix),
    ]
    searches = saved_searches(prefix, categories)
    return [*views, *searches, *charts, dashboard(prefix, charts + searches)]


def render_ndjson(prefix: str = DEFAULT_PREFIX, categories: list[str] | None = None) -> str:
    """The objects as NDJSON: one object a line, keys sorted, so the rendering is stable and diffs read well."""
    lines = [
        json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        for item in saved_objects(prefix, categories)
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_ndjson(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_PREFIX))
