"""Shared test configuration. Integration fixtures (real Elasticsearch node, real Tor lab) are session-scoped and
live in their own plugin modules so that one node and one lab serve the whole suite."""

pytest_plugins = ["tests.integration.fixtures_es", "tests.integration.fixtures_lab"]
