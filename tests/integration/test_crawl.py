"""The main job end to end: crawl the lab's fixture onions through the real private Tor network, index into the real
Elasticsearch node; recrawl; fail closed without Tor; no local DNS; one circuit per site."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from crawler.lab.sites import SITE_NAMES
from crawler.lab.sites.truth import all_pages
from crawler.tor.isolation import socks_credentials

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DARKCRAWL = [sys.executable, "-m", "crawler.cli"]


def crawl_env(tor_lab, es_node, prefix: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env.update(es_node.env())
    env.update(
        DARKCRAWL_ES_INDEX_PREFIX=prefix,
        DARKCRAWL_DATA_DIR=str(data_dir),
        DARKCRAWL_TOR_SOCKS=f"127.0.0.1:{tor_lab.socks_port}",
        DARKCRAWL_TOR_CONTROL=f"127.0.0.1:{tor_lab.control_port}",
        DARKCRAWL_ES_FLUSH_INTERVAL="1",
        DARKCRAWL_PROGRESS_INTERVAL="5",
    )
    env.update(extra)
    return env


def run_darkcrawl(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(DARKCRAWL + args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def seed_args(tor_lab) -> list[str]:
    args: list[str] = []
    for name in SITE_NAMES:
        args += ["--url", f"http://{tor_lab.onions[name]}/"]
    return args


def indexed_pages(client, prefix: str) -> list[dict]:
    client.indices.refresh(index=f"{prefix}-pages")
    response = client.search(index=f"{prefix}-pages", size=10_000, query={"match_all": {}}, source_excludes=["text"])
    return [hit["_source"] | {"_id": hit["_id"]} for hit in response["hits"]["hits"]]


@pytest.fixture(scope="module")
def first_crawl(tor_lab, es_node, tmp_path_factory):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path_factory.mktemp("crawl-data")
    env = crawl_env(tor_lab, es_node, prefix, data_dir)
    result = run_darkcrawl(["crawl", *seed_args(tor_lab), "--depth", "10"], env)
    return prefix, env, result


def expected_urls(tor_lab) -> set[str]:
    pages = all_pages(tor_lab.onions)
    return {f"http://{tor_lab.onions[name]}{path}" for name in SITE_NAMES for path in pages[name]}


def test_crawl_indexes_every_fixture_page_exactly_once(first_crawl, tor_lab, es_node):
    prefix, _env, result = first_crawl
    assert result.returncode == 0, result.stderr[-3000:]
    client = es_node.client()
    pages = indexed_pages(client, prefix)
    urls = [page["url"] for page in pages]
    assert len(urls) == len(set(urls)), "a page was indexed twice"
    assert set(urls) == expected_urls(tor_lab)
    assert all(page["first_seen"] == page["last_seen"] for page in pages)
    assert {page["site"] for page in pages} == set(tor_lab.onions[name] for name in SITE_NAMES)
    assert "pages fetched" in result.stdout
    # a normal crawl talks about the crawl: index templates (set up in this new prefix) and Scrapy's note on its
    # experimental handler are -v matters
    assert "template" not in result.stderr and "experimental" not in result.stderr, result.stderr[-3000:]


def test_recrawl_updates_last_seen_without_duplicates(first_crawl, tor_lab, es_node):
    prefix, env, _ = first_crawl
    client = es_node.client()
    before = {page["_id"]: page for page in indexed_pages(client, prefix)}
    result = run_darkcrawl(["crawl", *seed_args(tor_lab), "--depth", "10"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    after = {page["_id"]: page for page in indexed_pages(client, prefix)}
    assert set(after) == set(before)
    for doc_id, page in after.items():
        assert page["first_seen"] == before[doc_id]["first_seen"]
        assert page["last_seen"] > before[doc_id]["last_seen"]
        assert page["content_changed_at"] == before[doc_id]["content_changed_at"]  # same fixture bytes


def test_crawl_without_tor_fails_closed_and_fetches_nothing(tor_lab, es_node, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    with socket_on_free_port() as dead_port:
        env = crawl_env(tor_lab, es_node, prefix, tmp_path, DARKCRAWL_TOR_SOCKS=f"127.0.0.1:{dead_port}",
                        DARKCRAWL_TOR_CONTROL="")
        result = run_darkcrawl(["crawl", *seed_args(tor_lab)], env, timeout=120)
    assert result.returncode == 3
    assert "no usable Tor" in result.stderr
    assert "Traceback" not in result.stderr
    client = es_node.client()
    if client.indices.exists(index=f"{prefix}-pages"):
        assert indexed_pages(client, prefix) == []


def test_no_local_dns_resolution_of_crawled_hosts(tor_lab, es_node, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    dns_log = tmp_path / "dns.log"
    support = Path(__file__).parent / "support"
    env = crawl_env(tor_lab, es_node, prefix, tmp_path / "data", DARKCRAWL_TEST_DNS_LOG=str(dns_log),
                    PYTHONPATH=os.pathsep.join([str(support), str(REPO)]))
    # the URL as a newcomer types it: no seeds file, no --url
    result = run_darkcrawl(["crawl", f"http://{tor_lab.onions['directory']}/", "--depth", "1"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert dns_log.exists(), "the resolver hook did not load: the test would prove nothing"
    looked_up = {line.strip() for line in dns_log.read_text().splitlines() if line.strip()}
    assert looked_up, "no lookup at all recorded (the hook must at least see the loopback proxy address)"
    assert not [host for host in looked_up if host.endswith(".onion")]
    assert looked_up <= {"127.0.0.1", "localhost", "::1"}, looked_up


def test_two_sites_use_different_isolated_circuits(tor_lab, es_node, tmp_path):
    from stem.control import Controller, EventType

    seen: dict[str, set[str]] = {}
    lock = threading.Lock()

    def on_circuit(event) -> None:
        if event.socks_username and event.rend_query:
            with lock:
                seen.setdefault(event.rend_query.lower(), set()).add(event.socks_username)

    prefix = f"t{uuid.uuid4().hex[:8]}"
    # a fresh salt: earlier tests fetched these sites, and their circuits (same usernames) would simply be reused
    secret = uuid.uuid4().hex
    env = crawl_env(tor_lab, es_node, prefix, tmp_path, DARKCRAWL_TOR_NEW_CIRCUIT_AFTER="0",
                    DARKCRAWL_TOR_ISOLATION_SECRET=secret)
    sites = [tor_lab.onions["market"], tor_lab.onions["forum"]]
    with Controller.from_port(port=tor_lab.control_port) as controller:
        controller.authenticate()
        controller.add_event_listener(on_circuit, EventType.CIRC)
        url_args = [arg for site in sites for arg in ("--url", f"http://{site}/")]
        result = run_darkcrawl(["crawl", *url_args, "--depth", "1", "--no-index"], env)
        controller.remove_event_listener(on_circuit)
    assert result.returncode == 0, result.stderr[-3000:]
    for site in sites:
        address = site.removesuffix(".onion")
        assert seen.get(address) == {socks_credentials(site, 0, secret)[0]}, seen
    assert seen[sites[0].removesuffix(".onion")] != seen[sites[1].removesuffix(".onion")]


class socket_on_free_port:
    """A port number that nothing listens on (bound, not listening, for the duration)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


