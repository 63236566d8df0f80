"""Special lab site ``jsgate``: pages that need JavaScript, and a hostile page, for the rendering tests
(docs/rendering.md).

Cases (every path takes an optional ``?run=TOKEN``, echoed into the page's sub-resource and report URLs so that a test
can find its own requests in the site's log):

* ``/js`` -- the content (a marker sentence and a Bitcoin address) is written by a script; the HTML holds none of it.
  A plain fetch sees an empty page; a rendered one sees the content.
* ``/gate`` -- a JavaScript gate: a ``<noscript>`` warning and a script that writes the content. What the JS-gate
  heuristic should recognise and retry in the browser.
* ``/hostile`` -- asks for an image, a video, a web font, a download (a script clicks ``<a download>`` and an iframe
  points at an ``.exe``), opens an ``RTCPeerConnection`` and reports the ICE candidates it gets (and whether
  geolocation and notifications were granted) by ``POST /report``. A crawler's browser should fetch none of the
  media or downloads, and no candidate should carry a local address.
* ``/endless`` -- the HTML starts, then never ends (a byte every few seconds for ``ENDLESS_SECONDS``): the page's load
  event never fires. A crawler should time out and go on.

Every request is written to the site's log (stderr, ``<lab>/logs/site-jsgate.log``) as ``jsgate: GET /path?query``;
reports as ``jsgate: REPORT <json>``.
"""

from __future__ import annotations

import base64
import html
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from crawler.lab.handler import LabHandler

# What the scripts write. It appears in no HTML byte: the pages carry it base64-encoded only.
JS_MARKER = "Rendered by JavaScript: the vendor jsgate-orchid accepts escrow"
GATE_MARKER = "Welcome past the JavaScript gate: jsgate-lantern listings"
JS_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
ENDLESS_SECONDS = 240
REPORT_LIMIT = 64 * 1024


def _encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _run_suffix(run: str) -> str:
    return f"?run={run}" if run else ""


def index_page() -> bytes:
    links = "".join(f'<li><a href="/{name}">{name}</a></li>' for name in ("js", "gate", "hostile", "endless"))
    return f"<html><head><title>jsgate</title></head><body><h1>jsgate</h1><ul>{links}</ul></body></html>".encode()


def js_page() -> bytes:
    """Content written by a script; the body is empty without JavaScript."""
    return f"""<!doctype html><html><head><title>jsgate app</title>
<script>
document.addEventListener("DOMContentLoaded", function () {{
  var app = document.getElementById("app");
  var p = document.createElement("p"); p.textContent = atob("{_encoded(JS_MARKER)}"); app.appendChild(p);
  var q = document.createElement("p"); q.textContent = "BTC " + atob("{_encoded(JS_ADDRESS)}"); app.appendChild(q);
}});
</script></head><body><div id="app"></div></body></html>""".encode()


def gate_page() -> bytes:
    """A JavaScript gate: a ``<noscript>`` warning, scripts, and no content of its own."""
    return f"""<!doctype html><html><head><title>Checking your browser</title>
<script>window.__gate = atob("{_encoded(GATE_MARKER)}");</script></head><body>
<noscript>Please enable JavaScript to continue. This site requires JavaScript.</noscript>
<div id="content"></div>
<script>document.getElementById("content").textContent = window.__gate;</script>
</body></html>""".encode()


