"""Extraction off the reactor, against a real crawl of the lab's ``hostile`` site through Tor into Elasticsearch: a page
over its time budget (``/slow/armor``, 12 MB of PGP armor) is stopped, indexed with what was known and marked, while
its neighbours are extracted meanwhile; pages declaring codec-only charsets keep their text (docs/reliability.md)."""

from __future__ import annotations

import json
import uuid

import pytest

from crawler.lab.special import hostile
from tests.integration.test_crawl import crawl_env, run_darkcrawl

pytestmark = [pytest.mark.integration]

# 12 MB of armor takes seconds of extraction (about 0.13 s a megabyte of CPU here); a small page takes milliseconds.
BUDGET = 0.4


@pytest.fixture(scope="module")
def slow_crawl(tor_lab, es_node, tmp_path_factory):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path_factory.mktemp("budget-data")
    config = data_dir / "budget.toml"
    config.write_text("[scrapy]\nDOWNLOAD_DELAY = 0\nCONCURRENT_REQUESTS_PER_DOMAIN = 4\n"
                      "DOWNLOAD_MAXSIZE = 20000000\nDOWNLOAD_WARNSIZE = 0\n")
    env = crawl_env(tor_lab, es_node, prefix, data_dir, DARKCRAWL_EXTRACT_TIMEOUT=str(BUDGET),
                    DARKCRAWL_EXTRACT_WORKERS="2")
    result = run_darkcrawl(["--config", str(config), "crawl", "--url", tor_lab.url("hostile", "/slow/"),
                            "--url", tor_lab.url("hostile", "/charset/codec-rot13"), "--depth", "1", "--json"],
                           env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    client = es_node.client()
    client.indices.refresh(index=f"{prefix}-pages")
    hits = client.search(index=f"{prefix}-pages", size=100, query={"match_all": {}})["hits"]["hits"]
    pages = {hit["_source"]["url"].split(".onion", 1)[1]: hit["_source"] for hit in hits}
    yield {"summary": json.loads(result.stdout[result.stdout.index("{"):]), "err": result.stderr, "pages": pages}
    for index in client.indices.get(index=f"{prefix}-*", expand_wildcards="all"):
        client.indices.delete(index=index, ignore_unavailable=True)


def test_a_page_over_its_budget_is_indexed_marked_and_counted(slow_crawl):
    armor = slow_crawl["pages"].get("/slow/armor")
    assert armor is not None, sorted(slow_crawl["pages"])
    assert armor["extraction"]["status"] == "timeout"
    assert armor["status"] == 200 and armor["content_length"] > hostile.SLOW_BYTES
    assert armor["signals"]["pgp_keys"] == [] and armor["signals"]["crypto_addresses"] == []
    assert slow_crawl["summary"]["extraction"] == {"timeouts": 1}
    logged = [line for line in slow_crawl["err"].splitlines() if "stopped after" in line]
    assert len(logged) == 1 and "/slow/armor" in logged[0], logged
    assert "Traceback" not in slow_crawl["err"]


def test_the_other_pages_are_extracted_meanwhile(slow_crawl):
    neighbours = [f"/slow/{n}" for n in range(1, hostile.SLOW_NEIGHBOURS + 1)]
    pages = slow_crawl["pages"]
    assert [path for path in ["/slow/", *neighbours] if path not in pages] == []
    for path in ["/slow/", *neighbours]:
        assert pages[path]["extraction"]["status"] == "ok", path
    assert pages["/slow/3"]["text"] == "a small page, number 3"
    assert slow_crawl["summary"]["finish_reason"] == "finished"


def test_codec_only_charsets_keep_their_text_and_links(slow_crawl):
    """``<meta charset="rot13">`` used to make response.text raise (page and links lost); cp037 decoded garbage."""
    pages = slow_crawl["pages"]
    rot13, cp037 = pages.get("/charset/codec-rot13"), pages.get("/charset/codec-cp037")
    assert rot13 is not None and cp037 is not None, sorted(pages)  # cp037 is only reached by rot13's link
    assert rot13["title"] == "charset rot13" and "café rot13 words" in rot13["text"]
    assert cp037["title"] == "charset cp037" and "café cp037 words" in cp037["text"]
