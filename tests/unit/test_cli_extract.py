"""``darkcrawl extract`` as a user runs it: a real subprocess, files and stdin, JSON and summary, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.extract import SIGNAL_KEYS
from tests.vectors import load_vectors

ROOT = Path(__file__).resolve().parents[2]
ONION = load_vectors("onion")["valid"][0]
PAGE = (
    "<html><head><title>Paste 42</title></head><body><pre>"
    f"mirror {ONION[:-6]} [dot] onion\nsend to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq\n"
    "contact: seller [at] mail2tor [dot] com  Telegram: @pastebin_guy\n"
    "Verkäufer: Schwarzwald - diskreter Versand\n</pre></body></html>"
)


def darkcrawl(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DARKCRAWL_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args], input=stdin, capture_output=True, cwd=ROOT, env=environment,
        timeout=120,
    )  # fmt: skip


@pytest.fixture
def page_file(tmp_path: Path) -> Path:
    path = tmp_path / "paste.html"
    path.write_text(PAGE, encoding="utf-8")
    return path


def test_json_from_file(page_file: Path) -> None:
    result = darkcrawl("extract", str(page_file), "--json", "--url", f"http://{ONION}/p/42")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert tuple(document) == SIGNAL_KEYS
    assert document["title"] == "Paste 42"
    assert document["onions"] == [ONION]
    assert document["emails"] == ["seller@mail2tor.com"]
    assert {"network": "telegram", "handle": "pastebin_guy"} in document["handles"]
    assert document["vendors"] == [{"name": "Schwarzwald", "source": "heuristic:verkäufer"}]
    assert {"term": "diskreter versand", "category": "drugs", "count": 1} in document["keywords"]
    assert [a["currency"] for a in document["crypto_addresses"]] == ["BTC"]


def test_summary_from_stdin() -> None:
    result = darkcrawl("extract", stdin=PAGE.encode())
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "title        Paste 42" in out
    assert f"onions       {ONION}" in out
    assert "BTC bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq" in out
    assert "Schwarzwald [heuristic:verkäufer]" in out


def test_own_watchlist_and_rules(page_file: Path, tmp_path: Path) -> None:
    watch = tmp_path / "watch.yaml"
    watch.write_text("- terms: [schwarzwald]\n  category: vendor of interest\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - id: paste-title\n    match: {selector: pre}\n    vendor: {css: title}\n", "utf-8")
    result = darkcrawl("extract", str(page_file), "--json", "--watchlist", str(watch), "--vendor-rules", str(rules))
    document = json.loads(result.stdout)
    assert document["keywords"] == [{"term": "schwarzwald", "category": "vendor of interest", "count": 1}]
    assert document["vendors"][0] == {"name": "Paste 42", "source": "rule:paste-title"}


def test_watchlist_from_environment(page_file: Path, tmp_path: Path) -> None:
    watch = tmp_path / "watch.yaml"
    watch.write_text("- term: paste\n  category: test\n", encoding="utf-8")
    result = darkcrawl("extract", str(page_file), "--json", env={"DARKCRAWL_WATCHLISTS": str(watch)})
    assert json.loads(result.stdout)["keywords"] == [{"term": "paste", "category": "test", "count": 1}]


def test_cap_per_kind_from_environment() -> None:
    page = b"a@x.com b@x.com c@x.com d@x.com"
    result = darkcrawl("extract", "--json", stdin=page, env={"DARKCRAWL_EXTRACT_MAX_PER_KIND": "2"})
    document = json.loads(result.stdout)
    assert document["emails"] == ["a@x.com", "b@x.com"] and document["capped"] == {"emails": 2}
    summary = darkcrawl("extract", stdin=page, env={"DARKCRAWL_EXTRACT_MAX_PER_KIND": "2"}).stdout.decode()
    assert "capped       emails +2" in summary
    refused = darkcrawl("extract", stdin=page, env={"DARKCRAWL_EXTRACT_MAX_PER_KIND": "0"})
    assert refused.returncode == 2
    assert refused.stderr.decode().startswith("darkcrawl: error: DARKCRAWL_EXTRACT_MAX_PER_KIND must be 1 or more")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("extract", "/nonexistent/page.html"), "cannot read /nonexistent/page.html"),
        (("extract", "/"), "is a directory"),
        (("extract", "-", "--watchlist", "/nonexistent.yaml"), "watch list /nonexistent.yaml: cannot read"),
    ],
)
def test_errors_are_one_line(args: tuple[str, ...], message: str) -> None:
    result = darkcrawl(*args, stdin=b"<p>x</p>")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - id: a\n    match: {hosts: [h]}\n    vendor:\n      - css: 'a[[['\n", "utf-8")
    result = darkcrawl("extract", "-", "--vendor-rules", str(rules), stdin=b"x")
    assert result.returncode == 2
    assert f"{rules}:5: bad CSS selector" in result.stderr.decode()


def test_binary_garbage_is_not_an_error() -> None:
    result = darkcrawl("extract", "--json", stdin=bytes(range(256)) * 20)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["onions"] == []


def test_a_page_over_the_budget_is_stopped_and_reported(tmp_path: Path) -> None:
    """The one-file CLI runs extraction in a worker under DARKCRAWL_EXTRACT_TIMEOUT: a hostile file cannot hang it."""
    big = tmp_path / "big.html"
    big.write_text("<html><head><title>big</title></head><body>" + "<p>word bc1q and more [at] words</p>\n" * 100_000
                   + "</body></html>", encoding="utf-8")
    result = darkcrawl("extract", str(big), "--json", env={"DARKCRAWL_EXTRACT_TIMEOUT": "0.05"})
    assert result.returncode == 0, result.stderr
    assert b"darkcrawl: warning: extraction of" in result.stderr and b"DARKCRAWL_EXTRACT_TIMEOUT" in result.stderr
    assert tuple(json.loads(result.stdout)) == SIGNAL_KEYS
