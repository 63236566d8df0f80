"""Fixture sites served as onion services by the Tor lab, generated deterministically from code (docs/lab.md).

Interface used by the lab, the benchmark and the tests:

* :data:`SITE_NAMES`: the lab's fixture sites, in a stable order (``market``, ``forum``, ``paste``, ``directory``,
  ``phishing``); :data:`BENCH_SITE_NAMES`: sites served only when asked (``bigmarket``, 2,000+ pages);
  :data:`SPECIAL_SITE_NAMES`: sites with behaviour rather than pages (hostile responses, JavaScript, slow or failing
  pages), each served by its own handler module ``crawler.lab.special.<name>`` (see :mod:`crawler.lab.special`). The
  lab serves them beside the fixture sites, but they are not part of the demo's seeds nor of the ground truth;
* :func:`build_site` ``(name, onion_hosts=None) -> Site``: the site's pages by path (query strings included, e.g.
  ``/listings?page=2``); *onion_hosts* maps site names to the lab's onion hostnames so that cross-site links
  resolve, else each site gets a stable, valid placeholder v3 hostname (:func:`placeholder_onion`);
* :class:`Site`, :class:`Page`; the ground truth of every page is in :mod:`crawler.lab.sites.truth`.

Every build returns the same bytes: no clock, no unseeded randomness.
"""

from __future__ import annotations

from collections.abc import Mapping

from .model import Built, Page, PageTruth, Site
from .onions import placeholder_onion, resolve_hosts

SITE_NAMES: tuple[str, ...] = ("market", "forum", "paste", "directory", "phishing")
BENCH_SITE_NAMES: tuple[str, ...] = ("bigmarket",)
ALL_SITE_NAMES: tuple[str, ...] = SITE_NAMES + BENCH_SITE_NAMES
# One entry per module in crawler/lab/special/; each answers GET / with 200 quickly (the lab's readiness check).
SPECIAL_SITE_NAMES: tuple[str, ...] = ("jsgate", "hostile", "inspect", "inspect2", "safety")

__all__ = [
    "ALL_SITE_NAMES",
    "BENCH_SITE_NAMES",
    "SITE_NAMES",
    "SPECIAL_SITE_NAMES",
    "Page",
    "PageTruth",
    "Site",
    "build_pages",
    "build_site",
    "placeholder_onion",
]


def build_pages(name: str, onion_hosts: Mapping[str, str] | None = None) -> dict[str, Built]:
    """Build site *name*; return path -> :class:`~crawler.lab.sites.model.Built` (page and its truth), in link order.
    Raises KeyError for an unknown name."""
    if name not in ALL_SITE_NAMES:
        raise KeyError(f"unknown fixture site {name!r}; known: {', '.join(ALL_SITE_NAMES)}")
    hosts = resolve_hosts(ALL_SITE_NAMES, onion_hosts)
    pages = _build(name, hosts)
    for built in pages.values():
        # Links within the site are relative; resolved against the page URL they name the site's own onion, as an
        # extractor given the URL reports it. The navigation comes first on every page, so the host is seen first.
        if built.page.content_type.startswith("text/html") and b'href="/' in built.page.body:
            if hosts[name] not in built.truth.onions:
                built.truth.onions.insert(0, hosts[name])
    return pages


def _build(name: str, hosts: Mapping[str, str]) -> dict[str, Built]:
    if name in ("market", "phishing"):
        from .market import build_market

        return build_market(name, hosts)
    if name == "forum":
        from .forum import build_forum

        return build_forum(hosts)
    if name == "paste":
        from .paste import build_paste

        return build_paste(hosts)
    if name == "directory":
        from .directory import build_directory

        return build_directory(hosts)
    from .bigmarket import build_bigmarket

    return build_bigmarket(hosts)


def build_site(name: str, onion_hosts: Mapping[str, str] | None = None) -> Site:
    """Return the fixture site called *name* (one of :data:`SITE_NAMES` or :data:`BENCH_SITE_NAMES`).

    *onion_hosts* (site name -> onion hostname) makes links to the other sites point at their real lab onions.
    Raises KeyError for an unknown name.
    """
    return Site(name=name, pages={path: built.page for path, built in build_pages(name, onion_hosts).items()})
