"""What the watch tests share: page documents built the way the crawl builds them (extraction, fill_item, then
:func:`crawler.sink.documents.page_document`), from HTML or from the lab's fixture sites, and watches made quickly."""

from __future__ import annotations

from functools import cache
from typing import Any

from crawler.items import PageItem
from crawler.lab.sites import build_pages, placeholder_onion
from crawler.sink.documents import page_document
from crawler.watch.model import Watch, new_watch_id
from pipelines.extract import default_config, extract_signals
from pipelines.extraction import fill_item


def page_doc(html: str | bytes, url: str = "http://example.onion/", **fields: Any) -> dict[str, Any]:
    """The page document of *html* fetched from *url*, as indexed."""
    from pipelines.extract.text import url_host

    body = html.decode("utf-8") if isinstance(html, bytes) else html
    item = PageItem(url=url, canonical_url=url, site=url_host(url) or "", status=200,
                    fetched_at="2026-12-06T18:00:00.000Z", crawl_id="test", html=body)
    return page_document(fill_item(item, extract_signals(body, url, config=default_config()))) | fields


@cache
def lab_docs(site: str) -> dict[str, dict[str, Any]]:
    """path -> page document of the lab site *site* (HTML pages), on its placeholder onion."""
    host = placeholder_onion(site)
    return {path: page_doc(built.page.body, f"http://{host}{path}")
            for path, built in build_pages(site).items() if built.page.content_type.startswith("text/html")}


def watch(kind: str, spec: dict[str, Any], name: str = "", **fields: Any) -> Watch:
    return Watch(id=new_watch_id(), name=name or f"{kind} watch", kind=kind, spec=spec,
                 created_at="2026-12-06T18:00:00.000Z", **fields)
