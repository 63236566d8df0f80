"""Whether the Elasticsearch darkcrawl uses is up, asked as darkcrawl asks it. Documented in docs/schema.md.

The managed node answers its own credentials file; what darkcrawl uses may be other credentials (``DARKCRAWL_ES_*``),
so a node that runs is called healthy only when darkcrawl's own client gets an answer too. With ``DARKCRAWL_ES_URL``
set, the external cluster there is asked instead and nothing local is looked at. ``darkcrawl es status`` and
``darkcrawl status`` print this, with the spooled backlog (:mod:`crawler.sink.backlog`).

Offers :func:`external_url`, :func:`check_cluster` and :func:`cluster_status`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.errors import DarkcrawlError
from crawler.redact import mask_url

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def external_url(settings: BaseSettings) -> str:
    """``DARKCRAWL_ES_URL``, empty for the managed node. Mask it (:func:`crawler.redact.mask_url`) before printing."""
    return str(settings.get("DARKCRAWL_ES_URL") or "")


def check_cluster(settings: BaseSettings) -> str:
    """The version of the configured cluster, asked with the credentials darkcrawl uses; raises
    :class:`~crawler.errors.DarkcrawlError` (unreachable, credentials refused (401), privileges missing (403), not
    9.x)."""
    from crawler.es.client import check_connection, connection_options, es_sync_client

    client = es_sync_client(settings)
    try:
        return check_connection(client, connection_options(settings).url)
    finally:
        client.close()


def cluster_status(settings: BaseSettings) -> dict[str, Any]:
    """``running``, ``healthy``, ``url`` (masked), ``managed``, ``message`` and, when it answers, ``version`` (a
    managed node also gives ``pid``, ``health`` and its start-up time). Never raises for a cluster that is down:
    that is the answer."""
    if external_url(settings):
        url = mask_url(external_url(settings))
        try:
            version = check_cluster(settings)
        except DarkcrawlError as exc:
            return {"running": False, "healthy": False, "url": url, "managed": False, "message": str(exc)}
        return {"running": True, "healthy": True, "url": url, "managed": False, "version": version,
                "message": f"external Elasticsearch {version} is up at {url}"}
    from crawler.es.node import NodeInstance, status

    report = status(NodeInstance.from_settings(settings)).to_json() | {"managed": True}
    if report["healthy"]:
        try:
            check_cluster(settings)
        except DarkcrawlError as exc:
            report |= {"healthy": False, "message": f"{report['message']}, but {exc}"}
    return report
