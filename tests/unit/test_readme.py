"""The README's configuration table is the one place each setting is documented: it must list every setting."""

import re
from pathlib import Path

from crawler.config import darkcrawl_defaults

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table():
    documented = set(re.findall(r"^\| `(DARKCRAWL_[A-Z0-9_]+)` \|", README, flags=re.MULTILINE))
    assert set(darkcrawl_defaults()) == documented


def test_readme_names_the_two_commands():
    assert "./setup.sh" in README and "darkcrawl demo" in README and ".venv/bin/pytest" in README
