"""Rendering pages that need JavaScript, end to end: the lab's ``jsgate`` onion, Debian's Chromium, the lab's Tor.

Crawls run as ``darkcrawl crawl`` subprocesses (one Chromium each); the browser-level checks (fail closed, crash
restart) drive the real handler in this process. Each test tags its requests with a fresh ``run`` token so that the
site's request log (``<lab>/logs/site-jsgate.log``) tells which requests reached the server.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import os
import re
import signal
import socket
import uuid
from contextlib import suppress
from pathlib import Path

import psutil
import pytest

from crawler.lab.special.jsgate import GATE_MARKER, JS_ADDRESS, JS_MARKER
from tests.integration.test_crawl import crawl_env, run_darkcrawl

pytestmark = pytest.mark.integration

RENDER_TIMEOUT = "15"  # seconds a rendered page may take: the endless page must fail well within a test's patience


def site_log(tor_lab) -> str:
    return (Path(tor_lab.lab_dir) / "logs" / "site-jsgate.log").read_text(encoding="utf-8", errors="replace")


def requests_of(tor_lab, run: str) -> list[str]:
    """The ``GET``/``POST`` lines the jsgate server logged for *run*."""
    return [line for line in site_log(tor_lab).splitlines() if f"run={run}" in line and " REPORT " not in line]


def reports_of(tor_lab, run: str) -> list[dict]:
    """The JSON reports the hostile page posted for *run* (the line after the POST that carried the token)."""
    lines = site_log(tor_lab).splitlines()
    reports = []
    for index, line in enumerate(lines):
        if line == f"jsgate: POST /report?run={run}":
            for later in lines[index + 1 : index + 40]:
                if later.startswith("jsgate: REPORT "):
                    reports.append(json.loads(later.removeprefix("jsgate: REPORT ")))
                    break
    return reports


def page_docs(es_node, prefix: str) -> dict[str, dict]:
    client = es_node.client()
    if not client.indices.exists(index=f"{prefix}-pages"):
        return {}
    client.indices.refresh(index=f"{prefix}-pages")
    response = client.search(index=f"{prefix}-pages", size=1000, query={"match_all": {}})
    return {hit["_source"]["url"]: hit["_source"] for hit in response["hits"]["hits"]}


def render_env(tor_lab, es_node, prefix: str, data_dir: Path, **extra: str) -> dict[str, str]:
    values = {
        "DARKCRAWL_RENDER_SOCKS": ",".join(f"127.0.0.1:{port}" for port in tor_lab.extra_socks_ports),
        "DARKCRAWL_RENDER_PAGE_TIMEOUT": RENDER_TIMEOUT,
        "DARKCRAWL_RENDER_SETTLE": "3",
    }
    values.update(extra)
    return crawl_env(tor_lab, es_node, prefix, data_dir, **values)


def local_candidates(report: dict) -> list[str]:
    """ICE candidates of *report* that carry a loopback, private or link-local address, or an mDNS name."""
    found = []
    for candidate in report.get("candidates", []):
        for word in str(candidate).split():
            if word.endswith(".local"):
                found.append(candidate)
            try:
                address = ipaddress.ip_address(word)
            except ValueError:
                continue
            if address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified:
                found.append(candidate)
    return found


@pytest.fixture(scope="module")
def plain_crawl(tor_lab, es_node, tmp_path_factory):
    """The JS onion's pages crawled without rendering."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    env = crawl_env(tor_lab, es_node, prefix, tmp_path_factory.mktemp("plain"))
    urls = [tor_lab.url("jsgate", "/js"), tor_lab.url("jsgate", "/gate")]
    result = run_darkcrawl(["crawl", *[arg for url in urls for arg in ("--url", url)], "--depth", "0"], env)
    return prefix, result


