"""Writing HTTP exchanges to rotating, gzip-compressed WARC 1.1 files with warcio.

Each exchange is three records, each its own gzip member, appended in this order: the ``response`` (status line,
headers and body as received: content-encoding kept, transfer chunking removed by the HTTP client), the ``request`` (as
sent by Scrapy), and a ``metadata`` record (``application/warc-fields``) naming the Tor instance, its SOCKS endpoint,
the isolation username and circuit generation, the crawl and the worker. Block and payload digests are SHA-256 (base32,
``sha256:...``). Where the response record lies (file, offset, length) and the SHA-256 of its stored bytes go into the
page document, so the exact bytes behind a search hit can be exported and checked.

Files are written sequentially by one writer (a lock); a file is fsynced and closed when it passes ``max_bytes`` or
when the crawl ends, and its SHA-256 (computed while writing) goes into the crawl manifest.

Offers: :class:`Exchange`, :class:`WarcLocation`, :class:`WarcFile`, :class:`WarcWriter`, :func:`sha256_label`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

from warcio.warcwriter import BufferWARCWriter


def sha256_label(data: bytes) -> str:
    """A WARC digest value: ``sha256:`` and the base32 digest (the form warcio and other readers check)."""
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode("ascii")


@dataclass
class Exchange:
    """One request and its response, as they went through Tor."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    protocol: str  # "HTTP/1.1"
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes  # as received: content-encoding not undone
    fetched_at: datetime
    tor: dict[str, str] = field(default_factory=dict)  # tor instance, SOCKS endpoint, username, circuit


@dataclass(frozen=True)
class WarcLocation:
    """Where one response record lies; what the page document keeps under ``warc``."""

    file: str
    offset: int
    length: int
    record_sha256: str  # hex SHA-256 of the stored (gzip) record bytes
    payload_digest: str
    record_id: str
    exchange_length: int  # response, request and metadata records together, from offset

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class WarcFile:
    name: str
    sha256: str = ""
    bytes: int = 0
    records: int = 0
    closed: bool = False


