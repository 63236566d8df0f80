"""What the real CLI prints, against the test Elasticsearch node: a reader that closes the pipe early ends the command
quietly (exit 141, no BrokenPipeError), and control characters a page carried (ESC, CSI U+009B, BEL) never reach the
terminal, while ``--json`` stays valid JSON whose highlights hold no escape code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.es.schema import index_names, init_schema
from crawler.identity import page_id
from crawler.items import PageItem
from crawler.sink.documents import page_document
from tests.integration.test_crawl import REPO

pytestmark = pytest.mark.integration

ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
HOSTILE_TITLE = "Escrow \x1b]0;owned\x07market \x9b2J\u202e"
HOSTILE_TEXT = "escrow service \x1b[31mred\x1b[0m and \x9b2J clear screen, literal <em>tag</em> and \x00 nul"
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]")


def cli_env(es_node, prefix: str, data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env.update(es_node.env(), DARKCRAWL_ES_INDEX_PREFIX=prefix, DARKCRAWL_DATA_DIR=str(data_dir))
    return env


@pytest.fixture
def indexed(es_node, es_prefix) -> str:
    """Five pages under a fresh prefix, one with a title and text full of terminal control characters."""
    client = es_node.client()
    init_schema(client, index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix)), lambda _line: None)
    for number in range(5):
        hostile = number == 0
        item = PageItem(url=f"http://{ONION}/page/{number}", canonical_url=f"http://{ONION}/page/{number}",
                        site=ONION, status=200, fetched_at="2026-11-28T10:00:00.000Z", crawl_id="output",
                        title=HOSTILE_TITLE if hostile else f"Escrow page {number}",
                        text=HOSTILE_TEXT if hostile else f"escrow page {number} " * 50)
        document = page_document(item) | {"first_seen": item.fetched_at, "last_seen": item.fetched_at}
        client.index(index=f"{es_prefix}-pages", id=page_id(item.url), document=document, refresh=True)
    client.close()
    return es_prefix


def run_into_closed_pipe(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """Run darkcrawl with stdout a pipe whose reader is gone before it writes (``| head`` that already left)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=env, cwd=REPO, stdout=write_end,
                              stderr=subprocess.PIPE, timeout=180)
    finally:
        os.close(write_end)


def test_a_pipe_closed_early_ends_search_pivot_and_schedule_show_quietly(es_node, indexed, tmp_path):
    env = cli_env(es_node, indexed, tmp_path / "data")
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"http://{ONION}/\n")
    added = subprocess.run([sys.executable, "-m", "crawler.cli", "schedule", "add", "nightly", "--seeds", str(seeds),
                            "--every", "6h"], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    for args in (["search", "escrow"], ["search", "escrow", "--json"], ["pivot", "nightowl@example.com"],
                 ["schedule", "show", "nightly", "--json"]):
        result = run_into_closed_pipe(args, env)
        stderr = result.stderr.decode(errors="replace")
        assert result.returncode == 141, (args, stderr)
        assert "Traceback" not in stderr and "BrokenPipe" not in stderr and "Exception ignored" not in stderr, args
        assert stderr == "", (args, stderr)
    # control: with a reader, the same commands print their answer and exit 0
    shown = subprocess.run([sys.executable, "-m", "crawler.cli", "search", "escrow"], env=env, cwd=REPO,
                           capture_output=True, timeout=180)
    assert shown.returncode == 0 and b"page(s) match" in shown.stdout


def test_control_characters_from_pages_never_reach_the_terminal(es_node, indexed, tmp_path):
    env = cli_env(es_node, indexed, tmp_path / "data")

    def darkcrawl(*args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=env, cwd=REPO, capture_output=True,
                                timeout=180)
        assert result.returncode == 0, result.stderr
        return result.stdout.decode()

    text = darkcrawl("search", "clear screen")
    assert "Escrow" in text and "clear screen" in text  # the hostile page is the hit shown ...
    assert not RAW_CONTROL.search(text), repr(text)  # ... without a control character
    answer = json.loads(darkcrawl("search", "clear screen", "--json"))
    (hit,) = answer["hits"]
    assert "\x1b" not in hit["highlight"] and "\x9b" not in hit["highlight"]
    assert "<em>tag</em>" in hit["highlight"]  # the page's own text, not a marker
    assert hit["title"] == HOSTILE_TITLE  # the data itself is kept, escaped in the JSON text
    raw_json = darkcrawl("search", "clear screen", "--json")
    assert not RAW_CONTROL.search(raw_json)
