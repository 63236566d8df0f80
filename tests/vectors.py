"""Official test vectors (crypto addresses, onions, PGP), copied from the team's shared vectors with their sources.

Each JSON file names its source; see tests/fixtures/vectors/README.md.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

VECTORS_DIR = Path(__file__).parent / "fixtures" / "vectors"


@cache
def load_vectors(name: str) -> dict[str, Any]:
    """Return the vectors file *name* (``"bitcoin"``, ``"onion"``...) as parsed JSON."""
    return json.loads((VECTORS_DIR / f"{name}.json").read_text(encoding="utf-8"))
