"""What waits for Elasticsearch: the pages and crawl records spooled while it was unreachable. Documented in
docs/reliability.md.

A crawl replays the spools when it starts; ``darkcrawl es replay`` does it at once (:func:`replay_backlog`).
``darkcrawl es status`` and ``darkcrawl status`` report the cluster (:func:`crawler.es.status.cluster_status`) with
this backlog (:func:`status_report`).

Offers :func:`backlog_report`, :func:`status_report`, :func:`replay_backlog` and :class:`Replayed`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crawler.redact import mask_data, secret_values

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def backlog_report(settings: BaseSettings) -> dict[str, Any]:
    """The page spool's ``path``, its ``pages`` and ``bytes``, and the ``crawl_records`` spooled beside it."""
    from crawler.sink.bulk import spool_from_settings
    from crawler.sink.crawlrecord import crawl_spool

    spool = spool_from_settings(settings)
    return {"path": str(spool.path), "pages": spool.count(), "bytes": spool.size_bytes(),
            "crawl_records": crawl_spool(settings).count()}


def status_report(settings: BaseSettings) -> dict[str, Any]:
    """What ``es status --json`` prints (and ``darkcrawl status`` shows): the cluster's state
    (:func:`crawler.es.status.cluster_status`) and the ``spool`` backlog, secrets masked."""
    from crawler.es.status import cluster_status

    report = cluster_status(settings)
    report["spool"] = backlog_report(settings)
    return dict(mask_data(report, secret_values(settings)))


@dataclass
class Replayed:
    """What :func:`replay_backlog` did with the page spool at ``path`` (``empty``: nothing was waiting, nothing was
    asked of Elasticsearch): the spooled ``pages`` and ``crawl_records`` replayed, and the indexing ``counts``
    (``darkcrawl/index/indexed``; ``darkcrawl/index/failed``: rejected, in the dead-letter file)."""

    path: str
    empty: bool = False
    pages: int = 0
    crawl_records: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def replay_backlog(settings: BaseSettings, say: Callable[[str], None]) -> Replayed:
    """Index the spooled crawl records and pages now (the index setup first, said through *say*); what fails stays
    spooled. Raises :class:`~crawler.errors.ServiceError` when Elasticsearch fails."""
    import asyncio

    from crawler.es.client import client_url, es_client, service_error
    from crawler.es.schema import ensure_indices, index_names
    from crawler.paths import data_dir
    from crawler.sink.bulk import replay_spool, sink_from_settings, spool_from_settings
    from crawler.sink.crawlrecord import crawl_spool, replay_crawl_spool

    spool = spool_from_settings(settings)
    crawls = crawl_spool(settings)
    replayed = Replayed(str(spool.path))
    if not spool.count() and not crawls.count():
        replayed.empty = True
        return replayed
    ensure_indices(settings, say)

    def count(key: str, number: int) -> None:
        replayed.counts[key] = replayed.counts.get(key, 0) + number

    async def replay() -> None:
        client = es_client(settings)
        sink = sink_from_settings(settings, client, count, spool)
        try:
            replayed.crawl_records = await replay_crawl_spool(
                client, index_names(settings).crawls, crawls, data_dir(settings) / "dead-letter" / "crawls.jsonl"
            )
            if replayed.crawl_records:
                say(f"replayed {replayed.crawl_records} spooled crawl records")
            replayed.pages = await replay_spool(sink)
        except Exception as exc:
            raise service_error(exc, client_url(client)) from None
        finally:
            await client.close()

    asyncio.run(replay())
    return replayed
