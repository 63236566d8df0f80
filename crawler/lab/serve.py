"""Serve one fixture site over HTTP on loopback:
``python -m crawler.lab.serve --site NAME --port PORT [--host H] [--onion-hosts FILE]``.

The Tor lab runs one of these per onion service (the onion's virtual port 80 points at it). ``--onion-hosts`` names a
JSON object (site name -> onion hostname, as the lab writes to ``onion-hosts.json``) so that links to the other
sites point at their lab onions; without it the sites link to stable placeholder onions.

Offers :func:`make_handler` (a request handler class for a built :class:`~crawler.lab.sites.Site`),
:func:`load_onion_hosts` and :func:`main`. Bad arguments or a bad hosts file print one line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from crawler.errors import DarkcrawlError, UsageError
from crawler.lab.handler import LabHandler
from crawler.lab.sites import ALL_SITE_NAMES, SPECIAL_SITE_NAMES, Page, Site, build_site
from crawler.lab.sites.onions import onion_from_key

NOT_FOUND = Page(b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>\n",
                 status=404)


def lookup(site: Site, target: str) -> Page:
    """Return the page for a request target (``/path?query``): the exact path and query, else the path alone
    (unknown query strings are ignored, as most site software does), else a 404 page."""
    parts = urlsplit(target)
    path = parts.path or "/"
    if parts.query and f"{path}?{parts.query}" in site.pages:
        return site.pages[f"{path}?{parts.query}"]
    return site.pages.get(path, NOT_FOUND)


def make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    """Return a handler class serving *site*'s pages (GET and HEAD; 404 for unknown paths)."""

    class SiteHandler(LabHandler):
        def _respond(self, body: bool) -> None:
            page = lookup(site, self.path)
            self.send_page(page.status, page.content_type, page.body, page.headers, with_body=body)

        def do_GET(self) -> None:
            self._respond(body=True)

        def do_HEAD(self) -> None:
            self._respond(body=False)

    return SiteHandler


def special_handler(name: str, onion_hosts: dict[str, str] | None) -> type[BaseHTTPRequestHandler]:
    """Return the handler class of the special site *name* (``crawler.lab.special.<name>.make_handler``)."""
    module = importlib.import_module(f"crawler.lab.special.{name}")
    handler: type[BaseHTTPRequestHandler] = module.make_handler(onion_hosts or {})
    return handler


def _valid_onion(host: str) -> bool:
    import base64

    label = host.removesuffix(".onion")
    if not host.endswith(".onion") or len(label) != 56:
        return False
    try:
        raw = base64.b32decode(label.upper())
    except ValueError:
        return False
    return onion_from_key(raw[:32]) == host


def load_onion_hosts(path: str | Path) -> dict[str, str]:
    """Read a JSON object of site name -> v3 onion hostname. Raises :class:`UsageError` when the file cannot be read,
    is not such an object, or holds a hostname that is not a valid v3 onion."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the onion hosts file {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"the onion hosts file {path} is not JSON ({exc}); write an object site -> hostname") from None
    if not isinstance(data, dict):
        raise UsageError(f"the onion hosts file {path} must hold a JSON object site -> hostname")
    hosts: dict[str, str] = {}
    for name, host in data.items():
        if not isinstance(host, str) or not _valid_onion(host.strip().lower()):
            raise UsageError(f"the onion hosts file {path} gives {name!r} the hostname {host!r}, not a valid v3 onion")
        hosts[str(name)] = host.strip().lower()
    return hosts


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted; return the exit status (2 with a one-line message for bad input)."""
    parser = argparse.ArgumentParser(prog="python -m crawler.lab.serve", description=__doc__.split("\n\n")[0])
    known = ALL_SITE_NAMES + SPECIAL_SITE_NAMES
    parser.add_argument("--site", required=True, help=f"one of: {', '.join(known)}")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--onion-hosts", metavar="FILE", help="JSON object site name -> onion hostname")
    args = parser.parse_args(argv)
    try:
        if args.site not in known:
            raise UsageError(f"unknown fixture site {args.site!r}; known: {', '.join(known)}")
        hosts = load_onion_hosts(args.onion_hosts) if args.onion_hosts else None
        handler = special_handler(args.site, hosts) if args.site in SPECIAL_SITE_NAMES else make_handler(
            build_site(args.site, hosts))
        try:
            server = ThreadingHTTPServer((args.host, args.port), handler)
        except OSError as exc:
            reason = exc.strerror or exc
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason}; pick a free port") from None
    except DarkcrawlError as exc:
        print(f"crawler.lab.serve: error: {exc}", file=sys.stderr)
        return exc.exit_code
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
