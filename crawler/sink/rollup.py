"""The entity roll-up: each entity document recomputed from its sightings, written without a script.

Sightings (one document per entity and page, deterministic ids) are the record; the entity document is derived from
them. For a set of entities whose sightings were just written, :meth:`EntityRollup.roll_up` refreshes the sightings
index (so they are visible to searches), then per entity: reads the entity document with its ``_seq_no`` and
``_primary_term``, aggregates its sightings (exact page count, site count, first and last dates, the most recent
sites and pages), and writes the result only if the document is still the one it read (``if_seq_no``, or ``create``
when it did not exist). A conflict means another writer got there first: read, count and write again.

Why that is correct with several crawls at once: every writer makes its sightings visible before it reads, and the
last successful write read the document after every earlier successful write, so its aggregation saw their
sightings too. A page replayed from the spool rewrites the same sightings, so nothing is counted twice.

Offers :class:`EntityRollup`, :data:`PAGES_KEPT`, :data:`SITES_KEPT`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from crawler.es.client import is_transient
from crawler.es.templates import SCHEMA_VERSION
from crawler.items import utc_timestamp
from crawler.sink.entities import Entity

logger = logging.getLogger(__name__)

PAGES_KEPT = 100  # most recent page URLs kept on an entity (index.max_inner_result_window is 100 by default)
SITES_KEPT = 100  # most recent sites kept on an entity
SITES_PRECISION = 40000  # cardinality's precision threshold for entities on more than SITES_KEPT sites
CHUNK = 50  # entities aggregated per search request
CONFLICT_RETRIES = 20  # rounds of read-count-write for entities another writer changed meanwhile


class RollupError(Exception):
    """Entities could not be written (conflicts or overload persisted): the caller keeps their pages for later."""


class EntityRollup:
    """Recomputes entity documents from the sightings index. Independent of Scrapy, like the page sink."""

    def __init__(self, client: Any, sightings_alias: str, entities_alias: str):
        self.client = client
        self.sightings = sightings_alias
        self.entities = entities_alias
        self.conflicts = 0  # writes refused because another writer changed the entity first (then redone)

    async def roll_up(self, entities: dict[str, Entity]) -> int:
        """Write the entity documents of *entities* (id -> entity); return how many were written.

        Raises the client's exception when Elasticsearch is unreachable, :class:`RollupError` when some entity
        still conflicted or was refused as overloaded after every retry."""
        if not entities:
            return 0
        await self.client.indices.refresh(index=self.sightings)
        pending = dict(entities)
        written = 0
        for attempt in range(CONFLICT_RETRIES):
            retry: dict[str, Entity] = {}
            ids = sorted(pending)
            for start in range(0, len(ids), CHUNK):
                chunk = {entity: pending[entity] for entity in ids[start : start + CHUNK]}
                done, again = await self._round(chunk)
                written += done
                retry.update(again)
            if not retry:
                return written
            pending = retry
            await asyncio.sleep(random.uniform(0.02, 0.1) * (attempt + 1))  # let the other writer finish
        raise RollupError(f"{len(pending)} entities still conflicted after {CONFLICT_RETRIES} attempts")

    async def _round(self, chunk: dict[str, Entity]) -> tuple[int, dict[str, Entity]]:
        """One read-count-write round for *chunk*: (entities written, entities to try again)."""
        ids = list(chunk)
        current = await self.client.mget(index=self.entities, ids=ids)
        stored = {doc["_id"]: doc for doc in current["docs"] if doc.get("found")}
        counted = await self._aggregate(ids)
        operations: list[dict[str, Any]] = []
        order: list[str] = []
        now = utc_timestamp()
        for entity_id, entity in chunk.items():
            bucket = counted.get(entity_id)
            if bucket is None:  # no sighting visible (they were refused): nothing to roll up
                continue
            previous = stored.get(entity_id)
            old = previous["_source"] if previous else {}
            document = {
                "kind": entity.kind,
                "value": entity.value,
                "label": old.get("label") or entity.label or entity.value,
                "attributes": dict(old.get("attributes") or {}) | entity.attributes,
                "updated_at": now,
                "schema_version": SCHEMA_VERSION,
            } | bucket
            if previous:
                meta = {"_index": previous["_index"], "_id": entity_id,
                        "if_seq_no": previous["_seq_no"], "if_primary_term": previous["_primary_term"]}
                operations.append({"index": meta})
            else:
                operations.append({"create": {"_index": self.entities, "_id": entity_id}})
            operations.append(document)
            order.append(entity_id)
        if not operations:
            return 0, {}
        response = await self.client.bulk(operations=operations, refresh=False)
        written = 0
        again: dict[str, Entity] = {}
        for entity_id, item in zip(order, response["items"], strict=True):
            outcome = next(iter(item.values()))
            status = outcome.get("status", 500)
            if status < 300:
                written += 1
            elif status == 409 or is_transient(outcome):
                self.conflicts += status == 409
                again[entity_id] = chunk[entity_id]
            else:
                logger.error("Elasticsearch refused entity %s %s: %s", chunk[entity_id].kind,
                             chunk[entity_id].value, outcome.get("error"))
        return written, again

    async def _aggregate(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The rolled-up fields of each entity in *ids*, from its sightings."""
        response = await self.client.search(
            index=self.sightings,
            size=0,
            query={"terms": {"entity_id": ids}},
            aggs={
                "entities": {
                    "terms": {"field": "entity_id", "size": len(ids)},
                    "aggs": {
                        "first": {"min": {"field": "first_seen"}},
                        "last": {"max": {"field": "last_seen"}},
                        "site_count": {"cardinality": {"field": "site", "precision_threshold": SITES_PRECISION}},
                        "sites": {
                            "terms": {"field": "site", "size": SITES_KEPT, "order": {"latest": "desc"}},
                            "aggs": {"latest": {"max": {"field": "last_seen"}}},
                        },
                        "pages": {
                            "top_hits": {"size": PAGES_KEPT, "sort": [{"last_seen": "desc"}], "_source": ["url"]}
                        },
                    },
                }
            },
        )
        result: dict[str, dict[str, Any]] = {}
        for bucket in response["aggregations"]["entities"]["buckets"]:
            sites = bucket["sites"]
            site_names = [site["key"] for site in sites["buckets"]]
            # Below SITES_KEPT sites the terms buckets are the exact set; above, cardinality's estimate.
            site_count = len(site_names) if not sites.get("sum_other_doc_count") else bucket["site_count"]["value"]
            result[bucket["key"]] = {
                "first_seen": bucket["first"]["value_as_string"],
                "last_seen": bucket["last"]["value_as_string"],
                "sites": site_names,
                "pages": [hit["_source"]["url"] for hit in bucket["pages"]["hits"]["hits"]],
                "counts": {"pages": bucket["doc_count"], "sites": max(site_count, len(site_names))},
            }
        return result
