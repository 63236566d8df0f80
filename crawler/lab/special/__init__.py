"""Special lab sites: onions with behaviour rather than fixed pages (docs/lab.md).

Each module here is one site named in :data:`crawler.lab.sites.SPECIAL_SITE_NAMES` and offers
``make_handler(onion_hosts: dict[str, str]) -> type[http.server.BaseHTTPRequestHandler]``; ``crawler.lab.serve`` runs
it in a ``ThreadingHTTPServer`` behind the site's onion. Rules for a special site:

* ``GET /`` answers 200 quickly with a small HTML index linking its cases (the lab's readiness check fetches it);
* every case is reachable at a fixed path, and documented in the module's docstring with what a crawler should do;
* nothing depends on the clock or unseeded randomness unless the case is about time (slow or endless responses).
* the handler builds on :class:`crawler.lab.handler.LabHandler` (nginx look, quiet, ``send_page``).

These sites are served by every lab but are not in the demo's seeds nor in the fixture sites' ground truth.
"""
