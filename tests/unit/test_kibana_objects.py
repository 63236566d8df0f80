"""The Kibana saved objects against the index mappings: every field a data view, saved search or chart names exists
in the mapping templates.py renders (in both language-analyzer shapes), is aggregatable where it is aggregated, and
every reference resolves. Kibana cannot run here: its import is checked by hand (deploy/README.md)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from crawler.es.templates import KINDS, mapped_fields, mappings_for
from crawler.kibana.objects import DEFAULT_FILE, LAYER, render_ndjson, saved_objects

AGGREGATABLE = {"keyword", "date", "long", "integer", "short", "byte", "double", "float", "half_float",
                "scaled_float", "boolean", "ip"}
PREFIX = "darkcrawl"


def fields_of(kind: str, language_analyzers: bool) -> dict[str, str]:
    return mapped_fields(mappings_for(kind, language_analyzers))


def nested_paths(fields: dict[str, str]) -> list[str]:
    return [path for path, kind in fields.items() if kind == "nested"]


def inside_nested(field: str, fields: dict[str, str]) -> str | None:
    """The nested path *field* lies under, if any."""
    for path in nested_paths(fields):
        if field.startswith(path + "."):
            return path
    return None


def kql_fields(query: str) -> list[str]:
    """Field names a KQL query names: ``field: value``, ``field >= value`` and nested ``path:{ sub: value }``."""
    names: list[str] = []
    for path, inner in re.findall(r"([A-Za-z_][\w.]*)\s*:\s*\{([^}]*)\}", query):
        names += [f"{path}.{sub}" for sub in re.findall(r"([A-Za-z_][\w.]*)\s*(?::|<=|>=|<|>)", inner)]
    rest = re.sub(r"[A-Za-z_][\w.]*\s*:\s*\{[^}]*\}", " ", query)
    rest = re.sub(r'"[^"]*"', " ", rest)
    names += re.findall(r"([A-Za-z_][\w.]*)\s*(?::|<=|>=|<|>)", rest)
    return names


ESQL_WORDS = {"from", "stats", "by", "where", "sort", "desc", "asc", "limit", "now", "days", "day", "hours", "min",
              "max", "count", "eval", "keep", "and", "or", "not"}


def esql_parts(query: str) -> tuple[str, list[str]]:
    """The index an ES|QL query reads and the field names it uses (identifiers that are neither keywords, functions
    nor columns the query itself defines with ``name = ...``)."""
    index = re.match(r"\s*FROM\s+([\w.-]+)", query, re.IGNORECASE)
    assert index, query
    body = query[index.end():]
    defined = set(re.findall(r"([A-Za-z_]\w*)\s*=(?!=)", body))
    body = re.sub(r'"[^"]*"', " ", body)
    names = [name for name in re.findall(r"[A-Za-z_][\w.]*", body)
             if name.lower() not in ESQL_WORDS and name not in defined]
    return index.group(1), names


def aggregation_fields(aggs: dict[str, Any], nested: str | None = None) -> list[tuple[str, str | None]]:
    """(field, enclosing nested path) of every aggregation in an Elasticsearch ``aggs`` tree."""
    found: list[tuple[str, str | None]] = []
    for agg in aggs.values():
        inner_nested = nested
        for kind, params in agg.items():
            if kind == "aggs":
                continue
            if kind == "nested":
                found.append((params["path"], "<nested-path>"))
                inner_nested = params["path"]
            elif kind == "reverse_nested":
                inner_nested = None
            elif isinstance(params, dict) and "field" in params:
                found.append((params["field"], nested))
        found += aggregation_fields(agg.get("aggs", {}), inner_nested)
    return found


def load(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


OBJECTS = saved_objects(PREFIX)
BY_ID = {item["id"]: item for item in OBJECTS}


def data_view_kind(item: dict[str, Any], name: str) -> str:
    """The kind (pages/entities/crawls) of the data view that *item* references under *name*."""
    (ref,) = [ref for ref in item["references"] if ref["name"] == name]
    title = BY_ID[ref["id"]]["attributes"]["title"]
    assert title.startswith(PREFIX + "-")
    return title.removeprefix(PREFIX + "-")


def test_committed_file_is_the_rendering():
    """deploy/kibana/darkcrawl.ndjson is generated: regenerate with `darkcrawl kibana render -o <that file>`."""
    assert DEFAULT_FILE.read_text(encoding="utf-8") == render_ndjson()


def test_file_is_ndjson_with_unique_ids_and_kibana_envelopes():
    items = load(render_ndjson())
    assert len({(item["type"], item["id"]) for item in items}) == len(items)
    for item in items:
        assert item["coreMigrationVersion"] == "8.8.0"
        assert re.fullmatch(r"\d+\.\d+\.\d+", item["typeMigrationVersion"])
        assert item["attributes"]["title"]
    types = [item["type"] for item in items]
    assert types.count("index-pattern") == len(KINDS) and types.count("dashboard") == 1
    assert {"search", "lens", "visualization"} <= set(types)


def test_there_is_a_data_view_for_each_read_alias():
    views = {item["attributes"]["title"]: item for item in OBJECTS if item["type"] == "index-pattern"}
    assert set(views) == {f"{PREFIX}-{kind}" for kind in KINDS}


@pytest.mark.parametrize("language_analyzers", [False, True])
def test_data_view_time_fields_are_dates(language_analyzers):
    for item in OBJECTS:
        if item["type"] == "index-pattern":
            kind = item["attributes"]["title"].removeprefix(PREFIX + "-")
            assert fields_of(kind, language_analyzers)[item["attributes"]["timeFieldName"]] == "date"


@pytest.mark.parametrize("language_analyzers", [False, True])
def test_saved_search_fields_exist(language_analyzers):
    checked = 0
    for item in OBJECTS:
        if item["type"] != "search":
            continue
        attributes = item["attributes"]
        source = json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])
        if attributes["isTextBasedQuery"]:
            index, names = esql_parts(source["query"]["esql"])
            fields = fields_of(index.removeprefix(PREFIX + "-"), language_analyzers)
            assert names, "the ES|QL query names no field"
            for name in names:
                assert name in fields, f"{item['id']}: ES|QL names {name}, not in the mapping"
            continue
        kind = data_view_kind(item, source["indexRefName"])
        fields = fields_of(kind, language_analyzers)
        for column in attributes["columns"]:
            assert column in fields, f"{item['id']}: column {column} is not in the {kind} mapping"
        for field, _direction in attributes["sort"]:
            assert fields[field] in AGGREGATABLE, f"{item['id']}: cannot sort on {field}"
        names = kql_fields(source["query"]["query"])
        assert names
        for name in names:
            assert name in fields, f"{item['id']}: query names {name}, not in the {kind} mapping"
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("language_analyzers", [False, True])
def test_lens_fields_exist_and_are_aggregatable(language_analyzers):
    checked = 0
    for item in OBJECTS:
        if item["type"] != "lens":
            continue
        state = item["attributes"]["state"]
        for layer_id, layer in state["datasourceStates"]["formBased"]["layers"].items():
            kind = data_view_kind(item, f"indexpattern-datasource-layer-{layer_id}")
            fields = fields_of(kind, language_analyzers)
            assert set(layer["columnOrder"]) == set(layer["columns"])
            for column in layer["columns"].values():
                field = column["sourceField"]
                if column["operationType"] == "count":
                    assert field == "___records___"
                    continue
                assert field in fields, f"{item['id']}: {field} is not in the {kind} mapping"
                assert fields[field] in AGGREGATABLE, f"{item['id']}: {field} ({fields[field]}) is not aggregatable"
                assert inside_nested(field, fields) is None, f"{item['id']}: Lens cannot aggregate nested {field}"
                checked += 1
            for name in kql_fields(state["query"]["query"]):
                assert name in fields
    assert checked >= 10


@pytest.mark.parametrize("language_analyzers", [False, True])
def test_vega_aggregations_use_mapped_fields(language_analyzers):
    vegas = [item for item in OBJECTS if item["type"] == "visualization"]
    assert vegas
    for item in vegas:
        spec = json.loads(json.loads(item["attributes"]["visState"])["params"]["spec"])
        url = spec["data"]["url"]
        kind = url["index"].removeprefix(PREFIX + "-")
        fields = fields_of(kind, language_analyzers)
        assert fields[url["%timefield%"]] == "date"
        used = aggregation_fields(url["body"]["aggs"])
        assert used
        for field, nested in used:
            if nested == "<nested-path>":
                assert fields.get(field) == "nested", f"{field} is not a nested path"
                continue
            assert field in fields and fields[field] in AGGREGATABLE, field
            assert inside_nested(field, fields) == nested, f"{field} aggregated outside its nested path"


def test_lens_layers_put_buckets_before_metrics_and_reference_real_columns():
    for item in OBJECTS:
        if item["type"] != "lens":
            continue
        state = item["attributes"]["state"]
        for layer in state["datasourceStates"]["formBased"]["layers"].values():
            bucketed = [layer["columns"][name]["isBucketed"] for name in layer["columnOrder"]]
            assert bucketed == sorted(bucketed, reverse=True), f"{item['id']}: a bucket after a metric"
            for column in layer["columns"].values():
                order = column["params"].get("orderBy", {})
                if order.get("type") == "column":
                    assert not layer["columns"][order["columnId"]]["isBucketed"], item["id"]
        columns = set(state["datasourceStates"]["formBased"]["layers"][LAYER]["columns"])
        shown = accessors(state["visualization"])
        assert shown, item["id"]
        for accessor in shown:
            assert accessor in columns, f"{item['id']}: the chart shows unknown column {accessor}"


ACCESSOR_KEYS = {"xAccessor", "splitAccessor", "columnId", "accessors", "metrics", "primaryGroups"}


def accessors(node: Any) -> list[str]:
    """Every column id a Lens visualization state points at."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ACCESSOR_KEYS:
                found += value if isinstance(value, list) else [value]
            else:
                found += accessors(value)
    elif isinstance(node, list):
        for value in node:
            found += accessors(value)
    return found


