"""darkcrawl's Scrapy spiders: :mod:`spiders.onion`, the one spider every crawl runs, and its seeding.

Scrapy finds them through ``SPIDER_MODULES`` in the project settings (scrapy.cfg and the package's ``scrapy`` entry
point name ``crawler.settings``), which is also how Scrapyd runs a deployed crawl.
"""
