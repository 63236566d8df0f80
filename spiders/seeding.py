"""Pushing the onion spider's seeds into the shared frontier: once, whoever pushes them (the Bloom filter drops a seed
seen before). It lives beside the spider, not in crawler/frontier, because it builds the spider's own requests.

Seeds are serialized like any request of the onion spider (callback ``parse``, errback ``on_error``), and their sites
are added to the frontier's seed-site set, which every worker's spider reads to decide which links to follow.
"""

from __future__ import annotations

from dataclasses import dataclass

from scrapy import Request
from scrapy.utils.request import fingerprint

from crawler.frontier.scheduler import LeasedQueue
from crawler.frontier.store import QUEUED, Frontier
from crawler.identity import META_SEED, site_key
from crawler.seeds import Seed
from spiders.onion import OnionSpider


@dataclass
class SeedPush:
    queued: int = 0
    already_seen: int = 0
    over_budget: int = 0


def push_seeds(frontier: Frontier, seeds: list[Seed]) -> SeedPush:
    """Queue *seeds* in the shared frontier; return how many were queued and how many were known already."""
    spider = OnionSpider(seeds=seeds)
    queue = LeasedQueue(frontier, spider)
    frontier.add_sites(site_key(seed.site) for seed in seeds)
    outcome = SeedPush()
    for seed in seeds:
        request = Request(seed.url, callback=spider.parse, errback=spider.on_error, meta={META_SEED: True})
        result = frontier.push(queue.encode(request), fingerprint(request), site_key(seed.site))
        if result == QUEUED:
            outcome.queued += 1
        elif result == 0:
            outcome.already_seen += 1
        else:
            outcome.over_budget += 1
    return outcome
