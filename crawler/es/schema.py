"""Index names and the installation of templates and first indices (``darkcrawl es init``). See docs/schema.md.

* :func:`index_names` -- the aliases, patterns and template names under ``DARKCRAWL_ES_INDEX_PREFIX``: use these,
  never hand-built names.
* :func:`entity_id` -- the deterministic id of an entity document (SHA-256 of kind and value).
* :func:`node_modules` -- the modules and plugins every node of the cluster has (``GET _nodes/plugins``).
* :func:`init_schema` -- idempotent: installs or upgrades the composable templates when ``SCHEMA_VERSION`` rises, and
  creates ``<prefix>-<kind>-000001`` with its alias ``<prefix>-<kind>`` (the write index) when the alias is missing.
* :func:`ensure_indices` -- connect with the settings, check the cluster, run :func:`init_schema`.

An upgrade (``SCHEMA_VERSION`` rose, or optional fields were added within a version) adds the new mapping to the write
index when the change is additive; when Elasticsearch refuses it (a changed field type), or when it adds sub-fields
to a field that documents already have (the language sub-fields once the analysis plugin is installed: documents
indexed before would lack them), the alias moves to a new index created from the new template with every document
copied (:func:`_migrate`), so each alias always has one index and id-based upserts and ``mget`` through it stay
exact.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crawler.errors import ServiceError, UsageError
from crawler.es.templates import (
    ANALYSIS_PLUGIN,
    KINDS,
    SCHEMA_VERSION,
    index_settings,
    index_template,
    mapped_fields,
    mappings_for,
)

if TYPE_CHECKING:
    # the client library is imported where Elasticsearch is asked: names, ids and templates are read without it
    from elasticsearch import Elasticsearch
    from scrapy.settings import BaseSettings

__all__ = [
    "SCHEMA_VERSION",
    "IndexNames",
    "InitReport",
    "ensure_indices",
    "entity_id",
    "index_names",
    "init_schema",
]

Say = Callable[[str], None]
PREFIX_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,100}")


@dataclass(frozen=True)
class IndexNames:
    """The names of darkcrawl's indices under one prefix.

    ``pages``/``entities``/``sightings``/``crawls`` are the aliases to read and write through; ``*_pattern`` match
    every backing index (Kibana's data views read the aliases); ``template(kind)`` names the composable template."""

    prefix: str

    @property
    def pages(self) -> str:
        return self.alias("pages")

    @property
    def entities(self) -> str:
        return self.alias("entities")

    @property
    def sightings(self) -> str:
        return self.alias("sightings")

    @property
    def crawls(self) -> str:
        return self.alias("crawls")

    @property
    def sites(self) -> str:
        return self.alias("sites")

    @property
    def alerts(self) -> str:
        return self.alias("alerts")

    @property
    def versions(self) -> str:
        return self.alias("versions")

    @property
    def pages_pattern(self) -> str:
        return self.pattern("pages")

    @property
    def entities_pattern(self) -> str:
        return self.pattern("entities")

    @property
    def sightings_pattern(self) -> str:
        return self.pattern("sightings")

    @property
    def crawls_pattern(self) -> str:
        return self.pattern("crawls")

    def alias(self, kind: str) -> str:
        return f"{self.prefix}-{kind}"

    def pattern(self, kind: str) -> str:
        return f"{self.prefix}-{kind}-*"

    def first_index(self, kind: str) -> str:
        return f"{self.prefix}-{kind}-000001"

    def template(self, kind: str) -> str:
        return f"{self.prefix}-{kind}"


def index_names(settings: BaseSettings) -> IndexNames:
    """The index names for ``DARKCRAWL_ES_INDEX_PREFIX``. Raises :class:`UsageError` for a prefix Elasticsearch
    would refuse (upper case, spaces, ``*?"<>|,#:/\\``, a leading ``-_+``)."""
    prefix = str(settings.get("DARKCRAWL_ES_INDEX_PREFIX") or "")
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise UsageError(
            f"DARKCRAWL_ES_INDEX_PREFIX={prefix!r} is not a valid index prefix: use lower-case letters, digits, "
            "'-', '_' or '.', starting with a letter or digit"
        )
    return IndexNames(prefix)


def entity_id(kind: str, value: str) -> str:
    """The id of the entity document for one signal value: SHA-256 of *kind*, a NUL byte and *value* (hex), so every
    writer updates the same document without reading first."""
    return hashlib.sha256(f"{kind}\0{value}".encode()).hexdigest()


def node_modules(client: Elasticsearch) -> set[str]:
    """The modules and plugins present on every node of the cluster (what mappings may rely on)."""
    response = client.nodes.info(metric="plugins", filter_path="nodes.*.modules.name,nodes.*.plugins.name")
    common: set[str] | None = None
    for node in dict(response).get("nodes", {}).values():
        names = {entry["name"] for entry in node.get("modules", []) + node.get("plugins", [])}
        common = names if common is None else common & names
    return common or set()


@dataclass
class InitReport:
    """What :func:`init_schema` did, per kind: ``installed``/``upgraded``/``current`` templates, ``created``
    indices, ``updated`` mappings, ``rolled_over`` aliases."""

    language_analyzers: bool
    actions: list[str] = field(default_factory=list)
    changed: bool = False


@dataclass
class _Installed:
    """What a prefix has on the cluster, read in two requests rather than three per kind (es init runs at every
    crawl's start): its templates by name, and the indices behind its aliases."""

    templates: dict[str, dict[str, Any]]
    index_aliases: dict[str, dict[str, Any]]  # index -> its aliases under the prefix, with their properties

    @classmethod
    def read(cls, client: Elasticsearch, names: IndexNames) -> _Installed:
        from elasticsearch import NotFoundError

        try:
            found = client.indices.get_index_template(name=f"{names.prefix}-*")["index_templates"]
        except NotFoundError:
            found = []
        templates = {entry["name"]: entry["index_template"] for entry in found}
        try:
            response: dict[str, Any] = dict(client.indices.get_alias(name=f"{names.prefix}-*"))
        except NotFoundError:
            response = {}
        index_aliases = {index: dict(body.get("aliases", {})) for index, body in response.items()}
        return cls(templates, index_aliases)

    def template(self, name: str) -> tuple[int, dict[str, Any], str | None] | None:
        """(version, mappings, refresh interval) of the installed template *name*, or None when there is none."""
        template = self.templates.get(name)
        if template is None:
            return None
        version = template.get("version")
        body = template.get("template", {})
        refresh = body.get("settings", {}).get("index", {}).get("refresh_interval")
        return (int(version) if version is not None else 0), body.get("mappings", {}), refresh

    def alias_indices(self, client: Elasticsearch, alias: str) -> dict[str, bool]:
        """Backing indices of *alias* -> whether each is its write index; empty when the alias does not exist. An
        alias missing from what was read is asked for again: another crawl's es init may have just made it."""
        holders = {index: aliases[alias] for index, aliases in self.index_aliases.items() if alias in aliases}
        if not holders:
            if not client.indices.exists_alias(name=alias):
                if client.indices.exists(index=alias):
                    raise ServiceError(
                        f"{alias} is an index, not an alias: darkcrawl reads and writes through aliases; delete or "
                        "rename that index, or choose another DARKCRAWL_ES_INDEX_PREFIX"
                    )
                return {}
            holders = {index: dict(body.get("aliases", {})).get(alias, {})
                       for index, body in dict(client.indices.get_alias(name=alias)).items()}
        return {index: bool(spec.get("is_write_index", len(holders) == 1)) for index, spec in holders.items()}


def _init_kind(
    client: Elasticsearch, names: IndexNames, kind: str, analyzers: bool, version: int, report: InitReport,
    installed: _Installed,
) -> None:
    from elasticsearch import BadRequestError

    template_name = names.template(kind)
    alias = names.alias(kind)
    found = installed.template(template_name)
    body = index_template(kind, names.prefix, analyzers, version)
    upgraded = False
    if found is None:
        client.indices.put_index_template(name=template_name, body=body)
        report.actions.append(f"template {template_name}: installed (version {version})")
        report.changed = True
    elif found[0] < version:
        client.indices.put_index_template(name=template_name, body=body)
        report.actions.append(f"template {template_name}: upgraded from version {found[0]} to {version}")
        report.changed = upgraded = True
    elif found[0] > version:
        report.actions.append(
            f"template {template_name}: version {found[0]} is newer than this darkcrawl's {version}; left alone"
        )
    elif mapped_fields(found[1]) != mapped_fields(body["template"]["mappings"]):
        # Same version, other fields: an optional field added without a version bump. Apply it like an upgrade.
        client.indices.put_index_template(name=template_name, body=body)
        report.actions.append(f"template {template_name}: fields changed within version {version}; updated")
        report.changed = upgraded = True
    elif found[2] != (refresh := index_settings(kind)["refresh_interval"]):
        _apply_refresh_interval(client, template_name, body, alias, found[2], refresh, report)
    else:
        report.actions.append(f"template {template_name}: current (version {version})")

    indices = installed.alias_indices(client, alias)
    if not indices:
        first = names.first_index(kind)
        try:
            client.indices.create(index=first, aliases={alias: {"is_write_index": True}})
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
            client.indices.put_alias(index=first, name=alias, is_write_index=True)
        report.actions.append(f"index {first}: created, alias {alias} (write index)")
        report.changed = True
        return
    if not upgraded:
        return
    write_index = next((index for index, is_write in indices.items() if is_write), max(indices))
    mappings = body["template"]["mappings"]
    current = dict(client.indices.get_mapping(index=write_index))[write_index]["mappings"]
    added = new_subfields(current, mappings)
    if added and int(client.count(index=alias)["count"]):
        _migrate(client, alias, list(indices), write_index, report,
                 f"sub-fields {', '.join(added)} added to fields documents already have")
        return
    try:
        client.indices.put_mapping(index=write_index, body=mappings)
        report.actions.append(f"index {write_index}: mapping updated in place to version {version}")
    except BadRequestError as exc:
        _migrate(client, alias, list(indices), write_index, report, exc.message)


def _apply_refresh_interval(
    client: Elasticsearch, template_name: str, body: dict[str, Any], alias: str, installed: str | None, refresh: str,
    report: InitReport,
) -> None:
    """A refresh interval changed within a version (a cost choice, not a field): put it in the template and on the
    alias's indices, where Elasticsearch changes it live."""
    client.indices.put_index_template(name=template_name, body=body)
    if client.indices.exists_alias(name=alias):
        client.indices.put_settings(index=alias, settings={"index.refresh_interval": refresh})
    report.actions.append(f"template {template_name}: refresh interval {installed} -> {refresh}; applied to its "
                          "indices")
    report.changed = True


def new_subfields(current: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """The sub-fields (multi-fields) that mapping *new* adds to fields mapping *current* already has. Elasticsearch
    accepts them in place but fills them only for documents written afterwards, so the index must be copied."""
    added: list[str] = []
    for name, spec in new.get("properties", {}).items():
        old = current.get("properties", {}).get(name)
        if old is None:
            continue
        path = f"{prefix}{name}"
        added += new_subfields(old, spec, f"{path}.")
        added += [f"{path}.{sub}" for sub in spec.get("fields", {}) if sub not in old.get("fields", {})]
    return added


def _next_index(index: str) -> str:
    """``<prefix>-<kind>-000002`` after ``-000001`` (what a rollover would name it)."""
    stem, _, number = index.rpartition("-")
    return f"{stem}-{int(number) + 1:06d}" if number.isdigit() else f"{index}-000002"


def _migrate(
    client: Elasticsearch, alias: str, indices: list[str], write_index: str, report: InitReport, why: str
) -> None:
    """Move *alias* onto a new index made from the new template, with every document copied, so that the alias
    keeps exactly one index: id-based reads (mget) and upserts through it keep finding each document once.

    The old indices are made read-only first (a running crawl's writes are refused with a block error, which the
    indexing stage retries and then spools; they land in the new index), copied client-side (scan + bulk: the
    managed node has no reindex module), then the alias is swapped in one atomic request. The old indices stay,
    read-only and outside the alias, until the operator deletes them."""
    from elasticsearch.helpers import scan, streaming_bulk

    new_index = _next_index(write_index)
    while client.indices.exists(index=new_index):
        new_index = _next_index(new_index)
    client.indices.put_settings(index=",".join(indices), settings={"index.blocks.write": True})
    client.indices.create(index=new_index)
    copied = refused = 0
    actions = (
        {"_op_type": "create", "_index": new_index, "_id": hit["_id"], "_source": hit["_source"]}
        for hit in scan(client, index=",".join(indices), query={"query": {"match_all": {}}}, size=500)
    )
    for ok, result in streaming_bulk(client, actions, chunk_size=500, raise_on_error=False, max_retries=3):
        if ok:
            copied += 1
        elif result.get("create", {}).get("status") != 409:  # 409: the same id in two old indices, copied once
            refused += 1
    actions_list: list[dict[str, Any]] = [{"remove": {"index": index, "alias": alias}} for index in indices]
    actions_list.append({"add": {"index": new_index, "alias": alias, "is_write_index": True}})
    client.indices.update_aliases(actions=actions_list)
    report.actions.append(
        f"alias {alias}: moved to {new_index} with {copied} documents copied"
        + (f" ({refused} refused by the new mapping)" if refused else "")
        + f" (mapping change not additive: {why}); {', '.join(indices)} kept read-only outside the alias: "
        "delete when satisfied"
    )


def init_schema(client: Elasticsearch, names: IndexNames, say: Say, version: int = SCHEMA_VERSION,
                language_analyzers: bool | None = None) -> InitReport:
    """Install or upgrade the templates and create the first indices. Idempotent: a second call changes nothing.

    *version* is ``SCHEMA_VERSION`` except in tests of the upgrade path; *language_analyzers* is None (use the
    analysis plugin's sub-fields when every node has it) except in tests and benchmarks of the plain shape. Returns
    an :class:`InitReport`; every action is also passed to *say*. Raises :class:`ServiceError` when the cluster
    refuses."""
    from elasticsearch import ApiError

    try:
        analyzers = ANALYSIS_PLUGIN in node_modules(client) if language_analyzers is None else language_analyzers
        report = InitReport(language_analyzers=analyzers)
        installed = _Installed.read(client, names)
        for kind in KINDS:
            _init_kind(client, names, kind, analyzers, version, report, installed)
    except ApiError as exc:
        raise ServiceError(f"Elasticsearch refused the index setup: {exc.meta.status} {exc.message}") from None
    for action in report.actions:
        say(action)
    if language_analyzers is None and not analyzers:
        say(f"the cluster lacks darkcrawl's analysis plugin {ANALYSIS_PLUGIN}: page text is analysed with the standard "
            "analyzer only (no language or accent-folded sub-fields, so no stemming or accent folding in search); "
            "install it on every node (darkcrawl es install, deploy/README.md), restart, and run darkcrawl es init")
    return report


def ensure_indices(settings: BaseSettings, say: Say) -> InitReport:
    """Connect to the configured cluster, check it answers as 9.x, and run :func:`init_schema`.

    Raises :class:`ServiceError` (unreachable, credentials refused, setup refused) or :class:`UsageError` (prefix)."""
    from crawler.es.client import check_connection, connection_options, es_sync_client, service_error

    names = index_names(settings)
    where = connection_options(settings).url
    client = es_sync_client(settings)
    try:
        check_connection(client, where)
        try:
            return init_schema(client, names, say)
        except ServiceError:
            raise
        except Exception as exc:
            raise service_error(exc, where) from None
    finally:
        client.close()


def expected_mappings(kind: str, language_analyzers: bool) -> dict[str, Any]:
    """The mapping a *kind* index gets from this darkcrawl's template (for checks and tests)."""
    return mappings_for(kind, language_analyzers)
