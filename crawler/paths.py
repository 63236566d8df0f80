"""Where darkcrawl keeps its files: one data directory, created owner-only (mode 0700)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a bottom module: read by commands that never import Scrapy (darkcrawl extract)
    from scrapy.settings import BaseSettings


def data_dir(settings: BaseSettings | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """Return the data directory: ``DARKCRAWL_DATA_DIR``, else ``$XDG_DATA_HOME/darkcrawl``, else ``~/.local/share``."""
    environ = os.environ if environ is None else environ
    configured = (settings.get("DARKCRAWL_DATA_DIR") if settings is not None else None) or environ.get(
        "DARKCRAWL_DATA_DIR", ""
    )
    if configured:
        return Path(configured).expanduser()
    xdg = environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "darkcrawl"


def ensure_private_dir(path: Path) -> Path:
    """Create *path* (and parents) if needed and make it readable by its owner only; return it."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path
