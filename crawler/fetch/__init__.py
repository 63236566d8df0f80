"""What the crawl agrees to download and how it reads it: the downloader middlewares between Tor and the spider.

Each guards the crawl or the investigator against the site: content types and extensions never fetched (media can
be illegal to possess), hostile responses (bombs, endless bodies, traps), cookies and referrers that would tell a
site where the crawl has been, and responses decoded as a browser decodes them. Their order is
``DOWNLOADER_MIDDLEWARES`` in crawler/settings.py; the limits are documented in docs/reliability.md.
"""
