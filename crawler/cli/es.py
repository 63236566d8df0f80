"""``darkcrawl es``: not built yet."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("es", help="(not built yet)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Any) -> int:
    raise SystemExit("darkcrawl es: not built yet")
