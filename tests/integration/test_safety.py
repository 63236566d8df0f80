"""Safety by default, end to end through the lab: a page with a high-risk term stops its site and is stored as URL,
hashes and reason only, flagged for review; media is never downloaded; blocklisted sites (plain or hashed) are never
requested. The lab's ``safety`` and ``inspect`` sites record every request they receive."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest

from crawler.lab.special.safety import FLAGGED_TEXT, FLAGGED_TITLE, SENTINEL
from tests.integration.test_crawl import crawl_env, indexed_pages, run_darkcrawl
from tests.integration.test_leaks import lab_log

pytestmark = pytest.mark.integration

MEDIA_BY_EXTENSION = {"/media/photo.jpg", "/media/clip.mp4", "/media/inline.png", "/media/inline.webm"}


def summary_of(result) -> dict:
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout[result.stdout.index("{"):])


@pytest.fixture(scope="module")
def safety_crawl(tor_lab, es_node, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("safety")
    prefix = f"t{uuid.uuid4().hex[:8]}"
    since = lab_log(tor_lab, "safety")["last"]
    config = tmp / "serial.toml"
    # one request at a time on the site, so "nothing after the flagged page" is exact
    config.write_text("[scrapy]\nCONCURRENT_REQUESTS_PER_DOMAIN = 1\n")
    env = crawl_env(tor_lab, es_node, prefix, tmp / "data")
    result = run_darkcrawl(["--config", str(config), "crawl", "--url", tor_lab.url("safety"), "--depth", "5",
                            "--json"], env)
    requests = lab_log(tor_lab, "safety", since)["requests"]
    return {"result": result, "prefix": prefix, "requests": requests, "data_dir": tmp / "data"}


def test_a_high_risk_page_is_flagged_stored_without_content_and_stops_its_site(safety_crawl, tor_lab, es_node):
    summary = summary_of(safety_crawl["result"])
    assert summary["flagged_for_review"] == 1
    paths = [entry["path"] for entry in safety_crawl["requests"]]
    assert "/chain/2" in paths, "the high-risk page was never fetched: the test would prove nothing"
    # nothing requested after the flagged page, and nothing it linked to
    assert paths[paths.index("/chain/2") + 1 :] == [], paths
    assert "/chain/3" not in paths and "/after/2" not in paths

    pages = {page["url"]: page for page in indexed_pages(es_node.client(), safety_crawl["prefix"])}
    flagged = pages[tor_lab.url("safety", "/chain/2")]
    review = flagged["review"]
    assert review["reason"] == "high_risk_terms:placeholder" and review["terms_matched"] == 1
    assert review["body_length"] > 0 and len(review["body_sha256"]) == 64
    assert flagged["content_sha256"] == review["text_sha256"]
    assert flagged["title"] == "" and flagged["links_onion"] == [] and not flagged.get("signals")
    assert not [page for url, page in pages.items() if url != flagged["url"] and page.get("review")]
    # the stored document and everything darkcrawl wrote or printed hold none of the page's content
    client = es_node.client()
    client.indices.refresh(index=f"{safety_crawl['prefix']}-pages")
    stored = json.dumps(client.get(index=f"{safety_crawl['prefix']}-pages", id=flagged["_id"])["_source"])
    output = safety_crawl["result"].stdout + safety_crawl["result"].stderr
    written = "".join(path.read_text(errors="replace") for path in Path(safety_crawl["data_dir"]).rglob("*")
                      if path.is_file())
    for secret in (FLAGGED_TEXT, FLAGGED_TITLE, "quartz lantern", SENTINEL):
        assert secret not in stored and secret not in written, secret
    assert FLAGGED_TEXT not in output and FLAGGED_TITLE not in output
    assert output.count("stopped crawling") == 1 and "flagged for review" in output


def test_media_is_never_downloaded(safety_crawl, tor_lab, es_node):
    summary = summary_of(safety_crawl["result"])
    paths = {entry["path"] for entry in safety_crawl["requests"]}
    # by extension: never even requested; <img>/<video> sources are not links
    assert not paths & MEDIA_BY_EXTENSION, paths
    # without an extension: requested, cut off at the Content-Type header, never stored
    assert {"/media/picture", "/media/movie"} <= paths
    assert summary["skipped"].get("extension", 0) >= 2 and summary["skipped"].get("content_type", 0) >= 2, summary
    urls = {page["url"] for page in indexed_pages(es_node.client(), safety_crawl["prefix"])}
    assert not [url for url in urls if "/media/" in url], urls


def test_blocklisted_sites_are_never_requested_seeds_included(tor_lab, es_node, tmp_path):
    blocked = tor_lab.onions["inspect2"]
    blocklist = tmp_path / "banned.txt"
    # Ahmia's format: MD5 of the full hostname, one a line
    blocklist.write_text("# banned\n" + hashlib.md5(blocked.encode()).hexdigest() + "\n")
    since = {site: lab_log(tor_lab, site)["last"] for site in ("inspect", "inspect2")}
    env = crawl_env(tor_lab, es_node, f"t{uuid.uuid4().hex[:8]}", tmp_path / "data",
                    DARKCRAWL_BLOCKLIST_FILES=str(blocklist))
    result = run_darkcrawl(["crawl", "--url", tor_lab.url("inspect2"), "--url", tor_lab.url("inspect"),
                            "--depth", "2", "--no-index", "--json"], env)
    summary = summary_of(result)
    assert lab_log(tor_lab, "inspect2", since["inspect2"])["requests"] == []
    assert lab_log(tor_lab, "inspect", since["inspect"])["requests"], "the other site was not crawled"
    # the seed and the links to it from the other site: refused, logged once for the site
    assert summary["refused"].get("blocklisted", 0) >= 2, summary
    lines = [line for line in result.stderr.splitlines() if "on the blocklist" in line]
    assert len(lines) == 1 and blocked in lines[0] and f"{blocklist}:2" in lines[0], lines
