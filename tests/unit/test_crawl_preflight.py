import pytest

from crawler.config import load_settings
from crawler.crawl import run_crawl
from crawler.errors import UsageError
from crawler.seeds import parse_seeds

ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"


def test_bad_watchlist_stops_the_crawl_before_tor_or_scrapy(tmp_path):
    watchlist = tmp_path / "watch.yaml"
    watchlist.write_text("terms: [unclosed\n")
    settings = load_settings(environ={}, overrides={"DARKCRAWL_WATCHLISTS": [str(watchlist)],
                                                    "DARKCRAWL_TOR_SOCKS": "127.0.0.1:1"})
    messages: list[str] = []
    with pytest.raises(UsageError, match=r"watch\.yaml"):
        run_crawl(settings, parse_seeds([ONION]).seeds, messages.append)
    assert messages == []  # nothing was started or checked before the error


@pytest.mark.parametrize("budget", [0, -1, float("nan")])
def test_an_extraction_budget_that_is_not_positive_stops_the_crawl_before_tor(budget):
    settings = load_settings(environ={}, overrides={"DARKCRAWL_EXTRACT_TIMEOUT": budget,
                                                    "DARKCRAWL_TOR_SOCKS": "127.0.0.1:1"})
    messages: list[str] = []
    with pytest.raises(UsageError, match=r"\(DARKCRAWL_EXTRACT_TIMEOUT\) must be a positive number"):
        run_crawl(settings, parse_seeds([ONION]).seeds, messages.append)
    assert messages == []


def test_the_preflight_workers_are_the_crawls_and_none_outlives_a_failed_start(monkeypatch):
    """The preflight check starts the crawl's own extraction workers; the extraction stage takes them over (no
    second start). When the crawl fails before the stage is built (here: no tor answers), run_crawl closes them."""
    from crawler.crawl import check_extraction_config
    from crawler.errors import ServiceError
    from pipelines import extraction

    settings = load_settings(
        environ={}, overrides={"DARKCRAWL_EXTRACT_WORKERS": 1, "DARKCRAWL_TOR_SOCKS": "127.0.0.1:1"}
    )
    check_extraction_config(settings)
    [pool] = extraction._prestarted
    try:
        assert extraction._take_prestarted(settings) is pool and extraction._prestarted == []
        assert pool.started == 1 and len(pool.pids()) == 1  # started once, taken as it was
        other = load_settings(environ={}, overrides={"DARKCRAWL_EXTRACT_WORKERS": 1, "DARKCRAWL_EXTRACT_TIMEOUT": 3})
        extraction._prestarted.append(pool)
        assert extraction._take_prestarted(other) is None  # another budget: the stage starts its own
    finally:
        extraction.close_prestarted()
    assert pool.closed and pool.pids() == []

    started: list[extraction.ExtractionPool] = []
    prestart = extraction.prestart_pool
    monkeypatch.setattr(extraction, "prestart_pool", lambda settings: started.append(prestart(settings)) or started[-1])
    with pytest.raises(ServiceError, match="no usable Tor"):
        run_crawl(settings, parse_seeds([ONION]).seeds, lambda message: None)
    [pool] = started
    assert extraction._prestarted == [] and pool.closed and pool.pids() == []
