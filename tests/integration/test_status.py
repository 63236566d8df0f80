"""`darkcrawl status --json` against real services: a tor of our own on the lab network and a small Elasticsearch node
of our own (not the session's shared ones), a running crawl; then the tor is stopped, then Elasticsearch, and status
says so within seconds."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from crawler.es.node import read_credentials, start, stop
from crawler.tor.control import check_endpoint
from crawler.tor.endpoints import TorEndpoint
from tests.integration.fixtures_es import _free_port, instance_for_tests, private_node_dir
from tests.integration.test_scheduler import DARKCRAWL, REPO, free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OWN_LINES = ("DataDirectory", "Nickname", "Log ", "SocksPort", "ControlPort")


def launch_lab_tor(lab_dir: Path, directory: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    """A tor client of the lab network (the lab client's torrc, with its own ports and data directory)."""
    socks, control = free_port(41000), 0
    control = free_port(socks + 1)
    base = (lab_dir / "nodes" / "client" / "torrc").read_text(encoding="utf-8").splitlines()
    lines = [line for line in base if not line.startswith(OWN_LINES)]
    directory.mkdir(mode=0o700)
    lines += [f"DataDirectory {directory}", f"SocksPort 127.0.0.1:{socks}", f"ControlPort 127.0.0.1:{control}",
              f"Log notice file {directory / 'notice.log'}"]
    (directory / "torrc").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "defaults").write_text("", encoding="utf-8")
    process = subprocess.Popen(["tor", "-f", str(directory / "torrc"), "--defaults-torrc", str(directory / "defaults")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = TorEndpoint(0, "127.0.0.1", socks, "127.0.0.1", control, None)
    wait_for(lambda: check_endpoint(endpoint).ready, 180, "our own tor to bootstrap on the lab network")
    return process, socks, control


def status(env: dict[str, str]) -> tuple[dict, int, float]:
    started = time.monotonic()
    result = subprocess.run([*DARKCRAWL, "status", "--json"], env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    return json.loads(result.stdout), result.returncode, time.monotonic() - started


def test_status_reflects_a_stopped_tor_and_a_stopped_elasticsearch(tor_lab, tmp_path):
    tor, socks, control = launch_lab_tor(tor_lab.lab_dir, tmp_path / "tor")
    root = private_node_dir("darkcrawl-es-status-")
    instance = instance_for_tests(root, _free_port(9350))
    crawl = None
    try:
        start(instance, lambda message: None)
        credentials = read_credentials(instance)
        env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
        env.update(
            DARKCRAWL_DATA_DIR=str(tmp_path / "data"),
            DARKCRAWL_ES_URL=instance.url,
            DARKCRAWL_ES_USERNAME=credentials.username,
            DARKCRAWL_ES_PASSWORD=credentials.password,
            DARKCRAWL_TOR_SOCKS=f"127.0.0.1:{tor_lab.socks_port},127.0.0.1:{socks}",
            DARKCRAWL_TOR_CONTROL=f"127.0.0.1:{tor_lab.control_port},127.0.0.1:{control}",
            DARKCRAWL_STATUS_INTERVAL="1",
            DARKCRAWL_ES_FLUSH_INTERVAL="1",
        )
        config = tmp_path / "slow.toml"
        config.write_text("[scrapy]\nCONCURRENT_REQUESTS_PER_DOMAIN = 1\nDOWNLOAD_DELAY = 1\n")
        crawl = subprocess.Popen([*DARKCRAWL, "--config", str(config), "crawl", "--url", tor_lab.url("market")],
                                 env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def crawling() -> dict | None:
            report, _, _ = status(env)
            return report if report["crawls"] and report["crawls"][0]["pages"] >= 2 else None

        report = wait_for(crawling, 180, "status to show the running crawl")
        assert report["healthy"] is True
        assert [tor["ok"] for tor in report["tor"]] == [True, True]
        assert all(tor["bootstrap"] == 100 and tor["socks_reachable"] for tor in report["tor"])
        assert report["tor"][0]["circuits"].get("BUILT", 0) >= 1
        assert report["elasticsearch"]["healthy"] is True
        assert {row["index"].rsplit("-", 1)[0].split("-", 1)[1] for row in report["elasticsearch"]["indices"]} >= {
            "pages", "sites"}
        assert report["elasticsearch"]["spool"]["pages"] == 0
        running = report["crawls"][0]
        assert running["pid"] == crawl.pid and running["pages_per_minute"] >= 0 and running["error_count"] == 0
        crawl.send_signal(signal.SIGINT)
        crawl.wait(timeout=120)

        tor.terminate()
        tor.wait(timeout=30)
        report, code, seconds = status(env)
        assert code == 1 and report["healthy"] is False
        assert report["tor"][0]["ok"] is True
        assert report["tor"][1]["ok"] is False and report["tor"][1]["socks_reachable"] is False
        assert report["crawls"] == [], "a crawl that ended is still shown as running"
        assert seconds < 15

        stop(instance)
        report, code, seconds = status(env)
        assert code == 1 and report["elasticsearch"]["healthy"] is False and report["elasticsearch"]["running"] is False
        assert report["tor"][0]["ok"] is True
        assert seconds < 15, f"status took {seconds:.1f} s with Elasticsearch down"
    finally:
        if crawl is not None and crawl.poll() is None:
            crawl.kill()
        if tor.poll() is None:
            tor.kill()
        stop(instance)
        shutil.rmtree(root, ignore_errors=True)
