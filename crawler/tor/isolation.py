"""Stream isolation: the SOCKS credentials that give each site its own Tor circuit.

Tor's ``IsolateSOCKSAuth`` (on by default for every SocksPort) puts streams with different SOCKS username/password on
different circuits. darkcrawl derives the username from the site, so one site always shares one circuit and two sites
never do; the password carries a *generation* that is bumped to move one site onto a fresh circuit after repeated
failures, without the global, rate-limited NEWNYM.

Offers: :func:`socks_credentials`, :func:`instance_index` (the isolation key itself is
:func:`crawler.identity.site_key`).
"""

from __future__ import annotations

import hashlib

from crawler.identity import site_key


def socks_credentials(host: str, generation: int = 0, secret: str = "") -> tuple[str, str]:
    """Return ``(username, password)`` for the site's SOCKS connections.

    The username is a hash of the site (plus *secret*, a per-deployment salt), so the local tor's logs and memory do not
    hold a list of crawled hosts in the clear. The password holds the circuit generation.
    """
    digest = hashlib.sha256(f"{secret}\x00{site_key(host)}".encode()).hexdigest()[:24]
    return f"s-{digest}", f"g{generation}"


def instance_index(host: str, instances: int) -> int:
    """Return which of *instances* tor processes serves *host*: a stable hash, the same in every crawl."""
    if instances <= 1:
        return 0
    digest = hashlib.sha256(site_key(host).encode()).digest()
    return int.from_bytes(digest[:8], "big") % instances
