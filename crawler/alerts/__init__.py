"""Alerts: what the watches (crawler/watch) found on pages, stored once per watch and page content in the alerts
index, found by the crawl (pipelines/watching.py) and by the retro-hunt (:mod:`crawler.alerts.hunt`), and handled by
analysts (``darkcrawl alerts``). Documented in README "Watch and warn" and docs/schema.md ("Alerts").

Modules: :mod:`~crawler.alerts.documents` (the document and its id), :mod:`~crawler.alerts.store` (write, read,
ack/dismiss), :mod:`~crawler.alerts.hunt` (retro-hunt over the pages index).
"""
