"""The shared frontier against a real redis-server: queue order, leases, re-queue after a worker dies, budgets, the
Bloom duplicate filter (false-positive rate and bounded memory on a synthetic million-URL run)."""

from __future__ import annotations

import hashlib
import time

import pytest

from crawler.frontier.bloom import BloomParams
from crawler.frontier.store import DUPLICATE, OVER_SITE_BUDGET, OVER_TOTAL_BUDGET, QUEUED, Frontier

pytestmark = pytest.mark.integration


def frontier(redis_server, prefix, worker="w1", **kwargs) -> Frontier:
    bloom = kwargs.pop("bloom", BloomParams.for_capacity(100_000, 1e-6))
    return Frontier(redis_server.client(), prefix, bloom, worker_id=worker, **kwargs)


def fp(text: str) -> bytes:
    return hashlib.sha1(text.encode()).digest()


def test_push_pop_ack_in_priority_then_fifo_order(redis_server, redis_prefix):
    f = frontier(redis_server, redis_prefix)
    f.heartbeat()
    assert f.push(b"a", fp("a"), "s1", priority=0) == QUEUED
    assert f.push(b"b", fp("b"), "s1", priority=0) == QUEUED
    assert f.push(b"c", fp("c"), "s1", priority=5) == QUEUED
    assert f.push(b"a", fp("a"), "s1", priority=0) == DUPLICATE
    assert f.push(b"a-again", fp("a"), "s1", dont_filter=True) == QUEUED
    popped = [payload for _lease, payload in f.pop(10)]
    assert popped == [b"c", b"a", b"b", b"a-again"]
    assert f.queued() == 0 and f.leased() == 4 and not f.finished()
    leases = [lease for lease, _ in f.pop(1)]
    assert leases == []


def test_ack_release_and_transfer(redis_server, redis_prefix):
    f = frontier(redis_server, redis_prefix)
    f.heartbeat()
    for name in "abc":
        f.push(name.encode(), fp(name), "s1")
    (la, _), (lb, _), (lc, _) = f.pop(3)
    assert f.ack([la]) == 1 and f.ack([la]) == 0
    assert f.release([lb]) == 1
    assert f.pop(1)[0][1] == b"b"
    # a redirect continuing lease c: queued and c acknowledged in one step, even when the target was seen before
    assert f.push(b"a", fp("a"), "s1", transfer=lc) == DUPLICATE
    assert f.leased() == 1  # only b's new lease
    assert f.client.hlen(f.key("requests")) == 1
    assert f.client.smembers(f.key("held", f.worker_id)) == {f.client.hkeys(f.key("leases"))[0]}


def test_only_the_worker_holding_a_lease_ends_it(redis_server, redis_prefix):
    """Ack, release and a transfer check the lease's owner; a worker whose name begins another's owns none of its."""
    holder = frontier(redis_server, redis_prefix, worker="w2")
    other = frontier(redis_server, redis_prefix, worker="w")
    holder.push(b"a", fp("a"), "s1")
    [(lease, _)] = holder.pop(1)
    assert other.ack([lease]) == 0 and other.release([lease]) == 0
    assert other.push(b"b", fp("b"), "s1", transfer=lease) == QUEUED
    assert holder.leased() == 1 and holder.queued() == 1
    assert holder.ack([lease]) == 1
    assert holder.leased() == 0 and holder.client.scard(holder.key("held", "w2")) == 0


def test_a_dead_workers_leases_go_back_to_the_queue(redis_server, redis_prefix):
    dying = frontier(redis_server, redis_prefix, worker="dying", lease_timeout=0.5)
    survivor = frontier(redis_server, redis_prefix, worker="survivor", lease_timeout=30)
    dying.heartbeat()
    survivor.heartbeat()
    for name in "abcd":
        dying.push(name.encode(), fp(name), "s1")
    held = dying.pop(3)
    assert survivor.reap() == 0, "a live worker's leases are never taken"
    time.sleep(0.7)  # the dying worker's heartbeat expires
    assert survivor.reap() == 3
    assert sorted(payload for _lease, payload in survivor.pop(10)) == [b"a", b"b", b"c", b"d"]
    assert dying.ack([lease for lease, _ in held]) == 0, "a late ack of a re-queued lease changes nothing"
    assert survivor.leased() == 4


def test_budgets_are_shared(redis_server, redis_prefix):
    one = frontier(redis_server, redis_prefix, worker="one", max_pages=3, max_pages_per_site=2)
    two = frontier(redis_server, redis_prefix, worker="two", max_pages=3, max_pages_per_site=2)
    assert one.push(b"1", fp("1"), "s1") == QUEUED
    assert two.push(b"2", fp("2"), "s1") == QUEUED
    assert one.push(b"3", fp("3"), "s1") == OVER_SITE_BUDGET
    assert two.push(b"4", fp("4"), "s2") == QUEUED
    assert one.push(b"5", fp("5"), "s3") == OVER_TOTAL_BUDGET
    assert one.queued() == 3


def test_fingerprints_expire_when_asked(redis_server, redis_prefix):
    f = frontier(redis_server, redis_prefix, seen_ttl=1)
    assert f.mark_seen([fp("x")]) == [False]
    assert f.mark_seen([fp("x")]) == [True]
    time.sleep(2.1)  # two generations later neither bitmap holds it
    assert f.mark_seen([fp("x")]) == [False]
    ttl = f.client.ttl(f.seen_keys()[0])
    assert 0 < ttl <= 2


@pytest.mark.slow
def test_duplicate_filter_memory_stays_bounded_on_a_million_urls(redis_server, redis_prefix):
    params = BloomParams.for_capacity(1_000_000, 1e-3)
    f = frontier(redis_server, redis_prefix, bloom=params)
    client = f.client
    before = int(client.info("memory")["used_memory"])
    batch = 20_000
    for start in range(0, 1_000_000, batch):
        f.mark_seen(fp(f"http://site{n % 5000}.onion/page/{n}") for n in range(start, start + batch))
    after = int(client.info("memory")["used_memory"])
    key_bytes = int(client.memory_usage(f.key("seen")))
    # the bitmap is allocated at its full size (plus Redis's string growth reserve, at most 1 MiB), whatever the number
    # of URLs
    assert params.bytes <= key_bytes <= params.bytes + 2**20 + 4096
    assert after - before <= params.bytes + 2 * 2**20, (before, after)
    # a plain Redis set of the same million SHA-1 fingerprints (scrapy-redis's filter) for comparison: 1/10 of them
    sample = f.key("set-sample")
    with client.pipeline(transaction=False) as pipe:
        for n in range(100_000):
            pipe.sadd(sample, hashlib.sha1(f"u{n}".encode()).hexdigest())
        pipe.execute()
    set_bytes_per_url = int(client.memory_usage(sample, samples=0)) / 100_000
    client.delete(sample)
    assert key_bytes / 1_000_000 < set_bytes_per_url / 10  # more than ten times smaller
    # the false-positive rate measured on URLs never added stays near the configured 1e-3
    probes = 50_000
    hits = sum(f.mark_seen(fp(f"http://fresh{n}.onion/") for n in range(probes)))
    assert hits / probes <= 2e-3, hits
    print(f"bloom 1M URLs: key {key_bytes} B, used_memory +{after - before} B, set {set_bytes_per_url:.0f} B/URL, "
          f"false positives {hits}/{probes}")
