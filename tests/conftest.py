"""Shared test configuration. Integration fixtures (real Elasticsearch node, real Tor lab) are session-scoped and
live in their own plugin modules so that one node and one lab serve the whole suite."""

from scrapy.utils.reactor import install_reactor

# Scrapy components built in unit tests (get_crawler) expect the reactor darkcrawl runs with.
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")

pytest_plugins = ["tests.integration.fixtures_es", "tests.integration.fixtures_lab", "tests.integration.fixtures_redis",
                  "tests.integration.fixtures_notify"]
