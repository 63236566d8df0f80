"""The ``hostile`` lab site: responses built to hurt a crawler. Each case and what darkcrawl must do (the limits are
in docs/reliability.md, the tests in tests/integration/test_hostile.py):

* ``/bomb/gzip``, ``/bomb/deflate``, ``/bomb/br``: about 1 MB (gzip, deflate) or 2 KB (brotli) on the wire, 1 GiB of
  HTML once decompressed. Decompression must stop at ``DOWNLOAD_MAXSIZE``.
* ``/big``: a 50 MB page with its Content-Length: cancelled at the headers (``DOWNLOAD_MAXSIZE``).
* ``/endless``: a chunked response that never ends: cancelled once ``DOWNLOAD_MAXSIZE`` bytes arrived.
* ``/slowloris``: headers, then one byte a second for ever: no read ever times out, so only a limit on the
  whole response's time stops it (``DARKCRAWL_RESPONSE_MAX_TIME``).
* ``/trap/calendar/<year>/<month>``: an endless calendar, each month linking to its neighbours and to its days, each
  day to its neighbours: unique URLs without end (``DARKCRAWL_MAX_PATTERN_CHAIN``, then the per-site page budget
  ``DARKCRAWL_MAX_PAGES_PER_SITE``).
* ``/redirect/loop/<n>``: redirects to ``<n+1>`` for ever (``REDIRECT_MAX_TIMES``); ``/redirect/cycle-a`` and
  ``/redirect/cycle-b`` redirect to each other (a cycle, caught at once);
* ``/redirect/clearnet``: redirects to :data:`CLEARNET_TARGET`, a clearnet host: refused by an onion-only crawl, and
  otherwise fetched through Tor like anything else.
* ``/longline``: 1 MB of HTML on a single line, with a link and an e-mail address at its very end.
* ``/charset/unknown``, ``/charset/lying-utf8``, ``/charset/lying-utf16``, ``/charset/meta-conflict``: a charset that
  does not exist, or one the bytes contradict: the text is still extracted (replacement characters at worst).
* ``/binary``: 256 KB of (seeded) random bytes served as ``text/html``: must not break parsing or indexing.
* ``/longurl``: a page linking to a 10,000-character URL (under ``/long/``): that URL is never requested
  (``URLLENGTH_LIMIT``).
* ``/deep``: 100,000 nested ``<div>``\\s around a sentence: parsers must neither crash nor take minutes.
* ``/charset/codec-rot13``, ``/charset/codec-cp037``: UTF-8 pages declaring a charset that Python knows but the web
  does not (``<meta charset="rot13">``, ``Content-Type: ...; charset=cp037``): decoded as UTF-8, text and links kept.
* ``/slow/``: not linked from ``/``; links to ``/slow/armor`` (:data:`SLOW_BYTES` of PGP armor, seconds of extraction
  even at linear speed: a crawl with a small ``DARKCRAWL_EXTRACT_TIMEOUT`` and a large ``DOWNLOAD_MAXSIZE`` meets a
  page over its budget) and to :data:`SLOW_NEIGHBOURS` small pages that must be extracted meanwhile.

Anything else is a 404. Every case is linked from ``/``, so a crawl from ``/`` meets them all.
"""

from __future__ import annotations

import base64
import random
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from crawler.lab.handler import LabHandler

CLEARNET_TARGET = "http://clearnet-target.darkcrawl-lab.example/landing"
BOMB_SIZE = 1 << 30  # decompressed bytes of each bomb
BIG_SIZE = 50 * 1000 * 1000
LONG_URL_LENGTH = 10_000
DEEP_NESTING = 100_000
LONG_LINE_BYTES = 1 << 20
SLOWLORIS_INTERVAL = 1.0  # seconds between trickled bytes
CALENDAR_START = (2026, 11)
LONG_LINE_EMAIL = "longline-end@darkcrawl-lab.example"
SLOW_BYTES = 12 * 1000 * 1000
SLOW_NEIGHBOURS = 8
SLOW_TITLE = "armor wall"
DEEP_SENTENCE = "the deepest sentence of the hostile site"

