"""Special lab site ``inspect``: records every request it receives, so tests can see what a crawler reveals.

Its twin ``inspect2`` (:mod:`crawler.lab.special.inspect2`) behaves the same; each links to the other, so a crawl of
both shows what crosses from one site to another (cookies, Referer). Paths:

* ``/`` -- index: links to ``/page/1``, ``/page/2``, ``/set-cookie``, to the twin's ``/`` and ``/from-peer``, and to
  media (``/media/photo.jpg``, ``/media/clip.mp4``, ``/media/picture`` and ``/media/movie`` which have no extension
  but are served as ``image/jpeg`` and ``video/mp4``), plus ``<img>``/``<video>``/``<source>`` elements. A crawler
  should fetch the pages, never the media bodies. It answers ``Referrer-Policy: unsafe-url``: a crawler should still
  send the twin no Referer.
* ``/page/N`` -- plain pages linking back to ``/``.
* ``/set-cookie`` -- sets a site cookie ``probe_<site>=<site>-token`` and a would-be cross-site tracking cookie
  (``Domain=.onion``); links to ``/page/3``, so the crawler comes back carrying what it accepted. A crawler should
  send the first cookie back to this site only, and never the second.
* ``/from-peer`` -- the twin links here: a crawler should send no Referer naming the twin.
* ``/_log?since=N`` -- JSON ``{"last": seq, "requests": [{"seq", "time", "method", "path", "headers"}]}`` of every
  request with a sequence number above *N* (``/_log`` itself is not recorded). Tests read it from the site's loopback
  HTTP port.

Offers :class:`RequestLog`, :func:`handler_for` (shared with the ``inspect2`` and ``safety`` sites) and
:func:`make_handler`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crawler.lab.handler import LabHandler

MEDIA = {
    "/media/photo.jpg": "image/jpeg",
    "/media/clip.mp4": "video/mp4",
    "/media/picture": "image/jpeg",
    "/media/movie": "video/mp4",
    "/media/inline.png": "image/png",
    "/media/inline.webm": "video/webm",
    "/media/source.mp4": "video/mp4",
}
MEDIA_BODY = b"\xff\xd8\xff\xe0" + b"\x00" * (256 * 1024)  # starts like a JPEG; 256 KB a crawler must not read


class RequestLog:
    """Thread-safe list of the requests a site received (method, path, headers in order), numbered from 1."""

    def __init__(self, limit: int = 10_000):
        self.lock = threading.Lock()
        self.entries: list[dict[str, Any]] = []
        self.limit = limit
        self.seq = 0

    def record(self, method: str, path: str, headers: list[tuple[str, str]]) -> None:
        with self.lock:
            self.seq += 1
            self.entries.append(
                {"seq": self.seq, "time": time.time(), "method": method, "path": path, "headers": headers}
            )
            del self.entries[: -self.limit]

    def since(self, seq: int) -> dict[str, Any]:
        with self.lock:
            return {"last": self.seq, "requests": [entry for entry in self.entries if entry["seq"] > seq]}


Page = tuple[int, str, bytes, list[tuple[str, str]]]  # status, content type, body, extra headers
Route = Callable[[str], Page | None]


def html(title: str, body: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>\n".encode()


def media_page(path: str) -> Page | None:
    kind = MEDIA.get(path)
    return (200, kind, MEDIA_BODY, []) if kind else None


def handler_for(route: Route, log: RequestLog) -> type[BaseHTTPRequestHandler]:
    """A handler that records each request in *log*, serves ``/_log`` from it, and everything else from *route*
    (a function path -> page, None for 404)."""

    class InspectHandler(LabHandler):
        def _respond(self, with_body: bool) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/_log":
                since = int((parse_qs(parts.query).get("since") or ["0"])[0] or 0)
                page: Page = (200, "application/json", json.dumps(log.since(since)).encode(), [])
            else:
                log.record(self.command, self.path, [(name, value) for name, value in self.headers.items()])
                page = route(parts.path) or (404, "text/html", html("404 Not Found", "<h1>404</h1>"), [])
            status, content_type, body, headers = page
            try:
                self.send_page(status, content_type, body, headers, with_body=with_body)
            except OSError:  # the crawler hung up (it refuses media at the headers): expected
                pass

        def do_GET(self) -> None:
            self._respond(with_body=True)

        def do_HEAD(self) -> None:
            self._respond(with_body=False)

    return InspectHandler


def inspect_route(own: str, peer_host: str) -> Route:
    """The pages of an inspect site called *own* whose twin is served at *peer_host*."""
    peer = f"http://{peer_host}" if peer_host else ""

    def route(path: str) -> Page | None:
        if path == "/":
            links = "".join(f'<li><a href="/page/{n}">page {n}</a></li>' for n in (1, 2))
            links += '<li><a href="/set-cookie">cookies</a></li>'
            if peer:
                links += f'<li><a href="{peer}/">twin</a></li><li><a href="{peer}/from-peer">twin page</a></li>'
            links += "".join(f'<li><a href="{path}">{path}</a></li>' for path in list(MEDIA)[:4])
            embedded = (
                '<img src="/media/inline.png" alt="x"><video src="/media/inline.webm">'
                '<source src="/media/source.mp4" type="video/mp4"></video>'
            )
            # a hostile site asks the crawler to tell the next site where it came from
            body = html(f"inspect {own}", f"<ul>{links}</ul>{embedded}")
            return 200, "text/html; charset=utf-8", body, [("Referrer-Policy", "unsafe-url")]
        if path.startswith("/page/"):
            return 200, "text/html; charset=utf-8", html(f"{own} {path}", '<p>a page</p><a href="/">home</a>'), []
        if path == "/set-cookie":
            headers = [
                ("Set-Cookie", f"probe_{own}={own}-token; Path=/; HttpOnly"),
                ("Set-Cookie", f"tracker={own}-supercookie; Domain=.onion; Path=/"),
            ]
            body = html("cookies", '<p>cookies set</p><a href="/page/3">page 3</a>')
            return 200, "text/html; charset=utf-8", body, headers
        if path == "/from-peer":
            return 200, "text/html; charset=utf-8", html("from the twin", "<p>linked from the twin</p>"), []
        return media_page(path)

    return route


def make_handler(onion_hosts: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    return handler_for(inspect_route("inspect", onion_hosts.get("inspect2", "")), RequestLog())
