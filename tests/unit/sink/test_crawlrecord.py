"""The crawl record's closing fields, from Scrapy's stats of a run."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.es.templates import crawl_mappings, mapped_fields
from crawler.sink.crawlrecord import closing_fields


def test_stats_are_summarised_by_kind():
    stats = {
        "darkcrawl/pages": 120, "darkcrawl/index/indexed": 118, "darkcrawl/index/spooled": 2,
        "darkcrawl/index/failed": 1, "item_scraped_count": 120, "downloader/request_count": 130,
        "downloader/response_count": 125, "downloader/response_bytes": 4_000_000,
        "downloader/response_status_count/200": 120, "downloader/response_status_count/404": 5,
        "darkcrawl/errors/TimeoutError": 3, "spider_exceptions/ValueError": 1,
        "darkcrawl/refused/not_tor": 2, "darkcrawl/skipped/extension": 4, "darkcrawl/budget/max_pages_per_site": 6,
        "darkcrawl/tor/0/circuit_errors": 2, "darkcrawl/tor/1/health_failures": 1, "darkcrawl/tor/new_circuits": 1,
        "start_time": datetime(2026, 11, 29, tzinfo=UTC), "darkcrawl/tor/unavailable": "tor down",
    }  # fmt: skip
    fields = closing_fields(stats, "finished")
    assert fields["status"] == "finished" and fields["finish_reason"] == "finished"
    assert (fields["pages_fetched"], fields["pages_indexed"], fields["pages_spooled"], fields["pages_failed"]) == (
        120, 118, 2, 1)
    assert (fields["requests"], fields["responses"], fields["bytes"], fields["items"]) == (130, 125, 4_000_000, 120)
    assert fields["errors"] == {"TimeoutError": 3, "spider:ValueError": 1} and fields["errors_total"] == 4
    assert fields["statuses"] == {"200": 120, "404": 5}
    assert fields["refused"] == {"not_tor": 2, "skipped:extension": 4, "budget:max_pages_per_site": 6}
    assert fields["tor_failures"] == 3
    assert "start_time" not in fields["stats"] and "darkcrawl/tor/unavailable" not in fields["stats"]
    assert fields["stats"]["darkcrawl/pages"] == 120
    assert set(fields) <= set(mapped_fields(crawl_mappings()))  # every field is mapped (strict index)
