"""The shared frontier in Redis: one request queue with leases, one Bloom duplicate filter, crawl budgets, and the
workers' heartbeats, each change made by one atomic Lua script.

Why leases: scrapy-redis pops a request destructively, so a worker killed mid-download loses it. Here a pop moves the
request into a lease held by the popping worker; the worker acknowledges it once everything that came from it is safe
(children queued, page stored), and a worker whose heartbeat key expired has its leases put back in the queue by any
other worker (:meth:`Frontier.reap`). Delivery is at least once: a request is fetched twice only when its worker died
after storing the page and before acknowledging.

Keys, under ``DARKCRAWL_REDIS_PREFIX`` (one standalone Redis: the scripts touch keys they compute, so no Cluster):

=====================  ==========  ===============================================================================
``P:queue``            zset        request id -> score (``-priority``); ties in id order, so FIFO within a priority
``P:requests``         hash        request id -> the serialized request (queued or leased)
``P:seq``              string      the last request id issued
``P:leases``           hash        leased request id -> ``"<worker> <score>"``
``P:held:<worker>``    set         the request ids a worker holds
``P:workers``          set         workers that hold or held leases
``P:alive:<worker>``   string      the worker's heartbeat, expires after ``DARKCRAWL_REDIS_LEASE_TIMEOUT``
``P:seen[:<gen>]``     string      the Bloom filter bitmap (one per time generation when fingerprints expire)
``P:budget:sites``     hash        site -> requests queued for it (``DARKCRAWL_MAX_PAGES_PER_SITE``)
``P:budget:total``     string      requests queued in all (``DARKCRAWL_MAX_PAGES``)
``P:sites``            set         the seed sites (links are followed within them)
=====================  ==========  ===============================================================================

Offers: :class:`Frontier`, :class:`FrontierStatus`, :func:`redis_client`, :data:`QUEUED` and the other push results.
"""

from __future__ import annotations

import os
import socket
import struct
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from scrapy.settings import BaseSettings

from crawler.errors import ServiceError, UsageError
from crawler.frontier.bloom import BloomParams, positions
from crawler.redact import mask_url

# Results of Frontier.push
DUPLICATE, QUEUED, OVER_SITE_BUDGET, OVER_TOTAL_BUDGET = 0, 1, 2, 3
PUSH_RESULTS = {DUPLICATE: "duplicate", QUEUED: "queued", OVER_SITE_BUDGET: "max_pages_per_site",
                OVER_TOTAL_BUDGET: "max_pages"}

# Lua functions the scripts share: the one way a lease is taken back from its worker and read. A lease is
# ``"<worker> <score>"`` in ``P:leases``, and its id is in ``P:held:<worker>``.
LEASES = """
local function take_lease(leases, held, worker, id)
  local lease = redis.call('HGET', leases, id)
  if lease and string.sub(lease, 1, #worker + 1) == worker .. ' ' then
    redis.call('HDEL', leases, id)
    redis.call('SREM', held, id)
    return lease
  end
  return false
end
local function lease_score(lease)
  return string.sub(lease, string.find(lease, ' ', 1, true) + 1)
end
"""