class WarcWriter:
    """Appends exchanges to ``<dir>/<prefix>-<UTC start>-<crawl id>-<serial>.warc.gz``; thread-safe, sequential."""

    def __init__(self, directory: Path, prefix: str, crawl_id: str, max_bytes: int, info: dict[str, str]):
        self.directory = directory
        self.prefix = prefix
        self.crawl_id = crawl_id
        self.max_bytes = max_bytes
        self.info = info
        self.files: list[WarcFile] = []
        self.lock = threading.Lock()
        self._handle: Any = None
        self._hash: Any = None
        self._current: WarcFile | None = None
        self.directory.mkdir(parents=True, exist_ok=True)

    # --- records ---------------------------------------------------------------------------------------------
    @staticmethod
    def _record(writer: BufferWARCWriter, uri: str, kind: str, block: bytes, content_type: str,
                headers: dict[str, str]) -> Any:
        return writer.create_warc_record(
            uri, kind, payload=io.BytesIO(block), length=len(block), warc_content_type=content_type,
            warc_headers_dict=headers,
        )

    @staticmethod
    def response_block(exchange: Exchange) -> tuple[bytes, bytes]:
        """(HTTP head, body) of the response as it is stored."""
        try:
            reason = HTTPStatus(exchange.status).phrase
        except ValueError:
            reason = ""
        lines = [f"{exchange.protocol or 'HTTP/1.1'} {exchange.status} {reason}".rstrip()]
        for name, value in exchange.response_headers:
            if name.lower() == "transfer-encoding":  # the body is stored de-chunked: say so, do not mislead readers
                name = "X-Darkcrawl-Transfer-Encoding"
            lines.append(f"{name}: {value}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        return head, exchange.body

    @staticmethod
    def request_block(exchange: Exchange) -> bytes:
        from urllib.parse import urlsplit

        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"{exchange.method} {target} {exchange.protocol or 'HTTP/1.1'}"]
        names = {name.lower() for name, _ in exchange.request_headers}
        if "host" not in names:
            lines.append(f"Host: {parts.netloc}")
        lines += [f"{name}: {value}" for name, value in exchange.request_headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + exchange.request_body

    def _serialize(self, exchange: Exchange) -> tuple[bytes, bytes, bytes, str, str]:
        """The three gzip members (response, request, metadata), the response's record id and payload digest."""
        date = exchange.fetched_at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        head, body = self.response_block(exchange)
        payload_digest = sha256_label(body)
        members = []
        writer = BufferWARCWriter(gzip=True, warc_version="WARC/1.1")
        response = self._record(
            writer, exchange.url, "response", head + body, "application/http; msgtype=response",
            {"WARC-Date": date, "WARC-Block-Digest": sha256_label(head + body), "WARC-Payload-Digest": payload_digest},
        )
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        writer.write_record(response)
        members.append(writer.get_contents())
        request_bytes = self.request_block(exchange)
        writer = BufferWARCWriter(gzip=True, warc_version="WARC/1.1")
        writer.write_record(self._record(
            writer, exchange.url, "request", request_bytes, "application/http; msgtype=request",
            {"WARC-Date": date, "WARC-Concurrent-To": response_id, "WARC-Block-Digest": sha256_label(request_bytes)},
        ))
        members.append(writer.get_contents())
        fields = "".join(f"{name}: {value}\r\n" for name, value in exchange.tor.items()).encode("utf-8")
        writer = BufferWARCWriter(gzip=True, warc_version="WARC/1.1")
        writer.write_record(self._record(
            writer, exchange.url, "metadata", fields, "application/warc-fields",
            {"WARC-Date": date, "WARC-Concurrent-To": response_id, "WARC-Block-Digest": sha256_label(fields)},
        ))
        members.append(writer.get_contents())
        return members[0], members[1], members[2], response_id, payload_digest

    # --- files -----------------------------------------------------------------------------------------------
    def _open(self) -> None:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        name = f"{self.prefix}-{stamp}-{self.crawl_id}-{len(self.files):05d}.warc.gz"
        self._current = WarcFile(name)
        self.files.append(self._current)
        self._handle = open(self.directory / name, "xb")
        self._hash = hashlib.sha256()
        writer = BufferWARCWriter(gzip=True, warc_version="WARC/1.1")
        fields = "".join(f"{key}: {value}\r\n" for key, value in self.info.items()).encode("utf-8")
        writer.write_record(writer.create_warc_record(
            name, "warcinfo", payload=io.BytesIO(fields), length=len(fields),
            warc_content_type="application/warc-fields", warc_headers_dict={"WARC-Filename": name},
        ))
        self._append(writer.get_contents())

    def _append(self, data: bytes) -> int:
        assert self._current is not None
        offset = self._current.bytes
        self._handle.write(data)
        self._hash.update(data)
        self._current.bytes += len(data)
        self._current.records += 1
        return offset

    def _close(self) -> None:
        if self._handle is None or self._current is None:
            return
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        self._current.sha256 = self._hash.hexdigest()
        self._current.closed = True
        self._handle = self._hash = self._current = None

    def write_exchange(self, exchange: Exchange) -> WarcLocation:
        """Append *exchange*; return where its response record is. Blocking: call it off the event loop."""
        response, request, metadata, record_id, payload_digest = self._serialize(exchange)
        with self.lock:
            if self._current is None:
                self._open()
            assert self._current is not None
            name = self._current.name
            offset = self._append(response)
            self._append(request)
            self._append(metadata)
            self._handle.flush()
            location = WarcLocation(
                name, offset, len(response), hashlib.sha256(response).hexdigest(), payload_digest, record_id,
                len(response) + len(request) + len(metadata),
            )
            if self._current.bytes >= self.max_bytes:
                self._close()
            return location

    def close(self) -> list[WarcFile]:
        """fsync and close the current file; return every file written, with its SHA-256."""
        with self.lock:
            self._close()
            return list(self.files)