def test_every_reference_resolves():
    ids = {(item["type"], item["id"]) for item in OBJECTS}
    for item in OBJECTS:
        names = [ref["name"] for ref in item["references"]]
        assert len(names) == len(set(names)), item["id"]
        for ref in item["references"]:
            assert (ref["type"], ref["id"]) in ids, f"{item['id']} references missing {ref['type']} {ref['id']}"


def test_reference_names_used_in_attributes_exist():
    for item in OBJECTS:
        names = {ref["name"] for ref in item["references"]}
        attributes = item["attributes"]
        if item["type"] == "search" and not attributes["isTextBasedQuery"]:
            source = json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])
            assert source["indexRefName"] in names
        if item["type"] == "lens":
            for layer_id in attributes["state"]["datasourceStates"]["formBased"]["layers"]:
                assert f"indexpattern-datasource-layer-{layer_id}" in names
        if item["type"] == "dashboard":
            panels = json.loads(attributes["panelsJSON"])
            assert len(panels) == len(names) >= 6
            for panel in panels:
                assert f"{panel['panelIndex']}:{panel['panelRefName']}" in names
                (ref,) = [ref for ref in item["references"] if ref["name"].startswith(panel["panelIndex"] + ":")]
                assert ref["type"] == panel["type"]


def test_dashboard_panels_do_not_overlap():
    (board,) = [item for item in OBJECTS if item["type"] == "dashboard"]
    cells: set[tuple[int, int]] = set()
    for panel in json.loads(board["attributes"]["panelsJSON"]):
        grid = panel["gridData"]
        assert grid["x"] + grid["w"] <= 48
        columns, rows = range(grid["x"], grid["x"] + grid["w"]), range(grid["y"], grid["y"] + grid["h"])
        area = {(x, y) for x in columns for y in rows}
        assert not cells & area, panel["panelIndex"]
        cells |= area