# KEYS: queue, requests, seq, budget:sites, budget:total, seen(current), seen(previous), leases, held(worker)
# ARGV: payload, score, site, max per site, max total, filter (1/0), transfer lease id, seen expiry s, count budget
#       (1/0), worker, positions...
PUSH = LEASES + """
local function finish_transfer()
  if ARGV[7] ~= '' and take_lease(KEYS[8], KEYS[9], ARGV[10], ARGV[7]) then redis.call('HDEL', KEYS[2], ARGV[7]) end
end
if ARGV[6] == '1' then
  local seen = true
  for i = 11, #ARGV do
    if redis.call('GETBIT', KEYS[6], ARGV[i]) == 0 then seen = false break end
  end
  if not seen and KEYS[7] ~= KEYS[6] then
    seen = true
    for i = 11, #ARGV do
      if redis.call('GETBIT', KEYS[7], ARGV[i]) == 0 then seen = false break end
    end
  end
  if seen then finish_transfer() return 0 end
end
if ARGV[9] == '1' then
  local max_total = tonumber(ARGV[5])
  local max_site = tonumber(ARGV[4])
  if max_total > 0 and tonumber(redis.call('GET', KEYS[5]) or '0') >= max_total then finish_transfer() return 3 end
  if max_site > 0 and tonumber(redis.call('HGET', KEYS[4], ARGV[3]) or '0') >= max_site then
    finish_transfer() return 2
  end
  redis.call('INCR', KEYS[5])
  redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
end
if ARGV[6] == '1' then
  for i = 11, #ARGV do redis.call('SETBIT', KEYS[6], ARGV[i], 1) end
  if tonumber(ARGV[8]) > 0 then redis.call('EXPIRE', KEYS[6], ARGV[8], 'NX') end
end
local id = string.format('%016x', redis.call('INCR', KEYS[3]))
redis.call('HSET', KEYS[2], id, ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], id)
finish_transfer()
return 1
"""

# KEYS: seen(current), seen(previous). ARGV: expiry s, k, the positions of the fingerprints packed as big-endian
# uint32, k per fingerprint (one argument: far cheaper to send than thousands). Returns, per fingerprint, 1 when every
# bit was set already (seen), else 0 (and sets them).
SEEN = """
local k = tonumber(ARGV[2])
local packed = ARGV[3]
local count = #packed / 4 / k
local out = {}
local at = 1
for n = 1, count do
  local bits = {}
  for i = 1, k do bits[i], at = struct.unpack('>I4', packed, at) end
  local seen = 1
  for i = 1, k do
    if redis.call('GETBIT', KEYS[1], bits[i]) == 0 then seen = 0 break end
  end
  if seen == 0 and KEYS[2] ~= KEYS[1] then
    seen = 1
    for i = 1, k do
      if redis.call('GETBIT', KEYS[2], bits[i]) == 0 then seen = 0 break end
    end
  end
  if seen == 0 then
    for i = 1, k do redis.call('SETBIT', KEYS[1], bits[i], 1) end
  end
  out[n] = seen
end
return out
"""

# KEYS: queue, requests, leases, held(worker), workers. ARGV: worker, how many
POP = """
local out = {}
for n = 1, tonumber(ARGV[2]) do
  local item = redis.call('ZPOPMIN', KEYS[1])
  if #item == 0 then break end
  local id = item[1]
  redis.call('HSET', KEYS[3], id, ARGV[1] .. ' ' .. item[2])
  redis.call('SADD', KEYS[4], id)
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[2], id)
end
if #out > 0 then redis.call('SADD', KEYS[5], ARGV[1]) end
return out
"""

# KEYS: requests, leases, held(worker). ARGV: worker, lease ids. Only the worker's own leases: one that was re-queued
# (its worker was thought dead) and leased again belongs to another worker now.
ACK = LEASES + """
local done = 0
for i = 2, #ARGV do
  if take_lease(KEYS[2], KEYS[3], ARGV[1], ARGV[i]) then
    redis.call('HDEL', KEYS[1], ARGV[i])
    done = done + 1
  end
end
return done
"""

# KEYS: queue, leases, held(worker). ARGV: worker, lease ids. Puts the worker's leased requests back in the queue at
# their old place.
RELEASE = LEASES + """
local moved = 0
for i = 2, #ARGV do
  local lease = take_lease(KEYS[2], KEYS[3], ARGV[1], ARGV[i])
  if lease then
    redis.call('ZADD', KEYS[1], lease_score(lease), ARGV[i])
    moved = moved + 1
  end
end
return moved
"""

