"""Recurring crawls, adaptive recrawl and operator health. Documentation: docs/operations.md.

* :mod:`crawler.scheduling.timing` -- ``--cron`` expressions, ``--every``/``--budget`` durations, the next run time;
* :mod:`crawler.scheduling.store` -- the schedules and their runs, in SQLite in the data directory;
* :mod:`crawler.scheduling.dispatch` -- starting, watching and stopping one crawl: a local process or a Scrapyd job;
* :mod:`crawler.scheduling.service` -- the scheduler loop (``darkcrawl scheduler``);
* :mod:`crawler.scheduling.recrawl` -- the adaptive recrawl policy and the per-site state in the ``sites`` index;
* :mod:`crawler.scheduling.sites` -- the Scrapy extension that records which sites answered in a crawl;
* :mod:`crawler.scheduling.health` -- what ``darkcrawl status`` shows: tor instances, Elasticsearch, crawls, schedules;
* :mod:`crawler.scheduling.metrics` -- the scheduler's Prometheus metrics.
"""