@pytest.fixture(scope="module")
def rendered_crawl(tor_lab, es_node, tmp_path_factory):
    """The JS page, the hostile page and the endless page crawled with the jsgate site rendered, screenshots on."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    run = uuid.uuid4().hex[:12]
    data_dir = tmp_path_factory.mktemp("rendered")
    env = render_env(tor_lab, es_node, prefix, data_dir, DARKCRAWL_RENDER_SCREENSHOTS="1")
    urls = [tor_lab.url("jsgate", "/js"), tor_lab.url("jsgate", f"/hostile?run={run}"),
            tor_lab.url("jsgate", "/endless")]
    args = ["crawl", *[arg for url in urls for arg in ("--url", url)], "--depth", "0", "--json",
            "--render-site", tor_lab.onions["jsgate"]]
    result = run_darkcrawl(args, env, timeout=300)
    return prefix, run, data_dir, result


def test_plain_crawl_sees_none_of_the_javascript_content(plain_crawl, tor_lab, es_node):
    prefix, result = plain_crawl
    assert result.returncode == 0, result.stderr[-3000:]
    docs = page_docs(es_node, prefix)
    page = docs[tor_lab.url("jsgate", "/js")]
    assert page["status"] == 200 and page["rendered"] is False
    assert JS_MARKER not in page["text"] and JS_ADDRESS not in json.dumps(page)
    assert GATE_MARKER not in docs[tor_lab.url("jsgate", "/gate")]["text"]


def test_rendered_crawl_indexes_the_javascript_content_through_tor(rendered_crawl, tor_lab, es_node):
    prefix, _run, data_dir, result = rendered_crawl
    assert result.returncode == 0, result.stderr[-3000:]
    page = page_docs(es_node, prefix)[tor_lab.url("jsgate", "/js")]
    assert page["rendered"] is True and page["render_reason"] == "site"
    assert JS_MARKER in page["text"]
    assert JS_ADDRESS in [entry["address"] for entry in page["signals"]["crypto_addresses"]]
    # the screenshot lies beside the crawl output, and the document holds its digest
    path = Path(page["screenshot_path"])
    assert path.is_relative_to(data_dir / "screenshots") and path.read_bytes().startswith(b"\x89PNG")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == page["screenshot_sha256"]


def test_hostile_page_gets_no_media_no_download_no_local_ice_candidate(rendered_crawl, tor_lab, es_node):
    prefix, run, _data_dir, result = rendered_crawl
    assert result.returncode == 0, result.stderr[-3000:]
    logged = requests_of(tor_lab, run)
    assert f"jsgate: GET /hostile?run={run}" in logged, logged  # the page itself was fetched, through Tor
    assert [line for line in logged if "/media/" in line or "/download/" in line] == []
    reports = reports_of(tor_lab, run)
    assert reports, f"the hostile page's script never reported (it did not run?): {logged}"
    for report in reports:
        assert local_candidates(report) == [], report
        assert report["webrtc"] == "absent"  # RTCPeerConnection removed before the page's scripts ran
        assert report["geolocation"].startswith("denied") and report["notifications"] == "denied", report
    assert page_docs(es_node, prefix)[tor_lab.url("jsgate", f"/hostile?run={run}")]["rendered"] is True


def test_endless_page_times_out_and_the_crawl_goes_on(rendered_crawl, tor_lab, es_node):
    prefix, _run, _data_dir, result = rendered_crawl
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["finish_reason"] == "finished"
    assert summary["errors"].get("TimeoutError") == 1, summary
    docs = page_docs(es_node, prefix)
    assert tor_lab.url("jsgate", "/endless") not in docs
    assert {tor_lab.url("jsgate", "/js")} <= set(docs)


def test_js_gate_heuristic_renders_a_gate_page_once(tor_lab, es_node, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    env = render_env(tor_lab, es_node, prefix, tmp_path, DARKCRAWL_RENDER="1")
    urls = [tor_lab.url("jsgate", "/gate"), tor_lab.url("jsgate", "/")]
    result = run_darkcrawl(["crawl", *[arg for url in urls for arg in ("--url", url)], "--depth", "0", "--json"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    docs = page_docs(es_node, prefix)
    gate = docs[tor_lab.url("jsgate", "/gate")]
    assert gate["rendered"] is True and gate["render_reason"] == "js_gate"
    assert GATE_MARKER in gate["text"]
    assert docs[tor_lab.url("jsgate", "/")]["rendered"] is False  # a page with content of its own stays plain


def dead_port() -> socket.socket:
    """A bound socket that does not listen: connections to its port are refused (a SOCKS port whose tor died)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def test_rendering_fails_closed_when_the_browsers_tor_is_down(tor_lab, es_node, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    run = uuid.uuid4().hex[:12]
    with dead_port() as sock:
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
        env = render_env(tor_lab, es_node, prefix, tmp_path, DARKCRAWL_RENDER_SOCKS=dead)
        args = ["crawl", "--url", tor_lab.url("jsgate", f"/js?run={run}"), "--depth", "0", "--json",
                "--render-site", tor_lab.onions["jsgate"]]
        result = run_darkcrawl(args, env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["pages"] == 0 and summary["errors"], summary
    assert requests_of(tor_lab, run) == []  # the browser reached nothing: no direct path around the dead proxy
    assert tor_lab.url("jsgate", f"/js?run={run}") not in page_docs(es_node, prefix)


async def test_browser_with_tor_down_reaches_not_even_loopback(tor_lab):
    """The browser's proxy is dead: neither the onion nor the site's own loopback port (which a browser that bypassed
    its proxy for local addresses would reach directly) sees a request."""
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    from crawler.render.browser import context_options, launch_options
    from crawler.render.config import RenderConfig

    run = uuid.uuid4().hex[:12]
    with dead_port() as sock:
        config = RenderConfig(enabled=True, socks=(("127.0.0.1", sock.getsockname()[1]),), user_agent="x")
        targets = [tor_lab.url("jsgate", f"/js?run={run}"),
                   f"http://127.0.0.1:{tor_lab.http_ports['jsgate']}/js?run={run}",
                   f"http://localhost:{tor_lab.http_ports['jsgate']}/js?run={run}"]
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**launch_options(config))
            try:
                context = await browser.new_context(**context_options(config, 0))
                page = await context.new_page()
                for url in targets:
                    with pytest.raises(PlaywrightError, match=re.compile("ERR_PROXY|ERR_SOCKS|ERR_TUNNEL")):
                        await page.goto(url, timeout=20_000)
            finally:
                await browser.close()
    assert requests_of(tor_lab, run) == []


def browser_main_pids() -> list[int]:
    """The Chromium browser processes (not its renderers, GPU or utility children) this test process started."""
    pids = []
    for process in psutil.Process().children(recursive=True):
        with suppress(psutil.Error):
            command = process.cmdline()
            if command and Path(command[0]).name == "chromium" and not any(a.startswith("--type=") for a in command):
                pids.append(process.pid)
    return pids


async def test_a_crashed_or_bloated_browser_is_restarted_and_rendering_goes_on(tor_lab, tmp_path):
    """The real handler in this process: render, kill the browser (a crash), render again; then the memory watch's
    restart, and render again."""
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from crawler.config import load_settings
    from crawler.render.handler import TorRenderDownloadHandler, browser_memory

    settings = load_settings(environ={}, overrides={
        "DARKCRAWL_RENDER": True,
        "DARKCRAWL_TOR_SOCKS": f"127.0.0.1:{tor_lab.socks_port}",
        "DARKCRAWL_RENDER_SOCKS": ",".join(f"127.0.0.1:{port}" for port in tor_lab.extra_socks_ports),
        "DARKCRAWL_RENDER_SETTLE": 0,
        "DARKCRAWL_DATA_DIR": str(tmp_path),
    })
    crawler = get_crawler(settings_dict=settings.copy_to_dict())
    handler = TorRenderDownloadHandler.from_crawler(crawler)
    assert TorRenderDownloadHandler.from_crawler(crawler) is handler  # one browser for http and https

    async def render(number: int) -> str:
        request = Request(tor_lab.url("jsgate", f"/js?n={number}"), meta={"playwright": True})
        response = await handler.download_request(request)
        assert "playwright" in response.flags
        return response.text

    await handler._launch()  # what Scrapy's engine_started signal does in a crawl
    try:
        assert JS_MARKER in await render(1)
        assert browser_memory() > 20 * 1024 * 1024  # the watch sees the driver and the browser
        [pid] = browser_main_pids()
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            if not hasattr(handler, "browser"):
                break
            await asyncio.sleep(0.1)
        assert JS_MARKER in await render(2)
        assert crawler.stats.get_value("darkcrawl/render/browser_restarts") == 1
        [new_pid] = browser_main_pids()
        assert new_pid != pid
        await handler._restart_browser()  # what the memory watch does above DARKCRAWL_RENDER_MAX_MEMORY_MB
        assert JS_MARKER in await render(3)
        assert crawler.stats.get_value("darkcrawl/render/browser_restarts") == 2
        assert crawler.stats.get_value("darkcrawl/render/pages") == 3
    finally:
        await handler.close()
    assert browser_main_pids() == []


async def test_contexts_rotate_after_n_pages_and_open_pages_stay_capped(tor_lab, tmp_path):
    """Five pages of one site with two pages per context: three contexts, two closed; six pages at once with a cap
    of two: never more than two open; a rendered document over DOWNLOAD_MAXSIZE is dropped."""
    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest
    from scrapy.utils.test import get_crawler

    from crawler.config import load_settings
    from crawler.render.handler import TorRenderDownloadHandler

    settings = load_settings(environ={}, overrides={
        "DARKCRAWL_RENDER": True,
        "DARKCRAWL_TOR_SOCKS": f"127.0.0.1:{tor_lab.socks_port}",
        "DARKCRAWL_RENDER_SOCKS": f"127.0.0.1:{tor_lab.extra_socks_ports[0]}",
        "DARKCRAWL_RENDER_SETTLE": 0,
        "DARKCRAWL_RENDER_PAGES_PER_CONTEXT": 2,
        "DARKCRAWL_RENDER_MAX_PAGES": 2,
        "DARKCRAWL_DATA_DIR": str(tmp_path),
    })
    crawler = get_crawler(settings_dict=settings.copy_to_dict())
    handler = TorRenderDownloadHandler.from_crawler(crawler)

    async def render(number: int) -> str:
        request = Request(tor_lab.url("jsgate", f"/js?n={number}"), meta={"playwright": True})
        return (await handler.download_request(request)).text

    await handler._launch()
    try:
        for number in range(5):
            assert JS_MARKER in await render(number)
        stats = crawler.stats
        assert stats.get_value("darkcrawl/render/contexts_opened") == 3
        assert stats.get_value("darkcrawl/render/contexts_closed") == 2
        assert list(handler.context_wrappers) == ["tor0-2"]
        texts = await asyncio.gather(*(render(number) for number in range(10, 16)))
        assert all(JS_MARKER in text for text in texts)
        assert stats.get_value("playwright/page_count/max_concurrent") <= 2
        assert len(handler.context_wrappers) <= 2  # the current context and, at most, one closing
        handler.max_size = 200  # DOWNLOAD_MAXSIZE as read at start; the JS page's DOM is larger than this
        with pytest.raises(IgnoreRequest, match="over DOWNLOAD_MAXSIZE"):
            await render(99)
        assert stats.get_value("darkcrawl/render/too_large") == 1
    finally:
        await handler.close()


def test_a_tor_darkcrawl_launches_gives_the_browser_its_extra_socks_ports(tor_lab, es_node, tmp_path):
    from tests.integration.test_crawl import lab_network_lines

    prefix = f"t{uuid.uuid4().hex[:8]}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base_port = probe.getsockname()[1] + 1
    env = crawl_env(tor_lab, es_node, prefix, tmp_path, DARKCRAWL_TOR_SOCKS="", DARKCRAWL_TOR_CONTROL="",
                    DARKCRAWL_TOR_BASE_PORT=str(base_port), DARKCRAWL_RENDER_PAGE_TIMEOUT=RENDER_TIMEOUT,
                    DARKCRAWL_TOR_EXTRA_CONFIG=json.dumps(lab_network_lines(tor_lab)))
    args = ["crawl", "--url", tor_lab.url("jsgate", "/js"), "--depth", "0", "--json",
            "--render-site", tor_lab.onions["jsgate"]]
    result = run_darkcrawl(args, env, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"starting tor #0 (SOCKS 127.0.0.1:{base_port})" in result.stderr
    [line] = [line for line in result.stderr.splitlines() if "rendering JavaScript pages" in line]
    browser_ports = [int(item.rsplit(":", 1)[1]) for item in line.rsplit(" ", 1)[1].split(",")]
    assert len(browser_ports) == 2 and base_port not in browser_ports  # the extra ports, not the crawler's
    page = page_docs(es_node, prefix)[tor_lab.url("jsgate", "/js")]
    assert page["rendered"] is True and JS_MARKER in page["text"]
