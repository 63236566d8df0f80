"""Rendering settings, read once: :class:`RenderConfig` (``RenderConfig.from_settings``); see docs/rendering.md.

Offers :class:`RenderConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scrapy.settings import BaseSettings

from crawler import settings as default_settings
from crawler.errors import UsageError
from crawler.identity import site_key
from crawler.tor.config import TorConfig

# What Tor Browser shows a site: a letterboxed window, UTC, US English.
VIEWPORT = {"width": 1400, "height": 900}
TIMEZONE = "UTC"
LOCALE = "en-US"


@dataclass(frozen=True)
class RenderConfig:
    """Everything the rendering components need, from ``DARKCRAWL_RENDER_*`` (and a few Scrapy settings)."""

    enabled: bool
    sites: frozenset[str] = frozenset()
    js_gates: bool = default_settings.DARKCRAWL_RENDER_JS_GATES
    socks: tuple[tuple[str, int], ...] = ()
    browser: str = default_settings.DARKCRAWL_RENDER_BROWSER
    page_timeout: float = default_settings.DARKCRAWL_RENDER_PAGE_TIMEOUT
    settle: float = default_settings.DARKCRAWL_RENDER_SETTLE
    max_pages: int = default_settings.DARKCRAWL_RENDER_MAX_PAGES
    max_contexts: int = default_settings.DARKCRAWL_RENDER_MAX_CONTEXTS
    pages_per_context: int = default_settings.DARKCRAWL_RENDER_PAGES_PER_CONTEXT
    max_memory_mb: int = default_settings.DARKCRAWL_RENDER_MAX_MEMORY_MB
    screenshots: bool = default_settings.DARKCRAWL_RENDER_SCREENSHOTS
    screenshot_dir: Path | None = None
    user_agent: str = ""
    accept_language: str = "en-US,en;q=0.5"
    allow_clearnet: bool = default_settings.DARKCRAWL_ALLOW_CLEARNET
    denied_extensions: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RenderConfig:
        """Read the settings; raises :class:`UsageError` naming a bad value."""
        from crawler.paths import data_dir

        enabled = settings.getbool("DARKCRAWL_RENDER")
        numbers = {
            "DARKCRAWL_RENDER_PAGE_TIMEOUT": settings.getfloat("DARKCRAWL_RENDER_PAGE_TIMEOUT"),
            "DARKCRAWL_RENDER_MAX_PAGES": settings.getint("DARKCRAWL_RENDER_MAX_PAGES"),
            "DARKCRAWL_RENDER_MAX_CONTEXTS": settings.getint("DARKCRAWL_RENDER_MAX_CONTEXTS"),
            "DARKCRAWL_RENDER_PAGES_PER_CONTEXT": settings.getint("DARKCRAWL_RENDER_PAGES_PER_CONTEXT"),
        }
        for name, value in numbers.items():
            if value <= 0:
                raise UsageError(f"{name} must be greater than 0 (got {value})")
        if settings.getfloat("DARKCRAWL_RENDER_SETTLE") < 0 or settings.getint("DARKCRAWL_RENDER_MAX_MEMORY_MB") < 0:
            raise UsageError("DARKCRAWL_RENDER_SETTLE and DARKCRAWL_RENDER_MAX_MEMORY_MB must not be negative")
        screenshots = settings.getbool("DARKCRAWL_RENDER_SCREENSHOTS")
        headers = settings.getdict("DEFAULT_REQUEST_HEADERS")
        # The browser may run scripts and load style sheets; every other denied extension stays denied.
        denied = frozenset(
            ext.lower().lstrip(".") for ext in settings.getlist("DARKCRAWL_DENIED_EXTENSIONS")
        ) - {"js", "css"}
        return cls(
            enabled=enabled,
            sites=frozenset(site_key(host) for host in settings.getlist("DARKCRAWL_RENDER_SITES") if host.strip()),
            js_gates=settings.getbool("DARKCRAWL_RENDER_JS_GATES"),
            socks=TorConfig.from_settings(settings).render_socks if enabled else (),
            browser=settings.get("DARKCRAWL_RENDER_BROWSER"),
            page_timeout=numbers["DARKCRAWL_RENDER_PAGE_TIMEOUT"],
            settle=settings.getfloat("DARKCRAWL_RENDER_SETTLE"),
            max_pages=int(numbers["DARKCRAWL_RENDER_MAX_PAGES"]),
            max_contexts=int(numbers["DARKCRAWL_RENDER_MAX_CONTEXTS"]),
            pages_per_context=int(numbers["DARKCRAWL_RENDER_PAGES_PER_CONTEXT"]),
            max_memory_mb=settings.getint("DARKCRAWL_RENDER_MAX_MEMORY_MB"),
            screenshots=screenshots,
            screenshot_dir=(data_dir(settings) / "screenshots") if screenshots else None,
            user_agent=settings.get("USER_AGENT"),
            accept_language=str(headers.get("Accept-Language", "en-US,en;q=0.5")),
            allow_clearnet=settings.getbool("DARKCRAWL_ALLOW_CLEARNET"),
            denied_extensions=denied,
        )
