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
