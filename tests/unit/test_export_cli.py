"""``darkcrawl export``: bad input is one line and exit 2, found before Elasticsearch is asked anything; the API key
is never an argument."""

from __future__ import annotations

import pytest

from crawler.cli import main
from crawler.cli.export import warning_summary


@pytest.fixture(autouse=True)
def no_cluster(monkeypatch, tmp_path):
    """A cluster nobody listens on: a test that reached Elasticsearch would fail with exit 3, not 2."""
    monkeypatch.setenv("DARKCRAWL_ES_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DARKCRAWL_DATA_DIR", str(tmp_path))


@pytest.mark.parametrize(("argv", "message"), [
    (["misp"], "say where the events go: --out DIR"),
    (["misp", "--out", "d", "--api-key-file", "k"], "--api-key-file and --misp-ca-certs are for --push"),
    (["misp", "--out", "d", "--tlp", "orange"], "TLP 'orange': use one of clear, green, amber, amber+strict, red"),
    (["misp", "--out", "d", "--state", "new,closed"], "--state 'new,closed': give states among new, acknowledged"),
    (["stix", "-o", "b.json", "--since", "last week"], "--since 'last week': give a date"),
    (["stix", "-o", "b.json", "--case", " "], "--case needs a name"),
    (["misp", "--push", "http://misp.example", "--api-key-file", "k"], "plain HTTP"),
    (["misp", "--push"], "no MISP URL"),
    (["misp", "--push", "https://misp.example", "--prune"], "--prune removes events from a feed directory"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    assert main(["export", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("darkcrawl: error: ") and message in err and err.count("\n") == 1


def test_a_cluster_that_cannot_be_reached_is_exit_3(capsys):
    assert main(["export", "stix", "-o", "b.json", "--since", "now-7d"]) == 3
    assert "cannot be reached" in capsys.readouterr().err


def test_a_key_typed_where_its_file_belongs_is_not_repeated(capsys):
    key = "d0n0tPr1ntM3" * 3
    assert main(["export", "misp", "--push", "https://misp.example", "--api-key", key]) == 2  # argparse: abbreviation
    captured = capsys.readouterr()
    assert "never the key itself" in captured.err and key not in captured.err + captured.out


def test_validator_warnings_are_counted_by_check_with_an_example():
    summary = warning_summary(["x: {103} Given ID value", "y: {103} Given ID value", "z: {244} account", "odd"])
    assert summary == {"103": {"count": 2, "example": "x: {103} Given ID value"},
                       "244": {"count": 1, "example": "z: {244} account"}, "other": {"count": 1, "example": "odd"}}
