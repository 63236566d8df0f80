"""Evidence on the lab: a crawl with WARC on writes every exchange; the files read back with warcio, their digests match
the page documents, `darkcrawl evidence URL` exports the same bytes, and a tampered file fails verification."""

from __future__ import annotations

import hashlib
import io
import json
import uuid

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.lab.sites.truth import all_pages
from crawler.tor.isolation import socks_credentials
from tests.integration.test_crawl import crawl_env, indexed_pages, run_darkcrawl

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def warc_crawl(tor_lab, es_node, tmp_path_factory):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path_factory.mktemp("evidence")
    warc_dir = data_dir / "warc"
    env = crawl_env(tor_lab, es_node, prefix, data_dir, DARKCRAWL_WARC_ENABLED="1", DARKCRAWL_WARC_DIR=str(warc_dir),
                    DARKCRAWL_WARC_MAX_BYTES="30000", DARKCRAWL_TOR_ISOLATION_SECRET="evidence")
    result = run_darkcrawl(["crawl", "--url", tor_lab.url("market"), "--depth", "10", "--json"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    return prefix, env, warc_dir, json.loads(result.stdout[result.stdout.index("{"):])


def test_warc_records_match_the_page_documents(warc_crawl, tor_lab, es_node):
    prefix, _env, warc_dir, summary = warc_crawl
    files = sorted(warc_dir.glob("*.warc.gz"))
    assert len(files) > 1, "30 kB files should have rotated"
    responses = {}
    for path in files:
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle, check_digests="raise"):
                if record.rec_type == "response":
                    responses[record.rec_headers.get_header("WARC-Record-ID")] = record.rec_headers.get_header(
                        "WARC-Target-URI")
    pages = indexed_pages(es_node.client(), prefix)
    expected = {tor_lab.url("market", path) for path in all_pages(tor_lab.onions)["market"]}
    assert {page["url"] for page in pages} == expected and summary["pages"] == len(expected)
    username = socks_credentials(tor_lab.onions["market"], 0, "evidence")[0]
    for page in pages:
        warc = page["warc"]
        assert responses[warc["record_id"]] == page["url"]
        stored = (warc_dir / warc["file"]).read_bytes()[warc["offset"]: warc["offset"] + warc["length"]]
        assert hashlib.sha256(stored).hexdigest() == warc["record_sha256"]
        record = next(iter(ArchiveIterator(io.BytesIO(stored), check_digests="raise")))
        assert record.rec_headers.get_header("WARC-Payload-Digest") == warc["payload_digest"]
        exchange = (warc_dir / warc["file"]).read_bytes()[warc["offset"]: warc["offset"] + warc["exchange_length"]]
        fields = [r.content_stream().read().decode() for r in ArchiveIterator(io.BytesIO(exchange))
                  if r.rec_type == "metadata"]
        assert f"socks-endpoint: 127.0.0.1:{tor_lab.socks_port}" in fields[0]
        assert f"socks-username: {username}" in fields[0]


def test_export_gives_the_indexed_bytes_and_the_manifest_verifies(warc_crawl, tor_lab, es_node, tmp_path):
    prefix, env, warc_dir, _summary = warc_crawl
    page = next(p for p in indexed_pages(es_node.client(), prefix) if p["url"] == tor_lab.url("market"))
    out = tmp_path / "record.warc.gz"
    result = run_darkcrawl(["evidence", page["url"], "-o", str(out), "--json"], env)
    assert result.returncode == 0, result.stderr[-2000:]
    warc = page["warc"]
    assert out.read_bytes() == (warc_dir / warc["file"]).read_bytes()[warc["offset"]: warc["offset"] + warc["length"]]
    assert json.loads(result.stdout)["record_sha256"] == warc["record_sha256"]

    manifests = list(warc_dir.glob("*.manifest.json"))
    assert len(manifests) == 1
    manifest = json.loads(manifests[0].read_text())
    assert manifest["seeds"] == [tor_lab.url("market")]
    assert manifest["counts"]["pages"] == len(all_pages(tor_lab.onions)["market"])
    assert sorted(f["name"] for f in manifest["warc_files"]) == sorted(p.name for p in warc_dir.glob("*.warc.gz"))
    verified = run_darkcrawl(["evidence", "verify", str(manifests[0])], env)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    victim = warc_dir / warc["file"]
    raw = bytearray(victim.read_bytes())
    raw[warc["offset"] + warc["length"] // 2] ^= 0x20
    victim.write_bytes(bytes(raw))
    tampered = run_darkcrawl(["evidence", "verify", str(manifests[0])], env)
    assert tampered.returncode == 1
    assert f"MISMATCH  {warc['file']}" in tampered.stdout
    assert "Traceback" not in tampered.stderr
    export = run_darkcrawl(["evidence", page["url"], "-o", str(tmp_path / "again.warc.gz")], env)
    assert export.returncode == 1 and "the file changed since the crawl" in export.stderr
