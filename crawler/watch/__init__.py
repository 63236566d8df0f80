"""Watches: what an analyst wants to be warned about, and how a page is checked against them (issue #14).

Documentation: docs/watch.md. Modules:

* :mod:`crawler.watch.model` -- :class:`Watch`, :class:`WatchMatch`, the kinds, :func:`mask_target`;
* :mod:`crawler.watch.store` -- :class:`WatchStore`, the SQLite file the CLI, the crawl and the scheduler share;
* :mod:`crawler.watch.matchers` -- :class:`WatchSet` (``compile`` once, ``evaluate(page_doc)`` per page);
* one module per kind: :mod:`~crawler.watch.term`, :mod:`~crawler.watch.regex`, :mod:`~crawler.watch.yara`,
  :mod:`~crawler.watch.entity`, :mod:`~crawler.watch.clone` (``load_clone_references``),
  :mod:`~crawler.watch.newsite` (``load_known_sites``).
"""
