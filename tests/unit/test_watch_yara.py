"""YARA watches: yara-x rules compiled at add (refused with the compiler's message), a hashed copy kept, matches
naming the rule."""

from __future__ import annotations

import pytest

from crawler.errors import UsageError
from crawler.watch.matchers import WatchSet
from crawler.watch.model import YARA
from crawler.watch.yara import yara_spec
from tests.unit.watch_support import page_doc, watch

RULES = """
rule drop_address {
    meta: description = "a drop address for goods bought with stolen cards"
    strings: $drop = /drop (address|adres)/ nocase
    condition: $drop
}
rule mule_recruitment {
    strings: $a = "money mule" nocase $b = "cash out" nocase
    condition: all of them
}
"""


@pytest.fixture
def rules_file(tmp_path):
    path = tmp_path / "fraud.yar"
    path.write_text(RULES)
    return path


def evaluate(spec, html):
    found = WatchSet.compile([watch(YARA, spec)]).evaluate(page_doc(html))
    return found[0].matches if found else []


def test_matches_name_the_rule_and_quote_the_text(rules_file, tmp_path):
    spec = yara_spec(rules_file, tmp_path / "rules")
    found = evaluate(spec, "<p>Need a money mule to cash out. Use my DROP ADDRESS in Lyon.</p>")
    assert {m["rule"] for m in found} == {"drop_address", "mule_recruitment"}
    drop = next(m for m in found if m["rule"] == "drop_address")
    assert drop["value"] == "DROP ADDRESS" and "Lyon" in drop["context"] and drop["kind"] == YARA


def test_no_match_no_fire(rules_file, tmp_path):
    assert evaluate(yara_spec(rules_file, tmp_path / "rules"), "<p>money mule wanted</p>") == []


def test_the_copy_is_what_the_crawl_compiles(rules_file, tmp_path):
    import hashlib
    from pathlib import Path

    spec = yara_spec(rules_file, tmp_path / "rules")
    assert spec["rules_sha256"] == hashlib.sha256(RULES.encode()).hexdigest()
    assert Path(spec["rules_copy"]).read_text() == RULES
    rules_file.write_text("rule other { condition: true }")  # editing the original changes nothing
    assert [m["rule"] for m in evaluate(spec, "<p>drop address</p>")] == ["drop_address"]


def test_a_changed_copy_is_refused_at_compile(rules_file, tmp_path):
    from pathlib import Path

    spec = yara_spec(rules_file, tmp_path / "rules")
    Path(spec["rules_copy"]).write_text("rule tampered { condition: true }")
    with pytest.raises(UsageError, match="changed since it was added"):
        WatchSet.compile([watch(YARA, spec)])


def test_compile_errors_are_refused_with_the_compilers_message(tmp_path):
    bad = tmp_path / "bad.yar"
    bad.write_text('rule broken {\n  strings: $a = "x"\n  condition: $b\n}\n')
    with pytest.raises(UsageError) as error:
        yara_spec(bad, tmp_path / "rules")
    message = str(error.value)
    assert "unknown pattern `$b`" in message and str(bad) in message and "\n" not in message
    assert not (tmp_path / "rules").exists() or not list((tmp_path / "rules").iterdir())


@pytest.mark.parametrize(("content", "reason"), [(None, "cannot read"), ("// only a comment\n", "no YARA rule"),
                                                 (b"\xff\xfe", "not UTF-8")])
def test_unusable_files_are_refused(tmp_path, content, reason):
    path = tmp_path / "rules.yar"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match=reason):
        yara_spec(path, tmp_path / "rules")


def test_several_yara_watches_share_one_scan(tmp_path):
    first, second = tmp_path / "a.yar", tmp_path / "b.yar"
    first.write_text('rule same_name { strings: $a = "alpha" condition: $a }')
    second.write_text('rule same_name { strings: $a = "beta" condition: $a }')
    a, b = watch(YARA, yara_spec(first, tmp_path / "r")), watch(YARA, yara_spec(second, tmp_path / "r"))
    found = WatchSet.compile([a, b]).evaluate(page_doc("<p>beta only</p>"))
    assert [match.watch.id for match in found] == [b.id]
