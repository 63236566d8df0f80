"""One vocabulary across the commands: moments as ISO 8601 in every --json, -n/--limit bounded the same way, a URL
where a seeds file is expected."""

from __future__ import annotations

import argparse
import json

import pytest

from crawler.cli import build_parser
from crawler.cli.common import iso_dates, print_answer
from crawler.cli.crawl import load_seeds, names_a_url

ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"


def test_moments_become_iso_8601_and_durations_stay_numbers(capsys):
    answer = {"checked_at": 1765044000.5, "elapsed_seconds": 12, "paused": True, "started_at": None,
              "runs": [{"started_at": 1765044000, "deadline": 1765047600.0, "state": "running"}],
              "crawl": {"first_seen": "2026-11-20T00:00:00Z", "updated_at": "2026-12-06T18:00:00Z"}}
    converted = iso_dates(answer)
    assert converted["checked_at"] == "2025-12-06T18:00:00.500Z"
    assert converted["runs"][0] == {"started_at": "2025-12-06T18:00:00.000Z", "deadline": "2025-12-06T19:00:00.000Z",
                                    "state": "running"}
    assert converted["elapsed_seconds"] == 12 and converted["paused"] is True and converted["started_at"] is None
    assert converted["crawl"] == answer["crawl"]  # already ISO strings
    print_answer(True, answer, lambda: "unused")
    assert json.loads(capsys.readouterr().out)["checked_at"] == "2025-12-06T18:00:00.500Z"


@pytest.mark.parametrize("command", [["pivot", "x"], ["profile", "x"], ["entities"], ["history", "http://x/"],
                                     ["schedule", "show", "x"], ["search", "x"]])
def test_limit_is_spelled_and_bounded_the_same_everywhere(command, capsys):
    parser = build_parser()
    assert parser.parse_args([*command, "-n", "5"]).limit == 5
    assert parser.parse_args([*command, "--limit", "7"]).limit == 7
    for bad in ("-1", "10001", "many"):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args([*command, "-n", bad])
        assert exit_.value.code == 2
        assert "-n/--limit" in capsys.readouterr().err


def test_a_url_is_taken_where_a_seeds_file_is_expected(tmp_path, monkeypatch):
    assert names_a_url(f"http://{ONION}/") and names_a_url(ONION) and names_a_url(f"{ONION}/forum")
    assert not names_a_url("seeds.txt") and not names_a_url("/etc/darkcrawl/seeds.txt")
    args = argparse.Namespace(seeds_file=f"http://{ONION}/market", url=[])
    assert [seed.url for seed in load_seeds(args, allow_clearnet=False).seeds] == [f"http://{ONION}/market"]
    # a file that happens to be named like an onion is still read as a file
    monkeypatch.chdir(tmp_path)
    (tmp_path / "list.onion").write_text(f"{ONION}\n")
    args = argparse.Namespace(seeds_file="list.onion", url=[])
    assert [seed.url for seed in load_seeds(args, allow_clearnet=False).seeds] == [f"http://{ONION}/"]
