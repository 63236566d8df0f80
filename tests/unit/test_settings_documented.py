"""Every ``DARKCRAWL_*`` setting has one default, in crawler/settings.py, and one row in the docs' settings tables (the
README's, "Configuration"). Read from the source: a setting the code names without a default or a row, a row
written twice, a reader carrying a second default, or a documented default that is not the real one fails here."""

import ast
import inspect
import re
from pathlib import Path

from crawler import settings as default_settings
from crawler.config import TEST_PREFIX, darkcrawl_defaults

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("crawler", "pipelines", "spiders")
SETTINGS_MODULE = ROOT / "crawler" / "settings.py"
# A whole name: "DARKCRAWL_TOR_*" (a family, in prose) and "DARKCRAWL_TEST_" (a prefix) are not names.
NAME = re.compile(r"\bDARKCRAWL_[A-Z0-9_]*[A-Z0-9]\b")
# The DARKCRAWL_ names in the code that are not settings, and what they are.
NOT_SETTINGS = {
    "DARKCRAWL_IDENTITY": "crawler/export/stix.py: the project's STIX identity id",
    "DARKCRAWL_SCRAPYD": "crawler/scheduling/dispatch.py: prefix of settings a Scrapyd job is not sent",
    "DARKCRAWL_METRICS": "crawler/scheduling/dispatch.py: prefix of settings a Scrapyd job is not sent",
    "DARKCRAWL_SCHEDULER": "crawler/scheduling/dispatch.py: prefix of settings a Scrapyd job is not sent",
}
# A settings-table row: its first cell is the setting's name and nothing else.
ROW = re.compile(r"^\|\s*`(DARKCRAWL_[A-Z0-9_]+)`\s*\|\s*(.*?)\s*\|", re.MULTILINE)
READERS = {"get", "getint", "getfloat", "getbool", "getlist", "getdict", "getwithbase"}


def source_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py") if path != SETTINGS_MODULE)


def names_in_code() -> dict[str, list[str]]:
    """Each DARKCRAWL_ name the code mentions (reads, messages, docstrings) -> where."""
    found: dict[str, list[str]] = {}
    for path in source_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name in NAME.findall(line):
                found.setdefault(name, []).append(f"{path.relative_to(ROOT)}:{number}")
    return found


def table_rows() -> dict[str, list[tuple[str, str]]]:
    """Each setting with a row in a table of README.md or docs/ -> (file, default cell) of each row."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for match in ROW.finditer(doc.read_text(encoding="utf-8")):
            rows.setdefault(match.group(1), []).append((str(doc.relative_to(ROOT)), match.group(2)))
    return rows


def test_the_scan_finds_the_settings_the_code_reads():
    named = names_in_code()
    # read by crawler/config.py's loader, a pipeline and the spider: the scan must see all three kinds
    assert {"DARKCRAWL_CONFIG", "DARKCRAWL_EXTRACT_ENABLED", "DARKCRAWL_FOLLOW_LINKS"} <= set(named)
    assert len(named) > 100


def test_every_setting_named_in_the_code_has_a_default():
    defaults = darkcrawl_defaults()
    missing = {
        name: places[:3]
        for name, places in names_in_code().items()
        if name not in defaults and name not in NOT_SETTINGS and not name.startswith(TEST_PREFIX)
    }
    assert not missing, f"named in the code, no default in crawler/settings.py (a typo, or add it there): {missing}"
    assert not set(NOT_SETTINGS) & set(defaults), "a name listed as not a setting is one now: drop it from the list"


def test_every_setting_has_exactly_one_row_in_the_docs_tables():
    rows = table_rows()
    defaults = darkcrawl_defaults()
    missing = sorted(set(defaults) - set(rows))
    twice = {name: [doc for doc, _ in found] for name, found in rows.items() if len(found) > 1}
    unknown = sorted(name for name in set(rows) - set(defaults) if not name.startswith(TEST_PREFIX))
    assert not missing, f"settings with no row in the README's table (Configuration): {missing}"
    assert not twice, f"settings documented in more than one table (keep the README's row, link to it): {twice}"
    assert not unknown, f"table rows for settings that do not exist: {unknown}"


def test_each_row_gives_the_real_default():
    wrong = {}
    for name, default in darkcrawl_defaults().items():
        for doc, cell in table_rows().get(name, []):
            if cell not in (f"`{default!r}`", "`(list: see crawler/settings.py)`"):
                wrong[name] = (doc, cell, repr(default))
    assert not wrong, f"documented defaults that are not crawler/settings.py's: {wrong}"


def test_no_reader_repeats_a_default():
    """``settings.getint("DARKCRAWL_X", 1000)`` would be a second default, silently diverging from the module's."""
    repeated = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in READERS or not (len(node.args) > 1 or node.keywords):
                continue
            if node.func.attr == "get" and not ast.unparse(node.func.value).endswith("settings"):
                continue  # a dict's or the environment's get
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and str(first.value).startswith("DARKCRAWL_"):
                repeated.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not repeated, f"read the one default (crawler/settings.py), not a second one: {repeated}"


def test_pure_extraction_defaults_are_the_settings_defaults():
    """pipelines/extract cannot import the settings module (it is used without Scrapy): its own defaults for direct
    callers must still be the settings' defaults."""
    from pipelines.extract.caps import DEFAULT_MAX_PER_KIND
    from pipelines.extract.language import DEFAULT_SAMPLE
    from pipelines.extract.pool import ExtractionPool

    assert default_settings.DARKCRAWL_LANGUAGE_SAMPLE == DEFAULT_SAMPLE
    assert default_settings.DARKCRAWL_EXTRACT_MAX_PER_KIND == DEFAULT_MAX_PER_KIND
    timeout = inspect.signature(ExtractionPool).parameters["timeout"].default
    assert default_settings.DARKCRAWL_EXTRACT_TIMEOUT == timeout
