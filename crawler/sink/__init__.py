"""The Elasticsearch write side: everything darkcrawl writes into its indices, and what it keeps on disk when
Elasticsearch cannot take it. Independent of Scrapy's item pipeline: pipelines/indexing.py is the thin stage around it,
``darkcrawl es replay`` and the benchmarks use it directly. Documented in docs/schema.md and docs/reliability.md.

* :mod:`crawler.sink.bulk` -- :class:`~crawler.sink.bulk.PageSink`, the bulk writer of pages, versions and sightings
  (batching, retries with :mod:`crawler.backoff`, dead letters, the spool when Elasticsearch is away).
* :mod:`crawler.sink.documents` -- page item -> page document, page document -> version document (pure).
* :mod:`crawler.sink.entities` -- page document -> entities and sightings; how a value is normalised (pure).
* :mod:`crawler.sink.rollup` -- entity documents recomputed from their sightings, without a script.
* :mod:`crawler.sink.spool` -- the bounded, fsynced on-disk queue of what could not be indexed yet.
* :mod:`crawler.sink.deadletter` -- documents Elasticsearch rejected for good, kept with the reason.
* :mod:`crawler.sink.crawlrecord` -- the crawl's record in the crawls index (a Scrapy extension).
* :mod:`crawler.sink.backlog` -- what the spools hold (``es status``, ``darkcrawl status``) and replaying them
  (``es replay``).

Layering: imports crawler.es, pipelines.extract and the bottom modules (crawler.items, crawler.errors, crawler.paths,
crawler.durable, crawler.backoff ...); never the CLI, the Scrapy stages (pipelines), spiders, watch, alerts or notify.
"""
