"""``darkcrawl watch`` through crawler.cli.main, on a temporary data directory: add every kind, list, show, pause,
resume, remove, test on a saved page; bad input is one line and exit 2; secrets never printed."""

from __future__ import annotations

import json

import pytest

from crawler.cli import main
from crawler.lab.sites import build_pages

SECRET_TARGET = "mailto://alice:Sup3rSecret@mail.example.org?to=soc@example.org"


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DARKCRAWL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DARKCRAWL_CONFIG", raising=False)

    def run(*argv):
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def add(cli, *argv):
    code, out, err = cli("watch", "add", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def saved_page(tmp_path):
    path = tmp_path / "product.html"
    path.write_bytes(build_pages("phishing")["/product/101"].page.body)
    return path


def test_add_every_kind_then_list(cli, tmp_path):
    rules = tmp_path / "r.yar"
    rules.write_text('rule direct_deal { strings: $a = "direct deal address" nocase condition: $a }')
    added = [
        add(cli, "cards", "--kind", "term", "--term", "carte bancaire", "--term", "CVV", "--language", "fr",
            "--severity", "high", "--tag", "fraud", "--target", SECRET_TARGET, "--realert", "1h", "--digest", "0"),
        add(cli, "iban", "--kind", "regex", "--pattern", r"\bNL\d{2}[A-Z]{4}\d{10}\b"),
        add(cli, "deal", "--kind", "yara", "--rules", str(rules)),
        add(cli, "staff key", "--kind", "entity", "--value", "1AF0 1427 7026 9292 1CA9  A61D 6EF4 0112 DD9A 2FAA"),
        add(cli, "clones", "--kind", "clone", "--site",
            "jrnzwp6h2bk7icvkox6txld4void7iviijha6xcnpo2trscoav3zf4ad.onion", "--max-distance", "5"),
        add(cli, "new card shops", "--kind", "new-site", "--category", "fraud/carding", "--paused"),
    ]
    assert added[0]["realert_seconds"] == 3600 and added[0]["digest_seconds"] == 0
    assert added[0]["targets"] == ["mailto://alice:***@mail.example.org?to=***"]
    assert added[3]["spec"] == {"entity_kind": "pgp_fingerprint", "value": "1AF01427702692921CA9A61D6EF40112DD9A2FAA"}
    assert added[4]["spec"]["max_distance"] == 5 and added[5]["state"] == "paused"
    code, out, _err = cli("watch", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and [w["id"] for w in listed] == [w["id"] for w in added]
    code, out, _err = cli("watch", "list")
    assert code == 0 and len(out.splitlines()) == 6 and "Sup3rSecret" not in out
    code, out, _err = cli("watch", "show", "cards")
    assert code == 0 and "mailto://alice:***@" in out and "Sup3rSecret" not in out and "1h" in out


def test_pause_resume_remove(cli):
    watch_id = add(cli, "cvv", "--kind", "term", "--term", "cvv")["id"]
    assert cli("watch", "pause", watch_id)[1].strip().endswith("paused (cvv)")
    assert json.loads(cli("watch", "show", watch_id, "--json")[1])["state"] == "paused"
    assert cli("watch", "resume", "cvv")[0] == 0
    assert json.loads(cli("watch", "show", watch_id, "--json")[1])["state"] == "active"
    assert cli("watch", "remove", watch_id)[0] == 0
    code, _out, err = cli("watch", "show", watch_id)
    assert code == 2 and "no watch" in err


def test_test_on_a_saved_page_says_what_would_fire(cli, saved_page, tmp_path):
    fires = add(cli, "escrow", "--kind", "regex", "--pattern", r"(?i)pay\s+through\s+\w+")["id"]
    silent = add(cli, "iban", "--kind", "term", "--term", "IBAN")["id"]
    code, out, _err = cli("watch", "test", fires, str(saved_page), "--json")
    result = json.loads(out)
    assert code == 0 and result["fires"] and result["matches"][0]["value"] == "Pay through escrow"
    assert result["page"]["title"].startswith("Premium VPN account")
    code, out, _err = cli("watch", "test", silent, str(saved_page))
    assert code == 0 and "would not fire" in out
    code, out, _err = cli("watch", "test", fires, str(saved_page))
    assert "would fire: 1 match(es)" in out and "Pay through escrow" in out
    with pytest.raises(SystemExit) as exit_:  # neither FILE nor --url: argparse's usage error
        cli("watch", "test", fires)
    assert exit_.value.code == 2


@pytest.mark.parametrize(("argv", "message"), [
    (["x", "--kind", "term", "--term", "a", "--realert", "6"], "needs a unit"),
    (["x", "--kind", "term", "--term", "a", "--digest", "soon"], "is not a duration"),
    (["x", "--kind", "regex", "--pattern", r"(a)\1"], "refused by re2"),
    (["x", "--kind", "regex"], "needs --pattern"),
    (["x", "--kind", "term"], "at least one --term"),
    (["x", "--kind", "term", "--term", "a", "--pattern", "b"], "--pattern is for regex watches"),
    (["x", "--kind", "term", "--term", "a", "--language", "french"], "two-letter"),
    (["x", "--kind", "entity", "--value", "NightOwl"], "--entity-kind"),
    (["x", "--kind", "clone", "--site", "example.com"], "not a v3 onion"),
    (["x", "--kind", "new-site", "--category", "nope"], "no watch-list category"),
    (["x", "--kind", "yara", "--rules", "/nonexistent/r.yar"], "cannot read"),
    (["x", "--kind", "term", "--term", "a", "--target", "nosuchname"], "unknown notification target"),
    (["w-abcdef", "--kind", "term", "--term", "a"], "looks like a watch id"),
])
def test_bad_input_is_one_line_and_exit_2(cli, argv, message):
    code, out, err = cli("watch", "add", *argv)
    assert code == 2 and out == ""
    assert err.startswith("darkcrawl: error: ") and message in err and err.count("\n") == 1


def test_yara_compile_error_is_the_compilers(cli, tmp_path):
    rules = tmp_path / "bad.yar"
    rules.write_text("rule bad { condition: $nope }")
    code, _out, err = cli("watch", "add", "bad", "--kind", "yara", "--rules", str(rules))
    assert code == 2 and "unknown pattern `$nope`" in err and err.count("\n") == 1


def test_duplicate_names_are_refused(cli):
    add(cli, "dup", "--kind", "term", "--term", "a")
    code, _out, err = cli("watch", "add", "dup", "--kind", "term", "--term", "b")
    assert code == 2 and "exists already" in err


def test_secrets_never_printed_on_errors(cli):
    code, _out, err = cli("watch", "add", "x", "--kind", "term", "--term", "a", "--target",
                          "badscheme://user:Sup3rSecret@host.example.org/TOKENPATH")
    assert code == 2 and "Sup3rSecret" not in err and "TOKENPATH" not in err


def test_terms_from_a_file(cli, tmp_path):
    terms = tmp_path / "terms.txt"
    terms.write_text("# carding vocabulary\nfullz\n\n  dumps with pin  \nKokaïne\n", encoding="utf-8")
    added = add(cli, "carding", "--kind", "term", "--term", "cvv", "--terms-file", str(terms))
    assert added["spec"]["terms"] == ["cvv", "fullz", "dumps with pin", "Kokaïne"]
    code, _out, err = cli("watch", "add", "none", "--kind", "term", "--terms-file", str(tmp_path / "missing.txt"))
    assert code == 2 and "cannot read" in err
    code, _out, err = cli("watch", "add", "x", "--kind", "regex", "--pattern", "a", "--terms-file", str(terms))
    assert code == 2 and "--terms-file is for term watches" in err
