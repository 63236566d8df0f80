"""``darkcrawl kibana import|render``: darkcrawl's saved objects (data views, searches, dashboard) for Kibana 9.x.

Documented in deploy/README.md ("Kibana"). ``import`` posts them to Kibana's saved objects API; ``render`` writes the
NDJSON for an index prefix (``deploy/kibana/darkcrawl.ndjson`` is its default rendering).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_command_group
from crawler.errors import DarkcrawlError, UsageError
from crawler.redact import mask_url

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    actions = add_command_group(
        subparsers, "kibana",
        help="import darkcrawl's data views, saved searches and dashboard into Kibana",
        description="Kibana saved objects for analysts: data views of the read aliases, saved searches, a dashboard.",
    )
    importing = add_command(
        actions, "import", run_import, help="import the saved objects through Kibana's API",
        description="POST the saved objects to Kibana (/api/saved_objects/_import). Credentials and CA file come "
        "from DARKCRAWL_KIBANA_API_KEY or _USERNAME/_PASSWORD, and DARKCRAWL_KIBANA_CA_CERTS.",
    )
    importing.add_argument("--url", help="Kibana's base URL, e.g. https://kibana.example:5601 (DARKCRAWL_KIBANA_URL)")
    importing.add_argument("--space", help="Kibana space id (default: DARKCRAWL_KIBANA_SPACE, else the default space)")
    importing.add_argument("--prefix", help="index prefix the objects read (default: DARKCRAWL_ES_INDEX_PREFIX)")
    importing.add_argument("--overwrite", action="store_true", help="replace objects that already exist")
    render = add_command(actions, "render", run_render,
                         help="write the saved objects as NDJSON (for Kibana's UI import)")
    render.add_argument("--prefix", help="index prefix the objects read (default: DARKCRAWL_ES_INDEX_PREFIX)")
    render.add_argument("-o", "--output", help="file to write (default: standard output)")


def _ndjson(args: argparse.Namespace, settings: BaseSettings) -> tuple[str, str]:
    from crawler.es.schema import index_names
    from crawler.kibana.objects import render_ndjson

    if args.prefix:
        settings.set("DARKCRAWL_ES_INDEX_PREFIX", args.prefix, priority="cmdline")
    prefix = index_names(settings).prefix  # validates the prefix
    return prefix, render_ndjson(prefix)


def run_render(args: argparse.Namespace, settings: BaseSettings) -> int:
    _prefix, text = _ndjson(args, settings)
    if not args.output:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"{text.count(chr(10))} saved objects written to {args.output}")
    return 0


def run_import(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.kibana.importer import KibanaConfig, import_objects

    config = KibanaConfig.from_settings(settings, url=args.url, space=args.space)
    prefix, text = _ndjson(args, settings)
    total = text.count("\n")
    space = config.space or "default"
    print(f"importing {total} saved objects for indices {prefix}-* into Kibana {mask_url(config.url)} (space {space})",
          flush=True)
    result = import_objects(config, text, overwrite=args.overwrite, filename=f"{prefix}.ndjson")
    if result.success:
        print(f"Kibana imported {result.success_count} of {total} objects: open the dashboard 'darkcrawl overview'")
        return 0
    for line in result.error_lines():
        print(f"  {line}", file=sys.stderr)
    raise DarkcrawlError(
        f"Kibana imported {result.success_count} of {total} objects; {len(result.errors)} refused (listed above)"
    )
