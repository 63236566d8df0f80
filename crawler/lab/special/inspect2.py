"""Special lab site ``inspect2``: the twin of :mod:`crawler.lab.special.inspect` (same paths, its own request log and
cookie name), so that a crawl of both shows whether anything crosses from one site to the other."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from crawler.lab.special.inspect import RequestLog, handler_for, inspect_route


def make_handler(onion_hosts: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    return handler_for(inspect_route("inspect2", onion_hosts.get("inspect", "")), RequestLog())
