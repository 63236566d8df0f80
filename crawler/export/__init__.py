"""Sharing alerts with partner services: a MISP feed or push, a STIX 2.1 bundle. Documented in docs/sharing.md.

* :mod:`crawler.export.source` -- the alerts the filters select, and their pages, read from Elasticsearch.
* :mod:`crawler.export.cases` -- alerts grouped into cases, and the values each carries (pure).
* :mod:`crawler.export.misp` -- MISP events (PyMISP), the feed directory, the push.
* :mod:`crawler.export.stix` -- the STIX 2.1 bundle, checked with stix2-validator.
* :func:`write_atomic` -- what every export file is written with.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write *text* beside *path*, fsync, then rename over it: a reader (MISP pulling the feed, a partner's tool)
    never sees half a file, and a failed export leaves the previous file whole. Raises OSError."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # what open() would have made: mkstemp's files are 0600
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0o077)
    os.umask(current)
    return current
