"""The crawl's item pipeline stages, in ``ITEM_PIPELINES`` order: extraction, watching, indexing.

Each stage is a thin Scrapy component (``from_crawler``, ``NotConfigured`` when its setting switches it off) around
logic that lives elsewhere, so the logic can run without a crawl: signal extraction is pure, with no Scrapy import, in
:mod:`pipelines.extract` (``darkcrawl extract`` and other tools reuse it); watches are evaluated by
:mod:`crawler.alerts`; documents are written to Elasticsearch in bulk, spooled to disk while it is away.
"""
