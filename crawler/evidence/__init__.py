"""Evidence: what was fetched, kept byte for byte in WARC files, and a manifest that lets anyone verify them later.

Off by default (``DARKCRAWL_WARC_ENABLED``). Documentation: docs/evidence.md.

* :mod:`crawler.evidence.warc` -- the WARC writer: rotating gzip files, SHA-256 digests, Tor identity metadata.
* :mod:`crawler.evidence.middleware` -- the Scrapy downloader middleware that records every exchange, off the loop.
* :mod:`crawler.evidence.manifest` -- the per-run manifest, its verification, and export of one record.
"""

from crawler.errors import DarkcrawlError


class EvidenceMismatch(DarkcrawlError):
    """Stored evidence does not match its recorded hash (a file changed, or is missing)."""

    exit_code = 1
