"""The one HTML parse of a downloaded page, shared by every reader of its markup in the crawl process (issue #16).

The render gate (crawler/render/middleware.py), the content policy (crawler/safety/middleware.py) and the spider
(links, canonical URL, vendor rules' selectors) all call :func:`parsed_response`, which decodes the body as extraction
does (:func:`crawler.fetch.encoding.response_html`) and parses it with
:func:`pipelines.extract.text.parse_document` once, remembering the result for as long as the request lives (a
weak mapping keyed on the request: middlewares that replace the response, such as the encoding middleware, keep the
request and the body). The spider hands the parse's extraction product to the extraction stage with the page item
(:func:`crawler.items.attach_extraction_input`), so the extraction workers never parse the page again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from scrapy.http import TextResponse

from crawler.fetch.encoding import response_content_type
from pipelines.extract.text import ParsedDocument, decode_body, parse_document


@dataclass
class _Parse:
    body: bytes
    content_type: str | None
    gate_up_to: int
    html: str
    parsed: ParsedDocument


_PARSES: WeakKeyDictionary[Any, _Parse] = WeakKeyDictionary()


def _key(response: TextResponse, request: Any = None) -> Any:
    """What a parse is remembered by: the request (given, or the response's), else the response itself."""
    return request if request is not None else (response.request if response.request is not None else response)


def _entry(response: TextResponse, request: Any, gate_up_to: int) -> _Parse:
    key = _key(response, request)
    content_type = response_content_type(response)
    entry = _PARSES.get(key)
    if (
        entry is not None
        and entry.body is response.body
        and entry.content_type == content_type
        and entry.gate_up_to >= gate_up_to
    ):
        return entry
    html = entry.html if entry is not None and entry.body is response.body else decode_body(response.body, content_type)
    parsed = parse_document(html, response.url, content_type, gate_up_to=gate_up_to)
    entry = _PARSES[key] = _Parse(response.body, content_type, gate_up_to, html, parsed)
    return entry


def parsed_response(response: TextResponse, request: Any = None, *, gate_up_to: int = 0) -> ParsedDocument:
    """*response*'s body decoded and parsed, once per body: later calls for the same request and body return the same
    :class:`ParsedDocument`. *request* is the response's request where ``response.request`` is not set yet
    (downloader middlewares). *gate_up_to*: see :func:`parse_document` (the render gate, the first reader, asks)."""
    return _entry(response, request, gate_up_to).parsed


def forget_parse(response: TextResponse) -> None:
    """Drop *response*'s parse (its tree above all: several times the page's size) once its last reader, the spider,
    is done with it. The page may still wait a while for an extraction worker, holding only what it carries."""
    _PARSES.pop(_key(response), None)


def decoded_html(response: TextResponse, request: Any = None) -> str:
    """*response*'s body as text, decoded as extraction decodes it (the same str :func:`parsed_response` parsed)."""
    return _entry(response, request, 0).html
