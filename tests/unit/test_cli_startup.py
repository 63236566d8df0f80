"""The CLI starts fast because it imports little: building the parser (``darkcrawl --help``) and running
``darkcrawl extract`` import none of Scrapy, Twisted, Elasticsearch's client, stem or Playwright; the subcommands that
need them import them when they run (docs/performance.md, "Startup"). Checked in a fresh interpreter each time."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("scrapy", "twisted", "elasticsearch", "elastic_transport", "stem", "playwright", "redis", "croniter")


def imported_after(code: str) -> list[str]:
    """The heavy top-level packages imported once *code* has run in a fresh interpreter."""
    script = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set({HEAVY!r}))
        print(json.dumps(loaded), file=sys.stderr)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stderr.strip().splitlines()[-1]))


def test_building_the_parser_imports_no_heavy_library() -> None:
    assert imported_after("""
        from crawler.cli import build_parser
        build_parser().format_help()
    """) == []


def test_help_imports_no_heavy_library() -> None:
    assert imported_after("""
        from crawler.cli import main
        try:
            main(["--help"])
        except SystemExit:
            pass
    """) == []


def test_extract_imports_no_heavy_library() -> None:
    assert imported_after(f"""
        from crawler.cli import main
        assert main(["extract", {str(REPO / "docs" / "examples" / "vendor-page.html")!r}, "--json"]) == 0
    """) == []


def test_the_check_can_fail() -> None:
    """A command that starts a crawl does import them: the check above sees what it looks for."""
    assert "scrapy" in imported_after("""
        from crawler.config import load_settings
        load_settings()
    """)
