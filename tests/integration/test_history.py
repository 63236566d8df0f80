"""The page history on the real node: the sink keeps one version per run of identical content (a refetch of the same
content moves its last date, content that comes back is a new version), and ``darkcrawl history`` / ``evidence --at``
read what a page said, and its capture, at a date."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest

from crawler.sink.bulk import BulkConfig, PageSink
from tests.integration.test_entities import run_cli

pytestmark = pytest.mark.integration

URL = "http://pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion/listing/7"
SAID = {"v1": "faux passeports belges, livraison discrète", "v2": "valse paspoorten, levering in 3 dagen"}


def page(content: str, fetched: str, warc: dict | None = None) -> dict:
    text = SAID[content]
    document = {
        "url": URL, "canonical_url": URL, "site": URL.split("/")[2], "status": 200, "fetched_at": fetched,
        "crawl_id": f"crawl-{fetched[:10]}", "title": f"listing {content}", "text": text, "language": "fr",
        "content_sha256": hashlib.sha256(text.encode()).hexdigest(), "signals": {"simhash": f"{len(text):016x}"},
    }
    return document | ({"warc": warc} if warc else {})



async def write(es_node, es_names, tmp_path, documents: list[dict]) -> None:
    client = es_node.async_client()
    config = BulkConfig(max_docs=1, max_bytes=10**7, flush_interval=60, max_retries=1,
                        dead_letter_path=tmp_path / "dead.jsonl")
    sink = PageSink(client, es_names.pages, config, lambda key, n: None, versions=es_names.versions)
    try:
        for document in documents:  # one bulk request each, in fetch order, as successive crawls write them
            await sink.add(document)
            await sink.flush()
    finally:
        await client.close()
    sync = es_node.client()
    sync.indices.refresh(index=f"{es_names.prefix}-*")
    sync.close()
    assert not (tmp_path / "dead.jsonl").exists()


def warc_member(tmp_path, name: str, body: bytes) -> dict:
    """A WARC file holding one gzip member, and the page's ``warc`` field pointing at it."""
    member = gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n\r\n" + body)
    (tmp_path / name).write_bytes(member)
    return {"file": name, "offset": 0, "length": len(member), "exchange_length": len(member),
            "record_sha256": hashlib.sha256(member).hexdigest(), "record_id": f"<urn:uuid:{name}>"}


def cli(es_node, es_names, *args: str):
    result = run_cli(es_node, es_names.prefix, *args)
    assert result.returncode == 0, result.stderr
    return result


async def test_versions_keep_what_a_page_said_and_when(es_node, es_names, tmp_path):
    first = warc_member(tmp_path, "a.warc.gz", b"first capture")
    back = warc_member(tmp_path, "b.warc.gz", b"capture after the change back")
    await write(es_node, es_names, tmp_path, [
        page("v1", "2026-11-20T10:00:00.000Z", first),
        page("v1", "2026-11-21T10:00:00.000Z"),  # unchanged: the same version, seen later
        page("v2", "2026-11-22T10:00:00.000Z"),
        page("v1", "2026-11-24T10:00:00.000Z", back),  # the old content comes back: a new version
    ])
    history = json.loads(cli(es_node, es_names, "history", URL, "--json").stdout)
    assert history["total"] == 3
    spans = [(v["title"], v["first_seen"][:10], v["last_seen"][:10]) for v in history["versions"]]
    assert spans == [("listing v1", "2026-11-24", "2026-11-24"), ("listing v2", "2026-11-22", "2026-11-22"),
                     ("listing v1", "2026-11-20", "2026-11-21")]

    client = es_node.client()
    stored = client.get(index=es_names.pages, id=hashlib.sha256(URL.encode()).hexdigest())["_source"]
    client.close()
    assert stored["version"] == history["versions"][0]["id"]  # the page names its current version

    def said(at: str) -> dict:
        return json.loads(cli(es_node, es_names, "history", URL, "--at", at, "--json").stdout)["version"]

    assert said("2026-11-21")["text"] == SAID["v1"]  # a bare date: what it said by the end of that day
    assert said("2026-11-22T09:59:59Z")["text"] == SAID["v1"]
    assert said("2026-11-23")["text"] == SAID["v2"]
    assert said("2026-12-01")["first_seen"].startswith("2026-11-24")
    assert said("2026-11-19") is None
    text = cli(es_node, es_names, "history", URL, "--at", "2026-11-23").stdout
    assert SAID["v2"] in text and "listing v2" in text
    assert "not fetched yet" in cli(es_node, es_names, "history", URL, "--at", "2026-11-19").stdout

    then = cli(es_node, es_names, "evidence", URL, "--at", "2026-11-21", "--warc-dir", str(tmp_path), "-o",
               str(tmp_path / "then.warc.gz"), "--json")
    assert json.loads(then.stdout)["record_sha256"] == first["record_sha256"]
    assert (tmp_path / "then.warc.gz").read_bytes() == (tmp_path / "a.warc.gz").read_bytes()
    now = cli(es_node, es_names, "evidence", URL, "--warc-dir", str(tmp_path), "-o", str(tmp_path / "now.warc.gz"),
              "--json")
    assert json.loads(now.stdout)["record_sha256"] == back["record_sha256"]
    refused = run_cli(es_node, es_names.prefix, "evidence", URL, "--at", "2026-11-19", "--warc-dir", str(tmp_path))
    assert refused.returncode == 2 and "no version fetched at or before" in refused.stderr
    bad = run_cli(es_node, es_names.prefix, "history", URL, "--at", "last tuesday")
    assert bad.returncode == 2 and "--at" in bad.stderr and "Traceback" not in bad.stderr


async def test_a_replayed_batch_writes_the_same_versions(es_node, es_names, tmp_path):
    documents = [page("v1", "2026-11-20T10:00:00.000Z"), page("v2", "2026-11-22T10:00:00.000Z")]
    await write(es_node, es_names, tmp_path, documents)
    await write(es_node, es_names, tmp_path, documents[1:])  # the spool replays the last page: nothing new
    history = json.loads(cli(es_node, es_names, "history", URL, "--json").stdout)
    assert [v["title"] for v in history["versions"]] == ["listing v2", "listing v1"]
