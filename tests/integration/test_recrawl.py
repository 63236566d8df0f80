"""Adaptive recrawl with the real lab and Elasticsearch: a lab onion taken down is backed off, then retired (no
longer visited); brought back, a probe finds it and it is live again. Short policy settings (seconds, not days)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.scheduling.recrawl import from_iso
from tests.integration.lab_sites import site_down, site_up
from tests.integration.test_scheduler import darkcrawl, runs, scheduler_env, start_scheduler, stop, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POLICY = {
    "DARKCRAWL_RECRAWL_MIN_INTERVAL": "1",
    "DARKCRAWL_RECRAWL_INTERVAL": "2",
    "DARKCRAWL_RECRAWL_MAX_INTERVAL": "4",
    "DARKCRAWL_RECRAWL_BACKOFF": "2",
    "DARKCRAWL_RECRAWL_RETIRE_AFTER": "30",
    "DARKCRAWL_RECRAWL_RETIRED_PROBE": "20",
}
LIVE, DEAD = "directory", "phishing"


def site_states(es_node, prefix: str) -> dict[str, dict]:
    client = es_node.client()
    try:
        client.indices.refresh(index=f"{prefix}-sites")
        hits = client.search(index=f"{prefix}-sites", size=100)["hits"]["hits"]
    finally:
        client.close()
    return {hit["_id"]: hit["_source"] for hit in hits}


def test_dead_onion_is_backed_off_retired_and_picked_up_again(tor_lab, es_node, tmp_path):
    data_dir = tmp_path / "data"
    env = scheduler_env(tor_lab, es_node, data_dir, **POLICY)
    prefix = env["DARKCRAWL_ES_INDEX_PREFIX"]
    live, dead = tor_lab.onions[LIVE], tor_lab.onions[DEAD]
    # the index learns both sites from one crawl of their home pages
    first = darkcrawl(["crawl", "--url", tor_lab.url(LIVE), "--url", tor_lab.url(DEAD), "--depth", "0"], env, 300)
    assert first.returncode == 0, first.stderr[-3000:]
    states = site_states(es_node, prefix)
    assert states[live]["successes"] == 1 and states[dead]["successes"] == 1

    assert darkcrawl(["schedule", "add", "recrawl", "--sites-from-index", "--every", "1s", "--depth", "0"],
                     env).returncode == 0
    site_down(tor_lab.lab_dir, DEAD)
    try:
        scheduler = start_scheduler(env)
        try:
            retired = wait_for(lambda: (state := site_states(es_node, prefix)[dead]).get("retired") and state, 240,
                               "the dead site to retire", scheduler)
            site_up(tor_lab.lab_dir, DEAD)  # back, but retired: only the probe (20 s later) visits it again
            revived = wait_for(lambda: not (state := site_states(es_node, prefix)[dead]).get("retired") and state,
                               240, "the probe to find the site again", scheduler)
        finally:
            stop(scheduler)
    finally:
        site_up(tor_lab.lab_dir, DEAD)
    assert retired["consecutive_failures"] >= 2 and retired["last_success"] and retired["retired_at"]
    # backed off: each failure doubled the interval from the 1 s floor, up to the 4 s cap
    assert retired["interval_seconds"] == min(2 ** (retired["consecutive_failures"] - 1), 4)
    retired_at, probe_at = from_iso(retired["retired_at"]), from_iso(retired["next_due"])
    assert probe_at - retired_at == pytest.approx(20, abs=0.01)
    between = [run for run in runs(data_dir) if retired_at < run["started_at"] < probe_at and run["run_dir"]]
    seeds = [(Path(run["run_dir"]) / "seeds.txt").read_text() for run in between]
    assert seeds, "no recrawl ran while the site was retired: the test proves nothing"
    assert all(dead not in text and live in text for text in seeds), "a retired site was crawled before its probe"
    assert revived["consecutive_failures"] == 0 and revived["retired_at"] is None
    assert revived["successes"] == 2 and from_iso(revived["last_success"]) >= probe_at
    assert site_states(es_node, prefix)[live]["consecutive_failures"] == 0
