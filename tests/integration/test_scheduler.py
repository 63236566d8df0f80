"""The scheduler end to end, with the real lab and Elasticsearch: crawls on time, never two runs of one schedule at
once, the concurrency limit, the time budget (stop, then resume from the job directory), a scheduler killed and
restarted (schedules kept, its running crawl adopted), Prometheus metrics scraped from the endpoint."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import psutil
import pytest

from crawler.lab.sites.truth import all_pages
from crawler.ports import port_is_free

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DARKCRAWL = [sys.executable, "-m", "crawler.cli"]


def free_port(start: int = 39400) -> int:
    return next(port for port in range(start, start + 500) if port_is_free(port))


def scheduler_env(tor_lab, es_node, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env.update(es_node.env())
    env.update(
        DARKCRAWL_ES_INDEX_PREFIX=f"t{uuid.uuid4().hex[:8]}",
        DARKCRAWL_DATA_DIR=str(data_dir),
        DARKCRAWL_TOR_SOCKS=f"127.0.0.1:{tor_lab.socks_port}",
        DARKCRAWL_TOR_CONTROL=f"127.0.0.1:{tor_lab.control_port}",
        DARKCRAWL_ES_FLUSH_INTERVAL="1",
        DARKCRAWL_STATUS_INTERVAL="1",
        DARKCRAWL_SCHEDULER_TICK="0.3",
        DARKCRAWL_SCHEDULER_STOP_GRACE="30",
        DARKCRAWL_METRICS_PORT="0",
    )
    env.update(extra)
    return env


def darkcrawl(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(DARKCRAWL + args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def start_scheduler(env: dict[str, str], *args: str, config: Path | None = None) -> subprocess.Popen[str]:
    options = ["--config", str(config)] if config else []
    return subprocess.Popen(
        [*DARKCRAWL, *options, "scheduler", *args],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


def runs(data_dir: Path) -> list[dict]:
    connection = sqlite3.connect(data_dir / "scheduler" / "schedules.db")
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute("SELECT * FROM runs ORDER BY id")]
    finally:
        connection.close()


def wait_for(condition, timeout: float, what: str, process: subprocess.Popen[str] | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            log = process.stderr.read()[-3000:] if process.stderr else ""
            pytest.fail(f"the scheduler exited ({process.returncode}) waiting for {what}: {log}")
        time.sleep(0.3)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return stderr


def seeds_file(path: Path, *urls: str) -> Path:
    path.write_text("".join(f"{url}\n" for url in urls), encoding="utf-8")
    return path


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    current = peak = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


def test_scheduler_on_time_no_overlap_concurrency_limit_restart_and_metrics(tor_lab, es_node, tmp_path):
    data_dir = tmp_path / "data"
    port = free_port()
    env = scheduler_env(tor_lab, es_node, data_dir, DARKCRAWL_METRICS_PORT=str(port))
    for name, site in (("alpha", "market"), ("beta", "forum"), ("gamma", "paste")):
        seeds = seeds_file(tmp_path / f"{name}.txt", tor_lab.url(site))
        result = darkcrawl(["schedule", "add", name, "--seeds", str(seeds), "--every", "3s", "--depth", "0"], env)
        assert result.returncode == 0, result.stderr
    started = time.time()
    scheduler = start_scheduler(env, "--max-crawls", "2")
    try:
        # each schedule runs; two at a time at most
        def finished_counts() -> dict[str, int]:
            return Counter(run["schedule"] for run in runs(data_dir) if run["state"] == "finished")

        wait_for(lambda: len(finished_counts()) == 3, 150, "every schedule to run", scheduler)
        first_two = sorted(run["started_at"] for run in runs(data_dir))[:2]
        assert first_two[1] - started < 10, "the first due runs did not start at once"
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        listening = {conn.laddr.ip for conn in psutil.Process(scheduler.pid).net_connections(kind="inet")
                     if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port}
        assert listening == {"127.0.0.1"}, f"the metrics endpoint listens on {listening}, not loopback only"
        # restart: kill the scheduler outright while a crawl runs; the new one adopts that crawl
        # a crawl that has just started, so that it still runs when the next scheduler looks (a one-page crawl lasts
        # 2-3 s on a quiet machine since #16; one near its end could finish first, and nothing would be adopted)
        def just_started() -> bool:
            return any(run["state"] == "running" and time.time() - run["started_at"] < 0.5 for run in runs(data_dir))

        wait_for(just_started, 60, "a crawl that has just started", scheduler)
        scheduler.kill()
        scheduler.communicate(timeout=30)
        orphan = max((run for run in runs(data_dir) if run["state"] == "running"), key=lambda run: run["started_at"])
        scheduler = start_scheduler(env, "--max-crawls", "2")
        wait_for(lambda: next(run for run in runs(data_dir) if run["id"] == orphan["id"])["state"] != "running",
                 90, "the adopted crawl to end", scheduler)
        before = len(runs(data_dir))
        wait_for(lambda: len([run for run in runs(data_dir) if run["state"] == "finished"]) > before, 90,
                 "a run after the restart", scheduler)
    finally:
        log = stop(scheduler)
    assert "adopted" in log, log[-3000:]
    adopted = next(run for run in runs(data_dir) if run["id"] == orphan["id"])
    assert adopted["state"] == "finished", adopted
    assert adopted["pages"] == 1

    all_runs = [run for run in runs(data_dir) if run["finished_at"]]
    assert all(run["state"] in ("finished", "stopped") for run in all_runs), all_runs
    assert max_overlap([(run["started_at"], run["finished_at"]) for run in all_runs]) <= 2
    for name in ("alpha", "beta", "gamma"):
        own = sorted((run["started_at"], run["finished_at"]) for run in all_runs if run["schedule"] == name)
        for (_, previous_end), (next_start, _) in itertools.pairwise(own):
            assert next_start >= previous_end, f"two runs of {name} overlapped"
        for (first_start, _), (second_start, _) in itertools.pairwise(own):
            assert second_start - first_start >= 2.5, f"{name} started twice within its period"

    assert 'darkcrawl_runs_started_total{schedule="alpha"}' in metrics
    fetched = sum(
        float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("darkcrawl_pages_fetched_total{")
    )
    assert fetched >= 3
    assert "darkcrawl_crawl_duration_seconds_count" in metrics and "darkcrawl_index_backlog_pages" in metrics

    listing = json.loads(darkcrawl(["schedule", "list", "--json"], env).stdout)
    assert sorted(item["name"] for item in listing) == ["alpha", "beta", "gamma"]


def test_budget_stops_a_run_and_the_next_run_resumes_its_jobdir(tor_lab, es_node, tmp_path):
    data_dir = tmp_path / "data"
    env = scheduler_env(tor_lab, es_node, data_dir, DARKCRAWL_SCHEDULER_STOP_GRACE="180")
    config = tmp_path / "slow.toml"
    # 37 pages, one at a time, 0.5 s apart: more than one 8 s budget of crawling
    config.write_text("[scrapy]\nCONCURRENT_REQUESTS_PER_DOMAIN = 1\nDOWNLOAD_DELAY = 0.5\nDOWNLOAD_DELAY_JITTER = 0\n")
    seeds = seeds_file(tmp_path / "market.txt", tor_lab.url("market"))
    result = darkcrawl(["schedule", "add", "market", "--seeds", str(seeds), "--every", "1s", "--budget", "8s"], env)
    assert result.returncode == 0, result.stderr
    scheduler = start_scheduler(env, config=config)
    try:
        wait_for(lambda: any(run["state"] == "finished" for run in runs(data_dir)), 200, "a run to finish", scheduler)
    finally:
        stop(scheduler)
    history = runs(data_dir)
    finished = next(index for index, run in enumerate(history) if run["state"] == "finished")
    history = history[: finished + 1]  # a run started after it was stopped with the scheduler
    assert not [run for run in history if (run["message"] or "").startswith("killed")], "a clean stop took > 180 s"
    over = [run for run in history if run["state"] == "over_budget"]
    assert over, history
    assert over[0]["id"] == history[0]["id"] and not history[0]["resumed"]
    assert all(run["resumed"] for run in history[1:] if run["state"] != "failed"), history
    assert all(run["pages"] and run["pages"] > 3 for run in history), "a run was stopped before it crawled"
    expected = {tor_lab.url("market", path) for path in all_pages(tor_lab.onions)["market"]}
    client = es_node.client()
    prefix = env["DARKCRAWL_ES_INDEX_PREFIX"]
    client.indices.refresh(index=f"{prefix}-pages")
    hits = client.search(index=f"{prefix}-pages", size=10_000, source_includes=["url"])["hits"]["hits"]
    urls = [hit["_source"]["url"] for hit in hits]
    assert set(urls) == expected and len(urls) == len(expected)
    fetched = sum(run["pages"] or 0 for run in history)
    assert fetched <= len(expected) + 2 * len(over), "resumed runs fetched pages again"
    assert not (data_dir / "scheduler" / "jobs" / "market").exists(), "a finished run leaves its job directory behind"
