"""The extraction stage inside Scrapy: built from the crawler's settings, fills page items, switches off cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.errors import UsageError
from crawler.items import PageItem
from pipelines.extract import SIGNAL_KEYS
from pipelines.extraction import ExtractionPipeline
from tests.vectors import load_vectors

ONION = load_vectors("onion")["valid"][0]


def crawler_with(**overrides: object):  # type: ignore[no-untyped-def]
    settings = load_settings(environ={}, overrides={"DARKCRAWL_EXTRACT_WORKERS": 1, **overrides})
    return get_crawler(settings_dict=dict(settings.copy_to_dict()))


@pytest.fixture
def pipelines():  # type: ignore[no-untyped-def]
    """Build pipelines from crawlers; their worker pools are closed after the test."""
    built: list[ExtractionPipeline] = []

    def build(crawler) -> ExtractionPipeline:  # type: ignore[no-untyped-def]
        built.append(ExtractionPipeline.from_crawler(crawler))
        return built[-1]

    yield build
    for pipeline in built:
        pipeline.close_spider()


def page(**fields: object) -> PageItem:
    base: dict[str, object] = {
        "url": f"http://{ONION}/item/1",
        "canonical_url": f"http://{ONION}/item/1",
        "site": ONION,
        "status": 200,
        "fetched_at": "2026-11-29T00:00:00.000Z",
        "crawl_id": "t",
        "content_type": "text/html; charset=utf-8",
        "html": (
            "<html><head><title>Item</title></head><body><p>Sold by: Tulpen. De verkoper verstuurt elke bestelling "
            "binnen twee dagen, discrete verzending.</p><a href='/vendor/Tulpen'>v</a>"
            "<a href='https://example.org/'>c</a></body></html>"
        ),
    }
    base.update(fields)
    return PageItem(**base)  # type: ignore[arg-type]


async def test_fills_signals_and_empty_fields(pipelines) -> None:  # type: ignore[no-untyped-def]
    pipeline = pipelines(crawler_with())
    item = await pipeline.process_item(page())
    assert tuple(item.signals) == SIGNAL_KEYS
    assert item.language == "nl"
    assert item.title == "Item"
    assert item.text.startswith("Sold by: Tulpen.")
    assert item.content_sha256 == item.signals["content_sha256"]
    assert item.links_onion == [f"http://{ONION}/vendor/Tulpen"]
    assert item.links_clearnet == ["https://example.org/"]
    assert {"term": "discrete verzending", "category": "drugs", "count": 1} in item.signals["keywords"]
    assert item.signals["vendors"][0] == {"name": "Tulpen", "source": "heuristic:sold by"}
    assert item.extraction is not None and item.extraction["status"] == "ok"


async def test_keeps_what_the_spider_set_and_passes_other_items(pipelines) -> None:  # type: ignore[no-untyped-def]
    pipeline = pipelines(crawler_with())
    item = await pipeline.process_item(page(title="Spider title", links_onion=[f"http://{ONION}/"]))
    assert item.title == "Spider title"
    assert item.links_onion == [f"http://{ONION}/"]
    other = {"not": "a page"}
    assert await pipeline.process_item(other) is other


def test_disabled_raises_not_configured() -> None:
    with pytest.raises(NotConfigured):
        ExtractionPipeline.from_crawler(crawler_with(DARKCRAWL_EXTRACT_ENABLED=False))


async def test_settings_choose_watchlists_and_rules(tmp_path: Path, pipelines) -> None:  # type: ignore[no-untyped-def]
    watch = tmp_path / "watch.yaml"
    watch.write_text("- term: tulpen\n  category: vendor of interest\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"rules:\n  - id: r1\n    match: {{hosts: [{ONION}]}}\n    vendor: {{css: title}}\n", "utf-8")
    pipeline = pipelines(
        crawler_with(
            DARKCRAWL_WATCHLISTS=[str(watch)], DARKCRAWL_VENDOR_RULES=[str(rules)], DARKCRAWL_LANGUAGE_SAMPLE=300
        )
    )
    assert pipeline.pool.spec.language_sample == 300
    item = await pipeline.process_item(page())
    assert item.signals["keywords"] == [{"term": "tulpen", "category": "vendor of interest", "count": 1}]
    assert item.signals["vendors"][0] == {"name": "Item", "source": "rule:r1"}


def test_bad_watchlist_is_a_usage_error(tmp_path: Path) -> None:
    watch = tmp_path / "watch.yaml"
    watch.write_text("- term: x\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"watch.yaml:1: entry has no 'category'"):
        ExtractionPipeline.from_crawler(crawler_with(DARKCRAWL_WATCHLISTS=[str(watch)]))


async def test_stats_are_counted(pipelines) -> None:  # type: ignore[no-untyped-def]
    crawler = crawler_with()
    pipeline = pipelines(crawler)
    await pipeline.process_item(page())
    assert crawler.stats.get_value("darkcrawl/extract/pages") == 1
    assert crawler.stats.get_value("darkcrawl/extract/pages_with_vendors") == 1


async def test_watchlists_from_the_config_file(tmp_path: Path, pipelines) -> None:  # type: ignore[no-untyped-def]
    watch = tmp_path / "watch.yaml"
    watch.write_text("- terms: [verkoper]\n  category: dutch words\n", encoding="utf-8")
    config = tmp_path / "darkcrawl.toml"
    config.write_text(f'[darkcrawl]\nwatchlists = ["{watch}"]\nlanguage_sample = 400\n', encoding="utf-8")
    settings = load_settings(config_file=config, environ={}, overrides={"DARKCRAWL_EXTRACT_WORKERS": 1})
    pipeline = pipelines(get_crawler(settings_dict=dict(settings.copy_to_dict())))
    assert pipeline.pool.spec.language_sample == 400
    item = await pipeline.process_item(page())
    assert item.signals["keywords"] == [{"term": "verkoper", "category": "dutch words", "count": 1}]


async def test_items_from_the_onion_spider_get_the_fixture_pages_signals(pipelines) -> None:  # type: ignore[no-untyped-def]
    """The spider's real PageItem (built from a lab fixture page) through the stage: signals match the page's truth."""
    from scrapy import Request
    from scrapy.http import HtmlResponse

    from crawler.lab.sites import build_site, placeholder_onion
    from crawler.lab.sites.truth import expected_signals
    from crawler.seeds import Seed
    from spiders.onion import OnionSpider

    host = placeholder_onion("market")
    path = "/vendor/greywolf"
    settings = load_settings(environ={}, overrides={"DARKCRAWL_EXTRACT_WORKERS": 1}).copy_to_dict()
    crawler = get_crawler(OnionSpider, settings_dict=dict(settings))
    spider = OnionSpider.from_crawler(crawler, seeds=[Seed(f"http://{host}/", host, 1)], crawl_id="c1")
    url = f"http://{host}{path}"
    body = build_site("market").pages[path].body
    response = HtmlResponse(
        url, body=body, encoding="utf-8", request=Request(url, meta={"depth": 1}),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )  # fmt: skip
    item = next(entry for entry in spider.parse(response) if isinstance(entry, PageItem))
    item = await pipelines(crawler).process_item(item)
    truth = expected_signals("market")[path]
    assert [k["fingerprint"] for k in item.signals["pgp_keys"]] == truth["pgp_fingerprints"]
    assert sorted(a["address"] for a in item.signals["crypto_addresses"]) == sorted(
        a["address"] for a in truth["crypto_addresses"]
    )
    assert item.signals["emails"] == truth["emails"]
    assert item.language == truth["language"]
    assert item.title and item.text and item.content_sha256 == item.signals["content_sha256"]
    assert {"name": "greywolf", "source": "rule:shadowstall"} in item.signals["vendors"]


async def test_a_page_over_its_budget_is_passed_on_marked_counted_and_logged_once(caplog) -> None:  # type: ignore[no-untyped-def]
    """The stage with a pool whose stand-in extractor spins on a marker (tests/unit/extract/test_pool.py)."""
    from crawler.sink.documents import page_document
    from pipelines.extract.pool import ConfigSpec, ExtractionPool

    crawler = crawler_with()
    with ExtractionPool(ConfigSpec(), workers=1, timeout=1.0,
                        extract="tests.unit.extract.test_pool:hostile_extract") as pool:
        pipeline = ExtractionPipeline(pool, crawler.stats)
        stuck = page(html="<html><head><title>Stuck</title></head><body><p>SPIN forever</p></body></html>")
        with caplog.at_level("WARNING"):
            item = await pipeline.process_item(stuck)
        after = await pipeline.process_item(page())
    assert item.extraction["status"] == "timeout" and item.extraction["elapsed_ms"] >= 1000
    assert item.title == "Stuck" and item.text == "SPIN forever" and len(item.content_sha256) == 64
    assert item.signals["keywords"] == [] and item.language == "unknown"
    document = page_document(item)
    assert document["extraction"]["status"] == "timeout" and "html" not in document
    assert after.extraction["status"] == "ok" and after.signals["vendors"]
    assert crawler.stats.get_value("darkcrawl/extract/timeouts") == 1
    assert crawler.stats.get_value("darkcrawl/extract/pages") == 2
    assert len([r for r in caplog.records if "stopped after" in r.getMessage() and stuck.url in r.getMessage()]) == 1


async def test_the_stage_takes_over_the_preflight_pool(pipelines) -> None:  # type: ignore[no-untyped-def]
    """crawler/crawl.py starts the workers before Scrapy (the check that the lists compile); the stage built from
    the same settings uses them instead of starting more, and extracts with them."""
    from pipelines import extraction

    crawler = crawler_with()
    pool = extraction.prestart_pool(crawler.settings)
    pids = pool.pids()
    pipeline = pipelines(crawler)
    assert pipeline.pool is pool and pool.pids() == pids and extraction._prestarted == []
    item = await pipeline.process_item(page())
    assert item.extraction["status"] == "ok" and item.title == "Item"