# KEYS: queue, leases, workers. ARGV: key prefix. Re-queues the leases of every worker whose heartbeat expired.
REAP = LEASES + """
local moved = 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('EXISTS', ARGV[1] .. ':alive:' .. worker) == 0 then
    local held = ARGV[1] .. ':held:' .. worker
    for _, id in ipairs(redis.call('SMEMBERS', held)) do
      local lease = redis.call('HGET', KEYS[2], id)
      if lease then
        redis.call('ZADD', KEYS[1], lease_score(lease), id)
        redis.call('HDEL', KEYS[2], id)
        moved = moved + 1
      end
    end
    redis.call('DEL', held)
    redis.call('SREM', KEYS[3], worker)
  end
end
return moved
"""


def redis_client(url: str) -> Any:
    """A connected redis client for *url*. Raises ServiceError (unreachable) or UsageError (not a Redis URL)."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10, retry_on_timeout=True)
    except ValueError as exc:
        raise UsageError(
            f"DARKCRAWL_REDIS_URL {mask_url(url)!r} is not a Redis URL ({exc}); example: redis://127.0.0.1:6379/0"
        ) from None
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ServiceError(
            f"Redis at {mask_url(url)} does not answer ({exc}): start redis-server or fix DARKCRAWL_REDIS_URL"
        ) from None
    return client


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class FrontierStatus:
    """What ``darkcrawl worker --status`` prints."""

    queued: int
    leased: int
    workers_alive: list[str]
    workers_dead: list[str]
    seen_bits_set: int
    bloom: BloomParams
    bloom_keys: dict[str, int] = field(default_factory=dict)  # key -> bytes in memory
    sites: int = 0
    used_memory: int = 0

    def as_dict(self) -> dict[str, Any]:
        fill = self.seen_bits_set / self.bloom.bits if self.bloom.bits else 0.0
        return {
            "queued": self.queued,
            "leased": self.leased,
            "workers_alive": self.workers_alive,
            "workers_dead": self.workers_dead,
            "sites": self.sites,
            "bloom": {
                "capacity": self.bloom.capacity,
                "error_rate": self.bloom.error_rate,
                "bits": self.bloom.bits,
                "hashes": self.bloom.hashes,
                "bits_set": self.seen_bits_set,
                "fill": round(fill, 6),
                "keys": self.bloom_keys,
            },
            "redis_used_memory": self.used_memory,
        }


class Frontier:
    """One shared frontier: every method is one or a few Redis round trips (sub-millisecond on a LAN)."""

    def __init__(
        self,
        client: Any,
        prefix: str,
        bloom: BloomParams,
        worker_id: str | None = None,
        lease_timeout: float = 60.0,
        seen_ttl: int = 0,
        max_pages: int = 0,
        max_pages_per_site: int = 0,
    ):
        self.client = client
        self.prefix = prefix
        self.bloom = bloom
        self.worker_id = worker_id or new_worker_id()
        self.lease_timeout = lease_timeout
        self.seen_ttl = seen_ttl
        self.max_pages = max_pages
        self.max_pages_per_site = max_pages_per_site
        self._allocated: set[str] = set()
        self._push = client.register_script(PUSH)
        self._seen = client.register_script(SEEN)
        self._pop = client.register_script(POP)
        self._ack = client.register_script(ACK)
        self._release = client.register_script(RELEASE)
        self._reap = client.register_script(REAP)

    @classmethod
    def from_settings(cls, settings: BaseSettings, worker_id: str | None = None) -> Frontier:
        """The frontier named by the settings. Raises UsageError (bad settings) or ServiceError (Redis away)."""
        url = settings.get("DARKCRAWL_REDIS_URL")
        if not url:
            raise UsageError("DARKCRAWL_REDIS_URL is not set: the distributed frontier needs a Redis server")
        try:
            bloom = BloomParams.for_capacity(
                settings.getint("DARKCRAWL_REDIS_BLOOM_CAPACITY"), settings.getfloat("DARKCRAWL_REDIS_BLOOM_ERROR_RATE")
            )
        except ValueError as exc:
            raise UsageError(f"DARKCRAWL_REDIS_BLOOM_CAPACITY/_ERROR_RATE: {exc}") from None
        return cls(
            redis_client(url),
            settings.get("DARKCRAWL_REDIS_PREFIX"),
            bloom,
            worker_id=worker_id or settings.get("DARKCRAWL_WORKER_ID") or None,
            lease_timeout=settings.getfloat("DARKCRAWL_REDIS_LEASE_TIMEOUT"),
            seen_ttl=settings.getint("DARKCRAWL_REDIS_FINGERPRINT_TTL"),
            max_pages=settings.getint("DARKCRAWL_MAX_PAGES"),
            max_pages_per_site=settings.getint("DARKCRAWL_MAX_PAGES_PER_SITE"),
        )

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def seen_keys(self, now: float | None = None) -> tuple[str, str]:
        """The Bloom bitmaps to test: (current, previous). Without expiry both are ``P:seen``.

        The current bitmap is created at its full size on first use (``SET NX`` of zero bytes), so Redis allocates
        it once and exactly, instead of growing it (with a growth reserve) as higher bits get set."""
        if self.seen_ttl <= 0:
            current = previous = self.key("seen")
        else:
            generation = int((time.time() if now is None else now) // self.seen_ttl)
            current, previous = self.key("seen", str(generation)), self.key("seen", str(generation - 1))
        if current not in self._allocated:
            expiry = 2 * self.seen_ttl if self.seen_ttl > 0 else None
            self.client.set(current, bytes(self.bloom.bytes), nx=True, ex=expiry)
            self._allocated.add(current)
        return current, previous

    # --- the duplicate filter alone ---------------------------------------------------------------------------------
    def mark_seen(self, fingerprints: Iterable[bytes]) -> list[bool]:
        """Add fingerprints to the Bloom filter (one script call per 2,000); for each, whether it was seen before."""
        current, previous = self.seen_keys()
        expiry = 2 * self.seen_ttl if self.seen_ttl > 0 else 0
        results: list[bool] = []
        chunk: list[int] = []

        def flush() -> None:
            packed = struct.pack(f">{len(chunk)}I", *chunk)
            answers = self._seen(keys=[current, previous], args=[expiry, self.bloom.hashes, packed])
            results.extend(bool(answer) for answer in answers)
            chunk.clear()

        for fp in fingerprints:
            chunk.extend(positions(fp, self.bloom))
            if len(chunk) >= 2000 * self.bloom.hashes:
                flush()
        if chunk:
            flush()
        return results

    # --- the queue -----------------------------------------------------------------------------------------------
    def push(
        self,
        payload: bytes,
        fingerprint: bytes,
        site: str,
        priority: int = 0,
        dont_filter: bool = False,
        transfer: str | None = None,
    ) -> int:
        """Queue a serialized request unless its fingerprint was seen or a budget is spent; return a push result.

        *transfer* names a lease of this worker that this request continues (a retry, a redirect): it is acknowledged
        in the same script, so the request is never in neither place."""
        current, previous = self.seen_keys()
        result = self._push(
            keys=[
                self.key("queue"), self.key("requests"), self.key("seq"), self.key("budget", "sites"),
                self.key("budget", "total"), current, previous, self.key("leases"), self.key("held", self.worker_id),
            ],
            args=[
                payload, -priority, site, self.max_pages_per_site, self.max_pages, 0 if dont_filter else 1,
                transfer or "", 2 * self.seen_ttl if self.seen_ttl > 0 else 0,
                1 if not dont_filter and transfer is None else 0,
                self.worker_id,
                *positions(fingerprint, self.bloom),
            ],
        )
        return int(result)

    def pop(self, count: int = 1) -> list[tuple[str, bytes]]:
        """Lease up to *count* requests to this worker; return ``(lease id, serialized request)`` pairs."""
        flat = self._pop(
            keys=[self.key("queue"), self.key("requests"), self.key("leases"), self.key("held", self.worker_id),
                  self.key("workers")],
            args=[self.worker_id, count],
        )
        pairs = []
        for index in range(0, len(flat), 2):
            lease_id = flat[index].decode() if isinstance(flat[index], bytes) else str(flat[index])
            pairs.append((lease_id, flat[index + 1]))
        return pairs

    def ack(self, lease_ids: Iterable[str]) -> int:
        """Done with these leases of this worker: the requests are forgotten. Returns how many were its own."""
        return self._end_leases(self._ack, self.key("requests"), lease_ids)

    def release(self, lease_ids: Iterable[str]) -> int:
        """Put this worker's leases back in the queue (a graceful stop with requests not done)."""
        return self._end_leases(self._release, self.key("queue"), lease_ids)

    def _end_leases(self, script: Any, where: str, lease_ids: Iterable[str]) -> int:
        """Run ACK or RELEASE (KEYS: *where*, leases, held(worker); ARGV: worker, ids) on those of *lease_ids* this
        worker still holds; return how many."""
        ids = list(lease_ids)
        if not ids:
            return 0
        keys = [where, self.key("leases"), self.key("held", self.worker_id)]
        return int(script(keys=keys, args=[self.worker_id, *ids]))

    def reap(self) -> int:
        """Re-queue the leases of workers whose heartbeat expired; return how many requests went back."""
        return int(self._reap(keys=[self.key("queue"), self.key("leases"), self.key("workers")], args=[self.prefix]))

    def heartbeat(self) -> None:
        """Say this worker is alive for ``lease_timeout`` seconds more."""
        with self.client.pipeline() as pipe:
            pipe.set(self.key("alive", self.worker_id), str(time.time()), px=max(int(self.lease_timeout * 1000), 1))
            pipe.sadd(self.key("workers"), self.worker_id)
            pipe.execute()

    def leave(self) -> None:
        """This worker stops: release what it holds and remove its heartbeat."""
        held = [member.decode() for member in self.client.smembers(self.key("held", self.worker_id))]
        self.release(held)
        with self.client.pipeline() as pipe:
            pipe.delete(self.key("alive", self.worker_id))
            pipe.srem(self.key("workers"), self.worker_id)
            pipe.execute()

    def queued(self) -> int:
        return int(self.client.zcard(self.key("queue")))

    def leased(self) -> int:
        return int(self.client.hlen(self.key("leases")))

    def finished(self) -> bool:
        """Nothing queued and nothing leased anywhere: no worker can produce more work."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.zcard(self.key("queue"))
            pipe.hlen(self.key("leases"))
            queued, leased = pipe.execute()
        return int(queued) == 0 and int(leased) == 0

    # --- seed sites ----------------------------------------------------------------------------------------------
    def add_sites(self, sites: Iterable[str]) -> None:
        sites = list(sites)
        if sites:
            self.client.sadd(self.key("sites"), *sites)

    def sites(self) -> set[str]:
        return {member.decode() for member in self.client.smembers(self.key("sites"))}

    # --- operations ----------------------------------------------------------------------------------------------
    def status(self) -> FrontierStatus:
        workers = sorted(member.decode() for member in self.client.smembers(self.key("workers")))
        alive = [worker for worker in workers if self.client.exists(self.key("alive", worker))]
        bloom_keys = {}
        bits_set = 0
        for name in self.client.scan_iter(match=self.key("seen") + "*"):
            name = name.decode()
            bloom_keys[name] = int(self.client.memory_usage(name) or 0)
            bits_set += int(self.client.bitcount(name))
        return FrontierStatus(
            queued=self.queued(),
            leased=self.leased(),
            workers_alive=alive,
            workers_dead=[worker for worker in workers if worker not in alive],
            seen_bits_set=bits_set,
            bloom=self.bloom,
            bloom_keys=bloom_keys,
            sites=int(self.client.scard(self.key("sites"))),
            used_memory=int(self.client.info("memory").get("used_memory", 0)),
        )

    def reset(self) -> int:
        """Delete every key of this frontier (queue, leases, filter, budgets, sites); return how many."""
        names = list(self.client.scan_iter(match=self.prefix + ":*"))
        if names:
            self.client.delete(*names)
        return len(names)
