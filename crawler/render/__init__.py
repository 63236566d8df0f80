"""Rendering pages that need JavaScript: Debian's Chromium through scrapy-playwright, through Tor only, opt-in.

Documentation: docs/rendering.md. Modules: :mod:`~crawler.render.config` (settings), :mod:`~crawler.render.browser`
(launch and context options, route decisions), :mod:`~crawler.render.gate` (the JavaScript-gate heuristic),
:mod:`~crawler.render.middleware` (which requests are rendered), :mod:`~crawler.render.handler` (the download
handler), :mod:`~crawler.render.evidence` (screenshots).

Offers :func:`render_settings`: the settings a crawl adds when ``DARKCRAWL_RENDER`` is on.
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import BaseSettings

RENDER_HANDLER = "crawler.render.handler.TorRenderDownloadHandler"


def render_settings(settings: BaseSettings) -> dict[str, Any]:
    """Return the settings that switch rendering on (the http/https handler), or ``{}`` when it is off."""
    if not settings.getbool("DARKCRAWL_RENDER"):
        return {}
    handlers = dict(settings.getdict("DOWNLOAD_HANDLERS"))
    handlers.update(http=RENDER_HANDLER, https=RENDER_HANDLER)
    return {"DOWNLOAD_HANDLERS": handlers}