CASES: tuple[str, ...] = (
    "/bomb/gzip",
    "/bomb/deflate",
    "/bomb/br",
    "/big",
    "/endless",
    "/slowloris",
    "/trap/calendar/2026/11",
    "/redirect/loop/0",
    "/redirect/cycle-a",
    "/redirect/clearnet",
    "/longline",
    "/charset/unknown",
    "/charset/lying-utf8",
    "/charset/lying-utf16",
    "/charset/meta-conflict",
    "/charset/codec-rot13",
    "/charset/codec-cp037",
    "/binary",
    "/longurl",
    "/deep",
)

_CHUNK = 1 << 20
_bombs: dict[tuple[str, int], bytes] = {}
_bombs_lock = threading.Lock()


def _html(title: str, body: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>\n{body}\n</body></html>\n".encode()


def index_page() -> bytes:
    links = "\n".join(f'<li><a href="{path}">{path}</a></li>' for path in CASES)
    return _html("hostile", f"<h1>Hostile responses</h1><ul>\n{links}\n</ul>")


def bomb(encoding: str, size: int = BOMB_SIZE) -> bytes:
    """The compressed body of the *encoding* bomb (``gzip``, ``deflate`` or ``br``): HTML, then spaces up to *size*
    bytes (a multiple of 1 MiB). Built once per process (about 3 s for 1 GiB of gzip)."""
    with _bombs_lock:
        if (encoding, size) not in _bombs:
            head = b"<!DOCTYPE html><html><head><title>bomb</title></head><body><p>"
            filler = b" " * _CHUNK
            if encoding == "br":
                import brotli

                compressor = brotli.Compressor(quality=5)
                parts = [compressor.process(head)] + [compressor.process(filler) for _ in range(size // _CHUNK)]
                parts.append(compressor.finish())
            else:
                wbits = 31 if encoding == "gzip" else 15
                deflater = zlib.compressobj(9, zlib.DEFLATED, wbits)
                parts = [deflater.compress(head)] + [deflater.compress(filler) for _ in range(size // _CHUNK)]
                parts.append(deflater.flush())
            _bombs[encoding, size] = b"".join(parts)
        return _bombs[encoding, size]


def calendar_page(year: int, month: int, day: int | None = None, event: int = 0) -> bytes:
    """A month (or an event of a day) of the endless calendar, linking to its neighbours: every URL is new."""
    if day is None:
        prev_y, prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
        next_y, next_m = (year, month + 1) if month < 12 else (year + 1, 1)
        days = " ".join(f'<a href="/trap/calendar/{year}/{month}/{d}">{d}</a>' for d in range(1, 29))
        body = (
            f'<a href="/trap/calendar/{prev_y}/{prev_m}">previous</a> <a href="/trap/calendar/{next_y}/{next_m}">next'
            f"</a><p>{days}</p>"
        )
        return _html(f"calendar {year}-{month}", body)
    day_url = f"/trap/calendar/{year}/{month}/{day}"
    body = (
        f'<a href="{day_url}/event/{event - 1}">earlier</a> <a href="{day_url}/event/{event + 1}">later</a> '
        f'<a href="/trap/calendar/{year}/{month}">month</a>'
    )
    return _html(f"calendar {year}-{month}-{day} event {event}", body)


def long_line_page() -> bytes:
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    filler = (words * (LONG_LINE_BYTES // len(words) + 1))[:LONG_LINE_BYTES]
    return (
        f"<!DOCTYPE html><html><head><title>long line</title></head><body><p>{filler} contact {LONG_LINE_EMAIL} "
        f'<a href="/charset/unknown">next</a></p></body></html>'
    ).encode()


def deep_page() -> bytes:
    return (
        b"<!DOCTYPE html><html><head><title>deep</title></head><body>"
        + b"<div>" * DEEP_NESTING
        + DEEP_SENTENCE.encode()
        + b"</div>" * DEEP_NESTING
        + b"</body></html>"
    )


def armor_page(size: int = SLOW_BYTES) -> bytes:
    """About *size* bytes of (seeded) random PGP public-key armor blocks in a ``<pre>``: every extraction stage has
    to read it all (base64 looks like crypto addresses, handles, words), about 0.13 s a megabyte here."""
    rng = random.Random(13)
    blocks = []
    length = 0
    while length < size:
        data = base64.b64encode(rng.randbytes(900)).decode()
        lines = "\n".join(data[i : i + 64] for i in range(0, len(data), 64))
        block = f"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{lines}\n=sJ4k\n-----END PGP PUBLIC KEY BLOCK-----\n"
        blocks.append(block)
        length += len(block)
    return _html(SLOW_TITLE, "<pre>" + "".join(blocks) + "</pre>")


def slow_index_page() -> bytes:
    links = ['<a href="/slow/armor">armor</a>'] + [
        f'<a href="/slow/{n}">neighbour {n}</a>' for n in range(1, SLOW_NEIGHBOURS + 1)
    ]
    return _html("slow", "<ul>" + "".join(f"<li>{link}</li>" for link in links) + "</ul>")


def binary_body() -> bytes:
    return random.Random(8).randbytes(256 * 1024)


def long_url() -> str:
    prefix = "/long/"
    return prefix + "a" * (LONG_URL_LENGTH - len(prefix))


CHARSET_CASES: dict[str, tuple[str, bytes]] = {
    # header charset that no codec knows; UTF-8 bytes
    "unknown": ("text/html; charset=x-darkcrawl-no-such-charset", _html("charset unknown", "caf\u00e9 cr\u00e8me")),
    # claims UTF-8, sends Windows-1252 (invalid UTF-8)
    "lying-utf8": (
        "text/html; charset=utf-8",
        "<html><head><title>charset lying</title></head><body>caf\u00e9 \u2018quoted\u2019</body></html>".encode(
            "cp1252"
        ),
    ),
    # claims UTF-16 over ASCII markup
    "lying-utf16": ("text/html; charset=utf-16", _html("charset utf16", "plain ascii words")),
    # the header and the <meta> disagree, and both are wrong: the bytes are UTF-8
    "meta-conflict": (
        "text/html; charset=iso-8859-7",
        b'<html><head><meta charset="shift_jis"><title>charset conflict</title></head><body>'
        + "na\u00efve \u00fcber \u20ac".encode()
        + b"</body></html>",
    ),
    # Python codecs that are no web encoding: honoured, they made response.text raise (rot13) or decoded garbage
    "codec-rot13": (
        "text/html",
        b'<html><head><meta charset="rot13"><title>charset rot13</title></head><body>caf\xc3\xa9 rot13 words'
        b' <a href="/charset/codec-cp037">next</a></body></html>',
    ),
    "codec-cp037": (
        "text/html; charset=cp037",
        _html("charset cp037", "caf\u00e9 cp037 words"),
    ),
}


_armor_cache: list[bytes] = []


def _armor() -> bytes:
    with _bombs_lock:
        if not _armor_cache:
            _armor_cache.append(armor_page())
        return _armor_cache[0]


def make_handler(onion_hosts: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    """Return the request handler of the hostile site (*onion_hosts* is not needed: every link is relative).

    The bombs are built in a background thread at once (about 8 s of CPU), so that a crawl meets them at network
    speed rather than waiting for the compressor."""
    threading.Thread(target=lambda: [bomb(encoding) for encoding in ("br", "gzip", "deflate")], daemon=True).start()

    class HostileHandler(LabHandler):
        def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
                  headers: tuple[tuple[str, str], ...] = ()) -> None:
            self.send_page(status, content_type, body, headers, with_body=self.command != "HEAD")

        def _redirect(self, location: str) -> None:
            self._send(302, _html("moved", f'<a href="{location}">moved</a>'), headers=(("Location", location),))

        def _chunked(self, chunks: object, content_type: str = "text/html; charset=utf-8") -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for chunk in chunks:  # type: ignore[attr-defined]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            except OSError:  # the crawler gave up on us, as it should
                pass
            self.close_connection = True

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            parts = [part for part in path.split("/") if part]
            if path == "/":
                self._send(200, index_page())
            elif len(parts) == 2 and parts[0] == "bomb" and parts[1] in ("gzip", "deflate", "br"):
                self._send(200, bomb(parts[1]), headers=(("Content-Encoding", parts[1]),))
            elif path == "/big":
                self._big()
            elif path == "/endless":
                self._chunked(self._endless())
            elif path == "/slowloris":
                self._chunked(self._trickle())
            elif parts[:2] == ["trap", "calendar"]:
                self._calendar(parts[2:])
            elif len(parts) == 3 and parts[:2] == ["redirect", "loop"] and parts[2].isdigit():
                self._redirect(f"/redirect/loop/{int(parts[2]) + 1}")
            elif path == "/redirect/cycle-a":
                self._redirect("/redirect/cycle-b")
            elif path == "/redirect/cycle-b":
                self._redirect("/redirect/cycle-a")
            elif path == "/redirect/clearnet":
                self._redirect(CLEARNET_TARGET)
            elif path == "/longline":
                self._send(200, long_line_page())
            elif len(parts) == 2 and parts[0] == "charset" and parts[1] in CHARSET_CASES:
                content_type, body = CHARSET_CASES[parts[1]]
                self._send(200, body, content_type)
            elif path == "/binary":
                self._send(200, binary_body())
            elif path == "/longurl":
                self._send(200, _html("long url", f'<a href="{long_url()}">a very long link</a>'))
            elif parts[:1] == ["long"]:
                self._send(200, _html("long url target", "a crawler should never have asked for this"))
            elif path == "/deep":
                self._send(200, deep_page())
            elif path == "/slow/":
                self._send(200, slow_index_page())
            elif path == "/slow/armor":
                self._send(200, _armor())
            elif len(parts) == 2 and parts[0] == "slow" and parts[1].isdigit():
                self._send(200, _html(f"neighbour {parts[1]}", f"<p>a small page, number {parts[1]}</p>"))
            else:
                self._send(404, _html("404 Not Found", "<h1>404 Not Found</h1>"))

        def _big(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(BIG_SIZE))
            self.end_headers()
            if self.command == "HEAD":
                return
            block = b"<p>" + b"big page " * 7000 + b"</p>\n"
            sent = 0
            try:
                while sent < BIG_SIZE:
                    piece = block[: BIG_SIZE - sent]
                    self.wfile.write(piece)
                    sent += len(piece)
            except OSError:
                self.close_connection = True

        @staticmethod
        def _endless() -> object:
            block = b"<p>" + b"endless " * 8000 + b"</p>\n"
            yield b"<!DOCTYPE html><html><head><title>endless</title></head><body>"
            while True:
                yield block

        @staticmethod
        def _trickle() -> object:
            yield b"<!DOCTYPE html><html><head><title>slowloris</title></head><body><p>"
            while True:
                time.sleep(SLOWLORIS_INTERVAL)
                yield b"."

        def _calendar(self, rest: list[str]) -> None:
            shape = [part if part == "event" else "N" for part in rest]
            try:
                numbers = [int(part) for part in rest if part != "event"]
            except ValueError:
                shape = []
            if shape == ["N", "N"]:
                self._send(200, calendar_page(numbers[0], numbers[1]))
            elif shape == ["N", "N", "N"]:
                self._send(200, calendar_page(numbers[0], numbers[1], numbers[2]))
            elif shape == ["N", "N", "N", "event", "N"]:
                self._send(200, calendar_page(*numbers))
            else:
                self._send(404, _html("404 Not Found", "<h1>404 Not Found</h1>"))

    return HostileHandler
