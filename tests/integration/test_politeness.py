"""Per-site politeness across workers: two workers on one site keep its concurrency (1) and delay (1.2 s) together,
as the site itself sees them (a recording HTTP server published as an onion in the lab)."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.test_workers import start_worker, summary, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PAGES = 14
DELAY = 1.2
SERVE_TIME = 0.2  # long enough for two workers' requests to overlap if nothing held them apart
WINDOW = 4  # consecutive gaps, see the end of the test


def recording_server() -> tuple[ThreadingHTTPServer, list[tuple[float, float]]]:
    visits: list[tuple[float, float]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            started = time.monotonic()
            number = int(self.path.strip("/") or 0)
            links = "".join(f'<a href="/{n}">page {n}</a> ' for n in range(PAGES) if n != number)
            body = f"<html><head><title>p{number}</title></head><body><p>page {number}</p>{links}</body></html>"
            time.sleep(SERVE_TIME)
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            with lock:
                visits.append((started, time.monotonic()))

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, visits


def test_two_workers_keep_one_sites_concurrency_and_delay_together(tor_lab, es_node, redis_server, tmp_path):
    from stem.control import Controller

    server, visits = recording_server()
    controller = Controller.from_port(port=tor_lab.state().onion_control_port)
    controller.authenticate()
    service = controller.create_ephemeral_hidden_service(
        {80: f"127.0.0.1:{server.server_address[1]}"}, key_type="NEW", key_content="ED25519-V3", await_publication=True
    )
    onion = f"{service.service_id}.onion"
    try:
        es_prefix, frontier = f"t{uuid.uuid4().hex[:8]}", f"f{uuid.uuid4().hex[:8]}"
        config = tmp_path / "polite.toml"
        # one request at a time per worker, so that both workers take part
        config.write_text("[scrapy]\nCONCURRENT_REQUESTS = 1\nCONCURRENT_REQUESTS_PER_DOMAIN = 1\n"
                          f"DOWNLOAD_DELAY = {DELAY}\nDOWNLOAD_DELAY_JITTER = 0\n")
        envs = [worker_env(tor_lab, es_node, redis_server, es_prefix, frontier, tmp_path / f"w{n}", port, f"p{n}",
                           DARKCRAWL_CONFIG=str(config), DARKCRAWL_ES_ENABLED="0")
                for n, port in enumerate([tor_lab.socks_port, tor_lab.extra_socks_ports[0]])]
        import subprocess

        from tests.integration.test_crawl import DARKCRAWL, REPO

        push = subprocess.run([*DARKCRAWL, "worker", "--push-only", "--url", f"http://{onion}/0"], env=envs[0],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        assert push.returncode == 0, push.stderr[-2000:]
        workers = [start_worker(env, "--no-index") for env in envs]
        results = [summary(process) for process in workers]
    finally:
        controller.remove_ephemeral_hidden_service(service.service_id)
        controller.close()
        server.shutdown()
    assert sum(result["pages"] for result in results) == PAGES
    assert all(result["pages"] > 0 for result in results), "one worker did everything: the test would prove nothing"
    visits.sort()
    assert len(visits) == PAGES
    overlaps = [(a, b) for a, b in itertools.pairwise(visits) if b[0] < a[1]]
    assert not overlaps, f"two requests at once on a site limited to one: {overlaps}"
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(visits)]
    # DELAY between token grants (Redis's clock), but the site sees them through Tor: a request whose circuit is slow
    # to build (a worker's first one) reaches it late, and the next gap looks short. The next token is granted only
    # once that late request is answered (concurrency 1), so WINDOW consecutive gaps always span at least
    # SERVE_TIME + (WINDOW - 1) * DELAY. Without a shared delay the two workers would interleave at about DELAY / 2,
    # and a window would span about WINDOW * DELAY / 2.
    assert sum(gaps) / len(gaps) >= 0.9 * DELAY, gaps
    windows = [sum(gaps[i:i + WINDOW]) for i in range(len(gaps) - WINDOW + 1)]
    assert min(windows) >= SERVE_TIME + (WINDOW - 1) * DELAY, (windows, gaps)
