"""The request handler every lab site builds on (the fixture sites of :mod:`crawler.lab.serve` and the special sites of
:mod:`crawler.lab.special`), so that all of them look and answer alike.

Offers :class:`LabHandler`.
"""

from __future__ import annotations

from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler


class LabHandler(BaseHTTPRequestHandler):
    """Looks like a common onion server (nginx over HTTP/1.1, no Python version in ``Server``), keeps quiet (the lab
    keeps its own logs), and answers a whole page in one call."""

    server_version = "nginx"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def send_page(
        self,
        status: int,
        content_type: str,
        body: bytes,
        headers: Iterable[tuple[str, str]] = (),
        with_body: bool = True,
    ) -> None:
        """Send *body* with its ``Content-Type``, *headers* and ``Content-Length``; the body itself only when
        *with_body* (not for HEAD)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass
