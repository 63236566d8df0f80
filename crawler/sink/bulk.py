"""The page sink: the bulk writer of pages, their versions, sightings and entities into Elasticsearch, with the async
client. Independent of Scrapy: the indexing stage (pipelines/indexing.py), ``darkcrawl es replay`` and the benchmarks
use it.

* Batches by count (``DARKCRAWL_ES_BULK_DOCS``), size (``DARKCRAWL_ES_BULK_BYTES``) and age
  (``DARKCRAWL_ES_FLUSH_INTERVAL``), whichever comes first.
* One document per URL (id = SHA-256 of the URL): a recrawl updates it. ``first_seen`` is written only when the document
  is created (bulk ``update`` with an ``upsert``), ``last_seen`` on every fetch, ``content_changed_at`` when the text
  hash differs from the stored one (read with one ``mget`` per batch; no scripts, which the bare node lacks).
* The page history: each run of identical content of a page is one version document (versions alias, id from the
  page, the content hash and the fetch that first showed it), written in the same bulk request; the page document
  names its current version (``version``), so an unchanged refetch only moves that version's ``last_seen``.
* Each page's entities (crawler/sink/entities.py) are written as sightings in the same bulk request, then the entities
  are rolled up from their sightings (crawler/sink/rollup.py): exact counts under concurrent crawls, no script.
* Transient failures (429, 5xx, connection errors) are retried with exponential backoff (crawler/backoff.py); documents
  Elasticsearch rejects for good (mapping errors) go to the dead-letter file with the reason
  (crawler/sink/deadletter.py), and the rest of the batch is indexed. When Elasticsearch stays away, batches go to the
  spool (crawler/sink/spool.py) and are replayed when it answers again.

Offers :class:`PageSink`, :class:`BulkConfig`, :func:`replay_spool`, :func:`sink_from_settings`,
:func:`spool_from_settings`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.backoff import backoff_delay
from crawler.es.client import is_transient
from crawler.identity import page_id, version_id
from crawler.items import utc_timestamp
from crawler.sink.deadletter import dead_letter
from crawler.sink.documents import version_document
from crawler.sink.entities import Entity, page_entities, sighting_document, sighting_id
from crawler.sink.rollup import EntityRollup, RollupError
from crawler.sink.spool import Spool

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


@dataclass
class BulkConfig:
    max_docs: int
    max_bytes: int
    flush_interval: float
    max_retries: int
    dead_letter_path: Path
    pause_after_outage: float = 60.0  # seconds to spool directly, without trying Elasticsearch, after an outage

    @classmethod
    def from_settings(cls, settings: BaseSettings, dead_letter_path: Path) -> BulkConfig:
        return cls(
            max_docs=settings.getint("DARKCRAWL_ES_BULK_DOCS"),
            max_bytes=settings.getint("DARKCRAWL_ES_BULK_BYTES"),
            flush_interval=settings.getfloat("DARKCRAWL_ES_FLUSH_INTERVAL"),
            max_retries=settings.getint("DARKCRAWL_ES_MAX_RETRIES"),
            dead_letter_path=dead_letter_path,
        )


Entry = tuple[str, dict[str, Any], int]  # (page id, page document, approximate JSON bytes)

# Where a page's text goes in its bulk lines, serialised apart: the text (most of a page's bytes) is turned into JSON
# once per page instead of once per line holding it (the page's doc and upsert, its version). Random per process, so a
# page cannot hold it.
_TEXT_MARK = f"darkcrawl-page-text-{uuid.uuid4().hex}"
_TEXT_MARK_JSON = f'"{_TEXT_MARK}"'


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def _line(body: dict[str, Any], text_json: str | None) -> str:
    """One bulk body line: *body* as JSON, with the page's serialised text in place of :data:`_TEXT_MARK`."""
    line = _dumps(body)
    return line if text_json is None else line.replace(_TEXT_MARK_JSON, text_json)


