"""Screenshots of rendered pages, kept beside the crawl output (never in Elasticsearch).

Offers :func:`screenshot_path` and :func:`store_screenshot`. Files live in ``<data dir>/screenshots/<crawl id>/``, one
PNG per page named by the page document's id (SHA-256 of the URL), written whole (temporary file, then rename), owner
read/write only; the page document records the path and the PNG's SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from crawler.identity import page_id
from crawler.paths import ensure_private_dir

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def screenshot_path(directory: Path, crawl_id: str, url: str) -> Path:
    """Where the screenshot of *url* in crawl *crawl_id* is stored."""
    name = _SAFE.sub("_", crawl_id)[:64].lstrip(".") or "crawl"  # never "..": the file stays in *directory*
    return directory / name / f"{page_id(url)}.png"


def store_screenshot(directory: Path, crawl_id: str, url: str, png: bytes) -> tuple[Path, str]:
    """Write *png* for *url*; return ``(path, sha256 hex of the bytes)``. Blocking: run it off the reactor."""
    path = screenshot_path(directory, crawl_id, url)
    ensure_private_dir(directory)
    ensure_private_dir(path.parent)
    temporary = path.with_suffix(".png.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as output:
        output.write(png)
    os.replace(temporary, path)
    return path, hashlib.sha256(png).hexdigest()