def hostile_page(run: str) -> bytes:
    """Media, downloads, WebRTC, geolocation and notifications: what a crawler's browser must not give away."""
    suffix = html.escape(_run_suffix(run))
    report = json.dumps(f"/report{_run_suffix(run)}")
    return f"""<!doctype html><html><head><title>jsgate hostile</title>
<style>@font-face {{ font-family: Trap; src: url("/media/trap.woff2{suffix}"); }} body {{ font-family: Trap; }}</style>
</head><body><p id="status">hostile page</p>
<img src="/media/photo.jpg{suffix}" alt="photo">
<video src="/media/clip.mp4{suffix}" autoplay muted></video>
<iframe src="/download/setup.exe{suffix}"></iframe>
<a id="dl" href="/download/archive.zip{suffix}" download="archive.zip">archive</a>
<script>
(function () {{
  var result = {{candidates: [], webrtc: "absent", geolocation: "unknown", notifications: "unknown"}};
  try {{ document.getElementById("dl").click(); }} catch (e) {{}}
  function send() {{
    fetch({report}, {{method: "POST", body: JSON.stringify(result)}}).then(function () {{
      document.getElementById("status").textContent = "hostile page reported";
    }});
  }}
  var pending = 2;
  function done() {{ pending -= 1; if (pending === 0) {{ send(); }} }}
  try {{ result.notifications = String(Notification.permission); }} catch (e) {{ result.notifications = "absent"; }}
  try {{
    navigator.geolocation.getCurrentPosition(
      function () {{ result.geolocation = "granted"; done(); }},
      function (err) {{ result.geolocation = "denied:" + err.code; done(); }},
      {{timeout: 2000}});
  }} catch (e) {{ result.geolocation = "absent"; done(); }}
  if (typeof RTCPeerConnection !== "function") {{ done(); return; }}
  result.webrtc = "present";
  try {{
    var pc = new RTCPeerConnection({{iceServers: []}});
    pc.createDataChannel("probe");
    var finish = function () {{ if (pc) {{ pc.close(); pc = null; done(); }} }};
    pc.onicecandidate = function (event) {{
      if (event.candidate) {{ result.candidates.push(event.candidate.candidate); }} else {{ finish(); }}
    }};
    pc.createOffer().then(function (offer) {{ return pc.setLocalDescription(offer); }})
      .catch(function (e) {{ result.webrtc = "error:" + e; finish(); }});
    setTimeout(finish, 3000);
  }} catch (e) {{ result.webrtc = "error:" + e; done(); }}
}})();
</script></body></html>""".encode()


LOG_LOCK = threading.Lock()


def make_handler(onion_hosts: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    """Return the request handler of the jsgate site (*onion_hosts* is not needed: the site links only to itself)."""

    class JsGateHandler(LabHandler):
        def _log(self, line: str) -> None:
            # one write per line under a lock: the server answers in threads, and print() writes the text and its
            # newline separately, so two requests' lines could run together ("GET /aGET /b")
            with LOG_LOCK:
                sys.stderr.write(f"jsgate: {line}\n")
                sys.stderr.flush()

        def _send(self, body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200,
                  extra: tuple[tuple[str, str], ...] = ()) -> None:
            self.send_page(status, content_type, body, extra)

        def do_GET(self) -> None:
            self._log(f"GET {self.path}")
            parts = urlsplit(self.path)
            run = parse_qs(parts.query).get("run", [""])[0][:64]
            run = "".join(char for char in run if char.isalnum() or char in "-_")
            path = parts.path
            if path == "/":
                self._send(index_page())
            elif path == "/js":
                self._send(js_page())
            elif path == "/gate":
                self._send(gate_page())
            elif path == "/hostile":
                self._send(hostile_page(run))
            elif path == "/endless":
                self._endless()
            elif path.startswith("/media/"):
                self._send(b"\x00" * 512, "application/octet-stream")
            elif path.startswith("/download/"):
                self._send(b"MZ" + b"\x00" * 510, "application/octet-stream",
                           extra=(("Content-Disposition", 'attachment; filename="payload.bin"'),))
            else:
                self._send(b"<html><body><h1>404 Not Found</h1></body></html>", status=404)

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), REPORT_LIMIT)
            body = self.rfile.read(length)
            self._log(f"POST {self.path}")
            if urlsplit(self.path).path == "/report":
                self._log(f"REPORT {body.decode('utf-8', errors='replace')}")
            self._send(b"{}", "application/json")

        def _endless(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()  # no length, HTTP/1.1 without chunking: the body ends when the connection closes
            self.close_connection = True
            try:
                self.wfile.write(b"<!doctype html><html><head><title>jsgate endless</title></head><body><p>loading")
                self.wfile.flush()
                deadline = time.monotonic() + ENDLESS_SECONDS
                while time.monotonic() < deadline:
                    time.sleep(3)
                    self.wfile.write(b".")
                    self.wfile.flush()
            except OSError:
                pass

    return JsGateHandler
