"""Fixture sites served as onion services by the Tor lab: generated deterministically from code.

Interface used by the lab and the tests:

* ``SITE_NAMES``: the names of the lab's fixture sites, in a stable order.
* ``build_site(name) -> Site``: the site's pages, by path.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Site:
    name: str
    pages: dict[str, Page] = field(default_factory=dict)  # path ("/", "/vendor/x") -> page


SITE_NAMES: tuple[str, ...] = ("placeholder",)


def build_site(name: str) -> Site:
    """Return the fixture site called *name*. Raises KeyError for an unknown name."""
    if name not in SITE_NAMES:
        raise KeyError(f"unknown fixture site {name!r}; known: {', '.join(SITE_NAMES)}")
    return Site(name=name, pages={"/": Page(b"<html><head><title>placeholder</title></head><body>lab</body></html>")})
