"""The CLI starts fast because it imports little: building the parser (``darkcrawl --help``) and running
``darkcrawl extract`` import none of Scrapy, Twisted, Elasticsearch's client, stem or Playwright; the subcommands that
need them import them when they run (docs/performance.md, "Startup"). Checked in a fresh interpreter each time."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

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


def commands_of(parser: Any) -> set[str]:
    [subparsers] = list(parser._subparsers._group_actions)
    return set(subparsers.choices)


def test_only_the_command_run_is_built_and_it_parses_as_in_the_whole_parser() -> None:
    from crawler.cli import COMMAND_MODULES, build_parser

    whole = build_parser()
    assert commands_of(whole) == set(COMMAND_MODULES)
    for argv, command in (
        (["extract", "page.html", "--json"], "extract"),
        (["-v", "--config", "c.toml", "lab", "status", "--no-fetch"], "lab"),
        (["--config=c.toml", "es", "status", "--json"], "es"),
        (["search", "escrow", "-n", "3"], "search"),
    ):
        parser = build_parser(argv)
        assert commands_of(parser) == {command}
        assert {key: value for key, value in vars(parser.parse_args(argv)).items() if key != "handler"} == {
            key: value for key, value in vars(whole.parse_args(argv)).items() if key != "handler"}
    for argv in (["--help"], ["--version"], [], ["extractt"], ["--conf", "c.toml", "extract"], ["-x", "extract"]):
        assert commands_of(build_parser(argv)) == set(COMMAND_MODULES), argv
