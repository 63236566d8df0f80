"""darkcrawl's own Scrapy signals (sent with ``crawler.signals.send_catch_log``), beside Scrapy's.

* ``page_stored(urls)`` -- the indexing stage has made these pages durable (indexed, spooled or dead-lettered).
* ``request_failed(request)`` -- a request ended in its errback (download failure after retries, or refused).

The distributed frontier listens to both to know when a leased request is done (crawler/frontier/scheduler.py).
"""

page_stored = object()
request_failed = object()
