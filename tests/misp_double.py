"""A test double of a MISP server (MISP itself cannot run here): a local HTTP(S) server on 127.0.0.1 answering the
few REST endpoints PyMISP uses to connect and to add or update events, the way MISP 2.5 answers them, and recording
every request so tests can assert what darkcrawl sent.

Served: ``GET /servers/getVersion``, ``GET /users/view/me`` (what PyMISP asks when it connects),
``GET /attributes/describeTypes.json`` (404: PyMISP then uses its bundled copy), ``HEAD|GET /events/view/<uuid>``,
``POST /events/add`` (403 when the UUID exists, as MISP refuses a duplicate), ``POST /events/edit/<uuid>``. Every
request needs ``Authorization: <api key>``, else 403 as MISP answers.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pymisp import __version__ as pymisp_version

MISP_VERSION = "2.5.20"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class MispDouble:
    """The running double: its URL, the key it accepts, the events it holds by UUID, the requests it received."""

    server: ThreadingHTTPServer
    url: str
    api_key: str
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    next_id: int = 1
    refuse: set[str] = field(default_factory=set)  # event UUIDs answered with MISP's 403 validation error

    def paths(self, method: str) -> list[str]:
        return [request.path for request in self.requests if request.method == method]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _user() -> dict[str, Any]:
    return {
        "User": {"id": "1", "email": "analyst@partner.test", "org_id": "1", "role_id": "3", "disabled": False,
                 "autoalert": False, "contactalert": False, "termsaccepted": True, "change_pw": False},
        "Role": {"id": "3", "name": "User", "perm_add": True, "perm_modify": True, "perm_modify_org": True,
                 "perm_publish": False, "perm_sync": False, "perm_admin": False, "perm_site_admin": False,
                 "perm_tagger": True, "perm_auth": True},
        "UserSetting": {},
        "Organisation": {"id": "1", "name": "Partner CERT", "uuid": "5d1a9b1e-0000-4000-8000-00000000c0de"},
    }


def start_misp_double(api_key: str, tls: ssl.SSLContext | None = None) -> MispDouble:
    double: MispDouble

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, body: Any = None) -> None:
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            double.requests.append(Received(self.command, self.path, dict(self.headers.items()), body))
            if self.headers.get("Authorization") != double.api_key:
                self._answer(403, {"name": "Authentication failed. Please make sure you pass the API key of an API "
                                           "enabled user along in the Authorization header.",
                                   "message": "Authentication failed.", "url": self.path})
                return
            path = self.path.split("?")[0].rstrip("/")
            if path == "/servers/getVersion":
                self._answer(200, {"version": MISP_VERSION, "pymisp_recommended_version": pymisp_version,
                                   "perm_sync": False, "perm_sighting": True,
                                   "perm_galaxy_editor": False, "request_encoding": ["gzip", "br"],
                                   "filter_sightings": True})
            elif path == "/users/view/me":
                self._answer(200, _user())
            elif path.startswith("/events/view/"):
                event = double.events.get(path.removeprefix("/events/view/"))
                self._answer(200 if event else 404, {"Event": event} if event else
                             {"name": "Invalid event", "message": "Invalid event", "url": self.path})
            elif path == "/events/add" and self.command == "POST":
                event = dict((body or {}).get("Event", body or {}))
                if event.get("uuid") in double.refuse:
                    self._answer(403, {"saved": False, "name": "Event could not be saved.",
                                       "message": "Event could not be saved.", "url": "/events/add",
                                       "errors": {"Event": {"info": ["Info cannot be empty."]}}})
                    return
                if event.get("uuid") in double.events:
                    self._answer(403, {"saved": False, "name": "Event could not be saved.",
                                       "message": "Event could not be saved.", "url": "/events/add",
                                       "errors": {"Event": {"uuid": ["An event with this uuid already exists."]}}})
                    return
                event["id"] = str(double.next_id)
                double.next_id += 1
                double.events[event["uuid"]] = event
                self._answer(200, {"Event": event})
            elif path.startswith("/events/edit/") and self.command == "POST":
                event_uuid = path.removeprefix("/events/edit/")
                if event_uuid not in double.events:
                    self._answer(404, {"name": "Invalid event", "message": "Invalid event", "url": self.path})
                    return
                event = dict((body or {}).get("Event", body or {}))
                event["id"] = double.events[event_uuid]["id"]
                double.events[event_uuid] = event
                self._answer(200, {"Event": event})
            else:
                self._answer(404, {"name": "Not Found", "message": "Not Found", "url": self.path})

        do_GET = do_POST = do_HEAD = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls else "http"
    double = MispDouble(server, f"{scheme}://127.0.0.1:{server.server_address[1]}", api_key)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return double


def server_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