# Options of the lab client's torrc that belong to that one process, not to the network it joins.
PER_PROCESS_OPTIONS = ("DataDirectory", "Nickname", "Log", "SocksPort", "ControlPort", "CookieAuthentication")


def lab_network_lines(tor_lab) -> list[str]:
    """The torrc lines that make any tor join the lab's private network (authorities, testing options)."""
    torrc = Path(tor_lab.lab_dir) / "nodes" / "client" / "torrc"
    lines = []
    for line in torrc.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and line.split()[0] not in PER_PROCESS_OPTIONS:
            lines.append(line)
    return lines


def test_darkcrawl_launches_its_own_tor_when_none_is_configured(tor_lab, es_node, tmp_path):
    import json
    import socket

    prefix = f"t{uuid.uuid4().hex[:8]}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base_port = probe.getsockname()[1] + 1
    env = crawl_env(tor_lab, es_node, prefix, tmp_path, DARKCRAWL_TOR_SOCKS="", DARKCRAWL_TOR_CONTROL="",
                    DARKCRAWL_TOR_BASE_PORT=str(base_port),
                    DARKCRAWL_TOR_EXTRA_CONFIG=json.dumps(lab_network_lines(tor_lab)))
    result = run_darkcrawl(["crawl", "--url", f"http://{tor_lab.onions['directory']}/", "--depth", "0", "--json"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "starting tor #0" in result.stderr
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["pages"] == 1 and summary["indexed"] == 1
    # the launched tor ended with the crawl: nothing listens on its SOCKS port any more
    with socket.socket() as check:
        assert check.connect_ex(("127.0.0.1", base_port)) != 0
    assert (tmp_path / "tor" / "0" / "tor.log").exists()


def test_recrawl_from_index_visits_every_known_site(first_crawl, tor_lab, es_node):
    import json

    _prefix, env, _ = first_crawl
    result = run_darkcrawl(["crawl", "--from-index", "--depth", "0", "--json"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["pages"] == len(SITE_NAMES)  # each known site's home page, and nothing else at depth 0


def test_stopped_crawl_resumes_from_its_jobdir_without_duplicates(tor_lab, es_node, tmp_path):
    import re
    import signal
    import time

    prefix = f"t{uuid.uuid4().hex[:8]}"
    config = tmp_path / "slow.toml"
    # slow enough to be stopped half-way: one request at a time per site, 0.4 s apart
    config.write_text("[scrapy]\nCONCURRENT_REQUESTS_PER_DOMAIN = 1\nDOWNLOAD_DELAY = 0.4\nDOWNLOAD_DELAY_JITTER = 0\n")
    env = crawl_env(tor_lab, es_node, prefix, tmp_path / "data", DARKCRAWL_PROGRESS_INTERVAL="1")
    args = ["--config", str(config), "crawl", "--url", f"http://{tor_lab.onions['market']}/", "--depth", "10",
            "--jobdir", str(tmp_path / "job")]
    process = subprocess.Popen(DARKCRAWL + args, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 180
    assert process.stderr is not None
    for line in process.stderr:
        match = re.search(r"progress: (\d+) pages", line)
        if match and int(match.group(1)) >= 8:
            break
        assert time.monotonic() < deadline, "the crawl never got going"
    process.send_signal(signal.SIGINT)  # Scrapy's graceful stop: the queue stays in the job directory
    process.communicate(timeout=120)
    client = es_node.client()
    first = {page["url"] for page in indexed_pages(client, prefix)}
    expected = {f"http://{tor_lab.onions['market']}{path}" for path in all_pages(tor_lab.onions)["market"]}
    assert 0 < len(first) < len(expected), "the crawl was not stopped half-way; the test would prove nothing"

    result = run_darkcrawl(args, env)
    assert result.returncode == 0, result.stderr[-3000:]
    pages = indexed_pages(client, prefix)
    urls = [page["url"] for page in pages]
    assert len(urls) == len(set(urls))
    said = [line for line in result.stderr.splitlines() if " WARNING " in line or " ERROR " in line]
    assert set(urls) == expected, (sorted(expected - set(urls)), result.stdout[-1500:], said[-30:])
    # the second run fetched only what the first had not: its pages are the rest (give or take the in-flight ones)
    summary_line = next(line for line in result.stdout.splitlines() if "pages fetched" in line)
    fetched_again = int(summary_line.split(": ")[1].split(" pages fetched")[0])
    assert fetched_again <= len(expected) - len(first) + 8
