"""Onion hostnames of the fixture sites: the lab's real ones when known, else stable placeholders.

The lab creates its onion services at start, after the sites' code is written, so builders take an ``onion_hosts``
mapping (site name -> hostname). Without one, :func:`placeholder_onion` gives each site a VALID v3 hostname derived
from a fixed 32-byte "public key" (SHA-256 of the site name), per rend-spec-v3: base32(pubkey | checksum | version)
with checksum = SHA3-256(".onion checksum" | pubkey | version)[:2] and version 3.

Offers :func:`onion_from_key`, :func:`placeholder_onion` and :func:`resolve_hosts`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping

VERSION = b"\x03"


def onion_from_key(public_key: bytes) -> str:
    """Return the v3 onion hostname (56 chars + ``.onion``) of a 32-byte ed25519 public key. Raises ValueError."""
    if len(public_key) != 32:
        raise ValueError(f"a v3 onion key is 32 bytes, not {len(public_key)}")
    checksum = hashlib.sha3_256(b".onion checksum" + public_key + VERSION).digest()[:2]
    return base64.b32encode(public_key + checksum + VERSION).decode("ascii").lower() + ".onion"


def placeholder_onion(name: str) -> str:
    """The stable placeholder hostname of site *name* (valid v3, the same on every run)."""
    return onion_from_key(hashlib.sha256(f"darkcrawl lab fixture site {name}".encode()).digest())


def resolve_hosts(names: Iterable[str], onion_hosts: Mapping[str, str] | None) -> dict[str, str]:
    """Return site name -> hostname for *names*: from *onion_hosts* when it has the site, else the placeholder."""
    given = onion_hosts or {}
    return {name: (given.get(name) or placeholder_onion(name)).strip().lower() for name in names}
