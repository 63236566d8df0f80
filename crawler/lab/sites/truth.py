"""Ground truth of the fixture sites: what every page contains, from the same constants and the same rendering calls
that build the pages (each signal is recorded by the helper that writes it, see :class:`~.model.Doc`).

Offers :func:`expected_signals` (per page: crypto addresses with currency, PGP fingerprints, e-mails, handles, vendor
names, language, onions and onion links) and :func:`all_pages` (every path of every site, for "each fixture page
indexed exactly once"). Extraction tests compare their output with :func:`expected_signals`; crawl tests build URLs as
``f"http://{onion_hosts[name]}{path}"``.

The dict of one page::

    {"language": "fr",
     "crypto_addresses": [{"currency": "XMR", "address": "84Loo..."}],
     "pgp_fingerprints": ["7285...A735"],          # full v4 fingerprints, upper case
     "emails": ["lechimiste@example.net"],          # normalised: lower case, obfuscation undone
     "handles": [{"network": "xmpp", "handle": "lechimiste@xmpp.example.org"}, ...],
     "vendors": ["lechimiste"],                     # named by a "Sold by"-style label or a /vendor/<name> link
     "authors": [],                                 # forum members linked as authors (/user/<name>)
     "onions": ["<own host>", "<forum host>"],      # every onion host the page names, in links or text;
                                                    # its own host when it has same-site (relative) links
     "onion_links": ["http://<forum host>/", ...]}  # absolute URLs of its <a href> links to other onions

Lists hold each value once, in the order the page first shows it. Strings the page shows but that are NOT valid
(the paste site's junk paste, :data:`~.paste.JUNK_STRINGS`) appear nowhere here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import SITE_NAMES, build_pages


def expected_signals(name: str, onion_hosts: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """Return path -> the signals page *path* of site *name* contains (see the module docstring for the shape).
    Raises KeyError for an unknown site."""
    return {path: built.truth.to_dict() for path, built in build_pages(name, onion_hosts).items()}


def all_pages(
    onion_hosts: Mapping[str, str] | None = None, names: Iterable[str] = SITE_NAMES
) -> dict[str, list[str]]:
    """Return site name -> every URL path it serves (query strings included), for each site in *names*
    (default: the lab's :data:`~crawler.lab.sites.SITE_NAMES`). Every one is reachable from ``/`` by links."""
    return {name: list(build_pages(name, onion_hosts)) for name in names}
