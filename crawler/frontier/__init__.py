"""The distributed frontier: several workers share one request queue and one duplicate filter in Redis.

Switched on by ``DARKCRAWL_REDIS_URL``; without it darkcrawl crawls on one host with Scrapy's own scheduler and needs no
Redis. Documentation: docs/distributed.md.

* :mod:`crawler.frontier.bloom` -- Bloom filter sizing and bit positions (pure), and an in-memory filter for tests.
* :mod:`crawler.frontier.store` -- :class:`~crawler.frontier.store.Frontier`: the Redis keys and atomic Lua scripts
  (queue, leases, duplicate filter, budgets, worker heartbeats).
* :mod:`crawler.frontier.scheduler` -- the Scrapy scheduler (a scrapy-redis scheduler with a reliable, leased queue).
* :mod:`crawler.frontier.middleware` -- when a leased request is fully done (children queued, page stored).
* :mod:`crawler.frontier.politeness` -- per-site concurrency and delay held across all workers.
* :mod:`crawler.frontier.worker` -- heartbeat, re-queue of dead workers' requests, when a worker stops.

Seeds are pushed into the shared queue by :mod:`spiders.seeding`, beside the spider whose requests it builds.
"""