def test_prefix_changes_every_index_and_id():
    text = render_ndjson("teamb")
    assert "darkcrawl-" not in text.replace("darkcrawl:", "")
    items = load(text)
    assert all(item["id"].startswith("teamb-") for item in items)
    titles = {item["attributes"]["title"] for item in items if item["type"] == "index-pattern"}
    assert titles == {f"teamb-{kind}" for kind in KINDS}


def test_one_saved_search_per_watchlist_category():
    items = saved_objects(PREFIX, categories=["drugs", "weapons"])
    queries = [json.loads(item["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]
               for item in items if item["type"] == "search"]
    category_queries = [q["query"] for q in queries if "signals.keywords" in q.get("query", "")]
    assert category_queries == ['signals.keywords:{ category: "drugs" }', 'signals.keywords:{ category: "weapons" }']


def test_the_extractors_catch_a_wrong_field():
    """The checks above can fail: a misspelt field and an aggregation outside its nested path are seen."""
    fields = fields_of("pages", False)
    assert "signals.keyword.category" not in fields
    assert kql_fields('signals.keywords:{ categry: "x" }') == ["signals.keywords.categry"]
    assert kql_fields("last_seen >= now-7d and site: abc") == ["last_seen", "site"]
    assert esql_parts("FROM p | STATS a = MIN(first_seen) BY site | WHERE a > 1")[1] == ["first_seen", "site"]
    assert aggregation_fields({"t": {"terms": {"field": "signals.keywords.category"}}}) == [
        ("signals.keywords.category", None)
    ]
    assert inside_nested("signals.keywords.category", fields) == "signals.keywords"
