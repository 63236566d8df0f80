"""Everything darkcrawl does with Tor: every request goes through it, and a crawl stops when Tor is not there.

Fail-closed by design: the only HTTP(S) download handler is Tor's (:mod:`~crawler.tor.handler`), requests are routed
per site to an isolated circuit (:mod:`~crawler.tor.routing`, :mod:`~crawler.tor.isolation`), and a health extension
pauses the crawl while Tor is unhealthy (:mod:`~crawler.tor.health`). Which tors to use comes from the
``DARKCRAWL_TOR_*`` settings; darkcrawl launches its own when given none (:mod:`~crawler.tor.launcher`) and talks to
them through their control ports (:mod:`~crawler.tor.control`). Documented in README, "How it works".
"""
