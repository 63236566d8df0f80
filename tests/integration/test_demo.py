"""`darkcrawl demo`, the README's first command, end to end: on the session's lab (reused, as a second `demo` reuses
a running lab) and Elasticsearch node (through ``DARKCRAWL_ES_URL``, as with a cluster of one's own). Then every
example the README gives, run as written on the data the demo indexed: each must answer with results."""

from __future__ import annotations

import json
import re
import shlex
import uuid
from pathlib import Path
from typing import Any

import pytest

from crawler.lab.sites import SITE_NAMES
from tests.integration.test_crawl import crawl_env, expected_urls, indexed_pages, run_darkcrawl

pytestmark = pytest.mark.integration

STALE_SITE = "stalexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion"
README = Path(__file__).resolve().parents[2] / "README.md"
# README commands that do not read the demo's data, and why they are not run here.
NOT_RUN = {
    "demo": "the demo itself (run once above)",
    "crawl": "a crawl of the real Tor network (the lab crawl is test_crawl's)",
    "worker": "needs Redis and a shared frontier (test_workers)",
    "es": "starts, stops or installs the node (test_es_node)",
    "lab": "starts or stops the lab (test_lab)",
    "schedule": "adds schedules to a scheduler (test_scheduler)",
    "scheduler": "a foreground service (test_scheduler)",
    "kibana": "needs a Kibana (test_kibana_import, against a stub)",
    "evidence": "needs WARC files; the demo keeps none (test_evidence)",
}


@pytest.fixture(scope="module")
def demo(tor_lab, es_node, tmp_path_factory):
    """One `darkcrawl demo` into a fresh prefix (with a stale page of an earlier crawl indexed first): its
    environment, result and prefix."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path_factory.mktemp("demo-data")
    env = crawl_env(tor_lab, es_node, prefix, data_dir, DARKCRAWL_LAB_DIR=str(tor_lab.lab_dir),
                    DARKCRAWL_LAB_BASE_PORT=str(tor_lab.base_port))
    for key in ("DARKCRAWL_TOR_SOCKS", "DARKCRAWL_TOR_CONTROL"):  # the demo finds Tor in its lab
        env.pop(key)
    init = run_darkcrawl(["es", "init"], env, timeout=120)
    assert init.returncode == 0, init.stderr[-2000:]
    # an earlier crawl's page (an earlier lab had other onion addresses): the demo's sample search must not show it
    client = es_node.client()
    client.index(index=f"{prefix}-pages", id="stale", refresh=True, document={
        "url": f"http://{STALE_SITE}/escrow", "site": STALE_SITE, "title": "Old escrow page",
        "text": "bitcoin escrow bitcoin escrow", "crawl_id": "an-earlier-crawl",
        "first_seen": "2026-01-01T00:00:00Z", "last_seen": "2026-01-01T00:00:00Z"})
    client.close()
    result = run_darkcrawl(["demo"], env, timeout=600)
    return env, result, prefix, data_dir


def test_demo_crawls_the_fixture_onions_through_tor_and_answers_a_search_on_that_crawl(demo, tor_lab, es_node):
    _env, result, prefix, _data_dir = demo
    assert result.returncode == 0, result.stderr[-3000:]
    assert "using the Elasticsearch cluster at" in result.stderr  # it did not start a node of its own
    expected = expected_urls(tor_lab)
    crawled = re.search(r"crawled (\d+) pages through Tor in \d+s \(finished\)", result.stdout)
    assert crawled and int(crawled.group(1)) == len(expected), result.stdout
    assert f"indexed {len(expected)} pages from {len(SITE_NAMES)} sites:" in result.stdout, result.stdout
    client = es_node.client()
    urls = [page["url"] for page in indexed_pages(client, prefix) if page["site"] != STALE_SITE]
    client.close()
    assert sorted(urls) == sorted(expected)
    search = re.search(r"sample search 'bitcoin escrow' in this crawl: (\d+) pages; best:\n((?:.*\n)*?)\n",
                       result.stdout)
    assert search and int(search.group(1)) > 0, result.stdout
    shown = re.findall(r"http://([a-z2-7]{56}\.onion)/\S*", search.group(2))
    assert shown and set(shown) <= {tor_lab.onions[name] for name in SITE_NAMES}, search.group(2)
    assert STALE_SITE not in result.stdout
    assert tor_lab.state().ready, "the demo left the lab it reused unusable"


def readme_examples() -> list[str]:
    """Every ``darkcrawl ...`` line of the README's shell blocks, in order, without its trailing comment."""
    examples: list[str] = []
    in_block = False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_block = line.strip() in ("```sh", "```bash", "```console")
            continue
        if in_block:
            command = re.sub(r"\s+#\s.*$", "", line.strip().removeprefix("$ "))
            if command.startswith("darkcrawl "):
                examples.append(command)
    return examples


def has_results(answer: Any) -> bool:
    """Whether a --json answer holds something: a non-empty list, or a positive count, at its top or one level in."""
    if isinstance(answer, list):
        return bool(answer)
    if not isinstance(answer, dict):
        return bool(answer)
    for key, value in answer.items():
        if isinstance(value, list) and value:
            return True
        if key in ("total", "count", "found", "hits") and isinstance(value, int) and value > 0:
            return True
        if isinstance(value, dict) and any(isinstance(inner, list) and inner for inner in value.values()):
            return True
    return False


def test_every_readme_example_answers_with_results_on_the_demo_data(demo, tor_lab):
    env, result, _prefix, _data_dir = demo
    assert result.returncode == 0, result.stderr[-3000:]
    examples = readme_examples()
    assert len(examples) >= 8, examples  # the README's examples were found
    run = 0
    for example in examples:
        words = shlex.split(example)
        if words[1] in NOT_RUN or "--help" in words:
            continue
        for name in SITE_NAMES:  # placeholders for the lab's onions, which change with every lab
            words = [word.replace(f"<{name}>.onion", tor_lab.onions[name]) for word in words]
        if {"<alert>", "<alert-2>"} & set(words):  # alert ids, which change with every lab: two that alerts list shows
            listed = run_darkcrawl(["alerts", "list", "--json"], env, timeout=300)
            ids = [alert["alert_id"][:12] for alert in json.loads(listed.stdout)["alerts"]]
            assert len(ids) >= 2, listed.stdout[-2000:]
            words = [{"<alert>": ids[0], "<alert-2>": ids[1]}.get(word, word) for word in words]
        answered = run_darkcrawl(words[1:], env, timeout=300)
        assert answered.returncode == 0, f"{example}\n{answered.stderr[-2000:]}"
        output = answered.stdout.strip()
        if "--json" in words:
            assert has_results(json.loads(output)), f"{example} answered nothing:\n{output[:2000]}"
        else:
            nothing = output.lower().startswith(("no ", "0 "))
            assert output and not nothing, f"{example} answered nothing:\n{output[:2000]}"
        run += 1
    assert run >= 6, f"only {run} README examples ran"
