"""docs/schema.md and the mappings must agree: every mapped field is documented with its type, and every documented
field is mapped. Page fields are compared with the richer shape (language sub-fields documented as optional)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crawler.es.templates import KINDS, mapped_fields, mappings_for

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"
SECTIONS = {kind: f"### {kind.capitalize()} (`<prefix>-{kind}`)" for kind in KINDS}  # every kind has its section
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*([a-z_]+)\s*\|\s*(.+?)\s*\|\s*$")


def documented_fields(kind: str) -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(SECTIONS[kind])
    following = [text.find(heading, start + 1) for heading in ("\n### ", "\n## ")]
    end = min(position for position in following if position != -1)
    fields: dict[str, str] = {}
    for line in text[start:end].splitlines():
        match = ROW.match(line)
        if match:
            name, kind_of_field, meaning = match.groups()
            assert name not in fields, f"{name} documented twice"
            assert meaning.strip(), f"{name} has no meaning in docs/schema.md"
            fields[name] = kind_of_field
    return fields


@pytest.mark.parametrize("kind", sorted(SECTIONS))
def test_docs_and_mapping_agree(kind):
    mapped = mapped_fields(mappings_for(kind, language_analyzers=True))
    documented = documented_fields(kind)
    assert sorted(set(mapped) - set(documented)) == [], "mapped but not documented in docs/schema.md"
    assert sorted(set(documented) - set(mapped)) == [], "documented in docs/schema.md but not mapped"
    wrong = {name: (documented[name], mapped[name]) for name in mapped if documented[name] != mapped[name]}
    assert wrong == {}, "docs/schema.md type differs from the mapping (documented, mapped)"


def test_language_subfields_are_marked_optional_in_the_docs():
    text = DOC.read_text(encoding="utf-8")
    for line in text.splitlines():
        match = ROW.match(line)
        if match and match.group(1).endswith((".english", ".french", ".dutch", ".german", ".folded")):
            assert "only with the analysis plugin" in match.group(3), match.group(1)
