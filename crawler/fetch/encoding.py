"""Responses decoded as browsers decode them, by the one function extraction uses (docs/signals.md, "How a page
is read").

Offers :func:`response_html` (a text response's body as str, by :func:`pipelines.extract.text.decode_body`: what the
content policy reads, what the spider keeps for extraction and reads links from) and :class:`EncodingMiddleware`.

Scrapy decodes ``response.text`` with whatever codec Python knows by the declared name: a page declaring
``<meta charset="rot13">`` (or ``base64``, ``zlib`` ...) makes ``response.text`` raise, ``cp037`` decodes garbage.
The middleware sets each text response's encoding to the one :func:`pipelines.extract.encoding.sniff_encoding` picks
(WHATWG labels only), so Scrapy's own readers (meta refresh, the render gate) never raise and read the same text.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

from scrapy.http import TextResponse

from pipelines.extract.encoding import sniff_encoding
from pipelines.extract.text import decode_body

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.http import Response


def response_content_type(response: TextResponse) -> str | None:
    """The response's Content-Type header value, or ``None``."""
    return (response.headers.get(b"Content-Type") or b"").decode("latin-1") or None


def response_html(response: TextResponse) -> str:
    """The body of *response* as text, decoded as extraction decodes it. Never raises."""
    return decode_body(response.body, response_content_type(response))


def _python_codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:  # x-user-defined, replacement: no Python codec; Scrapy's readers get windows-1252
        return "cp1252"


class EncodingMiddleware:
    """Give every text response the encoding browsers would use, before anything reads ``response.text``.

    It sits at 585 in ``DOWNLOADER_MIDDLEWARES``: responses reach it after decompression (590) and before the meta
    refresh middleware (580), the first reader of ``response.text``."""

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        if not isinstance(response, TextResponse):
            return response
        sniffed = sniff_encoding(response.body, response_content_type(response))
        return response.replace(encoding=_python_codec(sniffed.codec))