def _json_size(document: dict[str, Any]) -> int:
    """About the characters of *document* as JSON, without serialising its text (its length, quotes and the escapes
    of its line breaks)."""
    text = document.get("text")
    if not isinstance(text, str) or not text:
        return len(_dumps(document))
    return len(_dumps(dict(document, text=""))) + len(text) + text.count("\n")


class PageSink:
    """Buffers page documents and writes them to one index alias in bulk. Independent of Scrapy, so tools reuse it."""

    def __init__(
        self,
        client: Any,
        alias: str,
        config: BulkConfig,
        stats: Callable[[str, int], None],
        spool: Spool | None = None,
        rollup: EntityRollup | None = None,
        on_stored: Callable[[list[str]], None] | None = None,
        versions: str | None = None,
    ):
        self.client = client
        self.versions = versions  # the versions alias (page history); None: no history written
        self.on_stored = on_stored  # told the URLs of each batch once it is durable (indexed, spooled, dead-lettered)
        self.spool = spool
        self.rollup = rollup  # None: pages only (no sightings, no entities)
        self.outage_until = 0.0
        self.alias = alias
        self.config = config
        self.count_stat = stats
        self.buffer: list[Entry] = []
        self.buffered_bytes = 0
        self.oldest = 0.0
        self.lock = asyncio.Lock()

    async def add(self, document: dict[str, Any]) -> None:
        size = _json_size(document)
        if not self.buffer:
            self.oldest = time.monotonic()
        self.buffer.append((page_id(document["url"]), document, size))
        self.buffered_bytes += size
        if len(self.buffer) >= self.config.max_docs or self.buffered_bytes >= self.config.max_bytes:
            await self.flush()

    def due(self) -> bool:
        return bool(self.buffer) and time.monotonic() - self.oldest >= self.config.flush_interval

    async def flush(self) -> None:
        async with self.lock:
            batch, self.buffer, self.buffered_bytes = self.buffer, [], 0
            if not batch:
                return
            if self.spool is not None and time.monotonic() < self.outage_until:
                self._spool(batch)  # Elasticsearch was just found away: do not make the crawl wait for it again
                self._stored(batch)
                return
            try:
                indexed = await self._write(batch)  # raises (nothing durable) only without a spool
            except asyncio.CancelledError:
                self._put_back(batch)  # every write is an idempotent upsert: the next flush writes it again
                raise
            self._stored(batch)
            if indexed and self.spool is not None and self.spool.size_bytes():
                await self._replay_after_outage()

    def _put_back(self, batch: list[Entry]) -> None:
        """A flush was cancelled half-way (the crawl's reactor stopping): keep its batch for the next flush."""
        if not self.buffer:
            self.oldest = time.monotonic()
        self.buffer[:0] = batch
        self.buffered_bytes += sum(size for _doc_id, _document, size in batch)

    def _stored(self, batch: list[Entry]) -> None:
        if self.on_stored is not None:
            self.on_stored([document["url"] for _doc_id, document, _size in batch])

    async def _replay_after_outage(self) -> None:
        """Elasticsearch took a batch again: index what the spool kept meanwhile, without waiting for the next start."""
        try:
            replayed = await replay_spool(self)
        except Exception as exc:
            self.outage_until = time.monotonic() + self.config.pause_after_outage
            logger.warning("the spool could not be replayed yet (%s); it is kept and retried later", exc)
        else:
            if replayed:
                logger.info("Elasticsearch is back: replayed %d spooled pages", replayed)
                self.count_stat("darkcrawl/index/replayed", replayed)

    def _spool(self, batch: list[Entry]) -> None:
        assert self.spool is not None
        self.spool.append([document for _doc_id, document, _size in batch])
        self.count_stat("darkcrawl/index/spooled", len(batch))

    async def _stored_pages(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The content hash and current version of the documents that already exist, by id."""
        response = await self.client.mget(index=self.alias, ids=ids, source_includes=["content_sha256", "version"])
        return {doc["_id"]: doc.get("_source", {}) for doc in response["docs"] if doc.get("found")}

    def _actions(
        self, batch: list[Entry], stored: dict[str, dict[str, Any]], entities: dict[str, list[Entity]]
    ) -> tuple[list[Any], list[int]]:
        """The bulk operations of *batch* (each page, its version, then its sightings) and how many results each
        page owns."""
        operations: list[Any] = []
        spans: list[int] = []
        for doc_id, page, _size in batch:
            text = page.get("text")
            text_json = _dumps(text) if isinstance(text, str) and text else None  # once for the page's lines
            document = dict(page, text=_TEXT_MARK) if text_json is not None else page
            now = document.get("fetched_at") or utc_timestamp()
            update = dict(document, last_seen=now)
            known = stored.get(doc_id)
            changed = known is None or known.get("content_sha256") != document.get("content_sha256")
            if changed:
                update["content_changed_at"] = now
            if self.versions:
                current = None if changed or known is None else known.get("version")
                update["version"] = current or version_id(doc_id, document.get("content_sha256") or "", now)
            created = dict(update, first_seen=now)
            operations.append({"update": {"_index": self.alias, "_id": doc_id, "retry_on_conflict": 3}})
            operations.append(_line({"doc": update, "upsert": created}, text_json))
            if self.versions:
                version = version_document(document, doc_id, now)
                operations.append({"update": {"_index": self.versions, "_id": update["version"],
                                              "retry_on_conflict": 3}})
                created_version = dict(version, first_seen=now)
                operations.append(_line({"doc": {"last_seen": now}, "upsert": created_version}, text_json))
            for entity in entities.get(doc_id, []):
                sighting = sighting_document(entity, page, now)
                assert self.rollup is not None
                operations.append({"update": {"_index": self.rollup.sightings,
                                              "_id": sighting_id(entity.id, doc_id), "retry_on_conflict": 3}})
                operations.append({"doc": sighting, "upsert": dict(sighting, first_seen=now)})
            spans.append(1 + bool(self.versions) + len(entities.get(doc_id, [])))
        return operations, spans

    def _give_up(self, exc: Exception, pending: list[Entry]) -> bool:
        """After the last retry: spool *pending* (False: not indexed) or, with no spool, raise *exc*."""
        if self.spool is None:
            raise exc
        self.outage_until = time.monotonic() + self.config.pause_after_outage
        logger.warning(
            "Elasticsearch unreachable (%s): %d documents kept in the spool %s; the crawl goes on and "
            "they are indexed when it answers again, at the next start or by `darkcrawl es replay`",
            exc, len(pending), self.spool.path,
        )
        self._spool(pending)
        return False

    async def _write(self, batch: list[Entry]) -> bool:
        """Index *batch* (pages, sightings, then the entity roll-up). True when Elasticsearch took it, False when
        it went to the spool."""
        entities = {doc_id: page_entities(document) for doc_id, document, _ in batch} if self.rollup else {}
        pending = batch
        written: list[Entry] = []
        for attempt in range(self.config.max_retries + 1):
            try:
                stored = await self._stored_pages([doc_id for doc_id, _, _ in pending])
                operations, spans = self._actions(pending, stored, entities)
                response = await self.client.bulk(operations=operations, refresh=False)
            except Exception as exc:  # connection errors, timeouts: the whole batch is retried
                if attempt == self.config.max_retries:
                    return self._give_up(exc, pending + written)
                delay = backoff_delay(attempt + 1)
                logger.warning("Elasticsearch bulk failed (%s); retrying %d documents in %ds", exc, len(pending), delay)
                self.count_stat("darkcrawl/index/retried", len(pending))
                await asyncio.sleep(delay)
                continue
            retry: list[Entry] = []
            results = iter(response["items"])
            for entry, span in zip(pending, spans, strict=True):
                outcomes = [next(iter(next(results).values())) for _ in range(span)]
                statuses = [outcome.get("status", 500) for outcome in outcomes]
                if any(is_transient(outcome) for outcome in outcomes):
                    retry.append(entry)  # page and sightings again: every operation is idempotent
                    continue
                if statuses[0] < 300:
                    self.count_stat("darkcrawl/index/indexed", 1)
                else:
                    self._dead_letter(entry[1], outcomes[0].get("error"))
                for position, (outcome, status) in enumerate(zip(outcomes[1:], statuses[1:], strict=True)):
                    if status >= 300:
                        what = "version" if self.versions and position == 0 else "sighting"
                        error = {what: outcome.get("_id"), "error": outcome.get("error")}
                        self._dead_letter(entry[1], error, stat=f"darkcrawl/index/{what}s_failed")
                written.append(entry)
            pending = retry
            if not retry:
                break
            if attempt < self.config.max_retries:
                self.count_stat("darkcrawl/index/retried", len(retry))
                await asyncio.sleep(backoff_delay(attempt + 1))
        if pending:
            if self.spool is not None:  # still overloaded after every retry: keep them for later, not as failures
                self._spool(pending)
            else:
                for _doc_id, document, _size in pending:
                    self._dead_letter(document, {"type": "retries_exhausted", "reason": "transient errors persisted"})
        if self.rollup is not None and written:
            touched = {entity.id: entity for doc_id, _, _ in written for entity in entities.get(doc_id, [])}
            if not await self._roll_up(touched, written):
                return False
        return not pending

    async def _roll_up(self, touched: dict[str, Entity], written: list[Entry]) -> bool:
        """Roll the entities of the pages just written up, with the same retries; on failure their pages go to the
        spool (replaying them rewrites the same sightings and rolls up again). True when it worked."""
        assert self.rollup is not None
        for attempt in range(self.config.max_retries + 1):
            try:
                count = await self.rollup.roll_up(touched)
            except RollupError as exc:
                error: Exception = exc
            except Exception as exc:
                error = exc
            else:
                self.count_stat("darkcrawl/index/entities", count)
                return True
            if attempt == self.config.max_retries:
                return self._give_up(error, written)
            delay = backoff_delay(attempt + 1)
            logger.warning("entity roll-up failed (%s); retrying in %ds", error, delay)
            await asyncio.sleep(delay)
        return False

    def _dead_letter(self, document: dict[str, Any], error: Any, stat: str = "darkcrawl/index/failed") -> None:
        self.count_stat(stat, 1)
        dead_letter(self.config.dead_letter_path, self.alias, document, error)
        reason = error.get("reason") if isinstance(error, dict) else error
        logger.error("Elasticsearch rejected %s: %s (kept in %s)", document.get("url"), reason,
                     self.config.dead_letter_path)


async def replay_spool(sink: PageSink) -> int:
    """Index every spooled document through *sink*; return how many. Leaves them spooled if Elasticsearch fails."""
    if sink.spool is None:
        return 0
    documents = sink.spool.begin_replay()
    if not documents:
        return 0
    replay = PageSink(sink.client, sink.alias, sink.config, sink.count_stat, spool=None, rollup=sink.rollup)
    for document in documents:
        await replay.add(document)
    await replay.flush()  # raises when Elasticsearch is still away: the documents stay in the spool
    sink.spool.finish_replay()
    return len(documents)


def spool_from_settings(settings: BaseSettings) -> Spool:
    """The page spool in the data directory, bounded by ``DARKCRAWL_SPOOL_MAX_BYTES``."""
    from crawler.paths import data_dir

    return Spool(data_dir(settings) / "spool" / "pages.jsonl", settings.getint("DARKCRAWL_SPOOL_MAX_BYTES"))


def sink_from_settings(
    settings: BaseSettings, client: Any, stats: Callable[[str, int], None], spool: Spool | None
) -> PageSink:
    """The page sink the settings describe: pages alias, entity roll-up into the sightings and entities aliases,
    batching and retries, the dead-letter file in the data directory."""
    from crawler.es.schema import index_names
    from crawler.paths import data_dir

    names = index_names(settings)
    return PageSink(
        client,
        names.pages,
        BulkConfig.from_settings(settings, data_dir(settings) / "dead-letter" / "pages.jsonl"),
        stats,
        spool=spool,
        rollup=EntityRollup(client, names.sightings, names.entities),
        versions=names.versions,
    )
