"""darkcrawl: crawl onion and deep-web sites through Tor, extract signals, index them into Elasticsearch.

Documentation: README.md (operations, settings) and docs/.
"""

__version__ = "0.1.0"
