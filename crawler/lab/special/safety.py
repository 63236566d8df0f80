"""Special lab site ``safety``: a page with a high-risk term, and media, behind plain pages; every request recorded.

Paths (a crawler with darkcrawl's defaults should flag ``/chain/2``, keep nothing of its text, and request nothing
more from this site; it should never download a media body):

* ``/`` -- links to ``/chain/1`` and to media (``/media/photo.jpg``, ``/media/clip.mp4``, and ``/media/picture``,
  ``/media/movie``, which have no extension but are served as ``image/jpeg`` and ``video/mp4``), plus
  ``<img>``/``<video>`` elements;
* ``/chain/1`` -- links to ``/chain/2`` and ``/after/1``;
* ``/chain/2`` -- holds the sentinel term of darkcrawl's placeholder high-risk list
  (``crawler/safety/high_risk_terms.yaml``) with a distinctive title and text; links to ``/chain/3``;
* ``/chain/3``, ``/after/1`` -> ``/after/2`` -- plain pages;
* ``/_log?since=N`` -- the request log, as on the ``inspect`` site.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from crawler.lab.special.inspect import MEDIA, Page, RequestLog, handler_for, html, media_page

SENTINEL = "darkcrawl-high-risk-sentinel-4d1f"
FLAGGED_TITLE = "Unlisted gallery seventeen"
FLAGGED_TEXT = "This text must never reach the index: quartz lantern obelisk."

PAGES = {
    "/chain/1": ("chain one", '<a href="/chain/2">next</a> <a href="/after/1">after</a>'),
    "/chain/2": (FLAGGED_TITLE, f"<p>{FLAGGED_TEXT}</p><p>{SENTINEL}</p>" '<a href="/chain/3">more</a>'),
    "/chain/3": ("chain three", '<a href="/">home</a>'),
    "/after/1": ("after one", '<a href="/after/2">after two</a>'),
    "/after/2": ("after two", '<a href="/">home</a>'),
}


def route(path: str) -> Page | None:
    if path == "/":
        links = '<li><a href="/chain/1">chain</a></li>'
        links += "".join(f'<li><a href="{media}">{media}</a></li>' for media in list(MEDIA)[:4])
        embedded = '<img src="/media/inline.png" alt="x"><video src="/media/inline.webm"></video>'
        return 200, "text/html; charset=utf-8", html("safety", f"<ul>{links}</ul>{embedded}"), []
    if path in PAGES:
        title, body = PAGES[path]
        return 200, "text/html; charset=utf-8", html(title, body), []
    return media_page(path)


def make_handler(onion_hosts: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    return handler_for(route, RequestLog())
