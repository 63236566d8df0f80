"""Scrapyd dispatch against a real Scrapyd started here on a free port: the project is deployed the standard way
(scrapyd-deploy with scrapy.cfg), the scheduler starts a run as a Scrapyd job, the job crawls a lab onion through
the lab's Tor (its SOCKS and control ports passed as settings) and indexes into Elasticsearch."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from crawler.lab.sites.truth import all_pages
from tests.integration.test_scheduler import (
    REPO,
    darkcrawl,
    free_port,
    runs,
    scheduler_env,
    start_scheduler,
    stop,
    wait_for,
)

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


def scrapyd_answers(url: str) -> bool:
    try:
        return json.loads(urllib.request.urlopen(f"{url}/daemonstatus.json", timeout=3).read())["status"] == "ok"
    except OSError:
        return False


@pytest.fixture
def scrapyd(tmp_path):
    port = free_port(46800)
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\neggs_dir = {home}/eggs\nlogs_dir = {home}/logs\nitems_dir =\ndbs_dir = {home}/dbs\n"
        "max_proc = 2\npoll_interval = 1\n"
    )
    process = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=(home / "scrapyd.out").open("wb"),
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: scrapyd_answers(url) or process.poll() is not None, 60, "Scrapyd to answer")
        assert process.poll() is None, (home / "scrapyd.out").read_text()[-2000:]
        yield url, home
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_scheduler_dispatches_to_scrapyd_and_the_job_crawls_through_tor_into_elasticsearch(
    tor_lab, es_node, tmp_path, scrapyd
):
    url, home = scrapyd
    config_home = tmp_path / "xdg"
    config_home.mkdir()
    (config_home / "scrapy.cfg").write_text(f"[deploy:test]\nurl = {url}/\nproject = darkcrawl\n")
    deploy = subprocess.run([str(BIN / "scrapyd-deploy"), "test", "-p", "darkcrawl"], cwd=REPO,
                            env={"PATH": f"{BIN}:/usr/bin:/bin", "XDG_CONFIG_HOME": str(config_home),
                                 "HOME": str(tmp_path)},
                            capture_output=True, text=True, timeout=300)
    assert deploy.returncode == 0 and '"status": "ok"' in deploy.stdout, deploy.stdout + deploy.stderr[-3000:]
    projects = json.loads(urllib.request.urlopen(f"{url}/listprojects.json", timeout=10).read())["projects"]
    assert "darkcrawl" in projects

    data_dir = tmp_path / "data"
    env = scheduler_env(tor_lab, es_node, data_dir, DARKCRAWL_SCRAPYD_URL=url)
    seeds = tmp_path / "paste.txt"
    seeds.write_text(tor_lab.url("paste") + "\n")
    assert darkcrawl(["schedule", "add", "paste", "--seeds", str(seeds), "--every", "1h"], env).returncode == 0
    scheduler = start_scheduler(env)
    try:
        wait_for(lambda: any(run["state"] != "running" for run in runs(data_dir)), 300, "the Scrapyd job to end",
                 scheduler)
    finally:
        log = stop(scheduler)
    run = runs(data_dir)[0]
    assert run["dispatcher"] == "scrapyd" and run["job"] == run["crawl_id"], log[-2000:]
    job_log = next((home / "logs" / "darkcrawl" / "onion").glob(f"{run['job']}.log")).read_text()
    assert run["state"] == "finished", f"{run}\n{job_log[-3000:]}"
    expected = {tor_lab.url("paste", path) for path in all_pages(tor_lab.onions)["paste"]}
    assert run["pages"] == len(expected)
    client = es_node.client()
    prefix = env["DARKCRAWL_ES_INDEX_PREFIX"]
    client.indices.refresh(index=f"{prefix}-pages")
    hits = client.search(index=f"{prefix}-pages", size=1000, source_includes=["url", "crawl_id", "tor_instance"])
    client.close()
    pages = [hit["_source"] for hit in hits["hits"]["hits"]]
    assert {page["url"] for page in pages} == expected
    assert {page["crawl_id"] for page in pages} == {run["crawl_id"]}
    # through Tor: the job's download handler is the Tor-only one (it says so when loaded), which refuses any request
    # not proxied to the configured SOCKS port (the lab's); an onion cannot be reached any other way
    assert "TorOnlyDownloadHandler" in job_log
    assert f"DARKCRAWL_TOR_SOCKS=127.0.0.1:{tor_lab.socks_port}" in (home / "scrapyd.out").read_text()
