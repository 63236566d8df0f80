"""``darkcrawl export misp|stix`` through the real CLI, reading alerts (and a page) indexed into the real
Elasticsearch node under a per-test prefix (indices made by ``crawler.es.schema``). The STIX bundle is checked with
stix2-validator here too; the MISP feed's manifest and hashes are checked against its event files; the push goes to
tests/misp_double.py, a test double of MISP's REST API over TLS on 127.0.0.1 (MISP itself cannot run here)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from stix2validator import ValidationOptions, validate_string

from crawler.cli import main
from crawler.es.schema import index_names, init_schema
from tests import export_samples as s
from tests.integration.test_scheduler import DARKCRAWL, REPO
from tests.misp_double import server_context, start_misp_double
from tests.tls import make_server
from tests.unit.test_export_misp import API_KEY, assert_consistent_feed

pytestmark = pytest.mark.integration


@pytest.fixture
def indexed(es_node, es_prefix):
    """The sample alerts (four open, one dismissed) and the wallet alert's page, indexed through the aliases."""
    client = es_node.client()
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    try:
        init_schema(client, names, lambda message: None)
        for alert in [*s.alerts(), s.DISMISSED]:
            client.create(index=names.alerts, id=alert["alert_id"], document=alert)
        client.index(index=names.pages, id=s.WALLET_PAGE["id"], document=s.pages()[s.WALLET_PAGE["id"]])
        client.indices.refresh(index=f"{es_prefix}-*")
    finally:
        client.close()
    return es_prefix


def export(es_node, prefix, tmp_path, *args, extra_env=None):
    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env.update(es_node.env(), DARKCRAWL_ES_INDEX_PREFIX=prefix, DARKCRAWL_DATA_DIR=str(tmp_path / "data"),
               DARKCRAWL_EXPORT_ORG="Example CERT", **(extra_env or {}))
    return subprocess.run([*DARKCRAWL, "export", *args], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def export_in_process(es_node, prefix, tmp_path, monkeypatch, capsys, *args, extra_env=None):
    """The same command run by ``crawler.cli.main`` in this process (no interpreter start-up: cheaper on a loaded
    machine); returns (exit code, stdout, stderr)."""
    for key in [key for key in os.environ if key.startswith("DARKCRAWL_")]:
        monkeypatch.delenv(key)
    env = {**es_node.env(), "DARKCRAWL_ES_INDEX_PREFIX": prefix, "DARKCRAWL_DATA_DIR": str(tmp_path / "data"),
           "DARKCRAWL_EXPORT_ORG": "Example CERT", **(extra_env or {})}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    code = main(["export", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_stix_bundle_of_the_indexed_alerts_passes_stix2_validator(es_node, indexed, tmp_path, monkeypatch, capsys):
    bundle_file = tmp_path / "bundle.json"
    result = export(es_node, indexed, tmp_path, "stix", "-o", str(bundle_file), "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["alerts"] == 4 and answer["reports"] == 4 and answer["validator"]["errors"] == 0
    text = bundle_file.read_text()
    results = validate_string(text, ValidationOptions(version="2.1"))
    assert results.is_valid, [str(e) for r in results.object_results for e in r.errors]
    objects = json.loads(text)["objects"]
    assert all(s.DISMISSED["alert_id"] not in json.dumps(o) for o in objects)
    # the indexed page's signals came along: its PGP key and e-mail, beside the matched wallet
    patterns = {o["pattern"] for o in objects if o["type"] == "indicator"}
    assert f"[x-darkcrawl-pgp-key:fingerprint = '{s.FINGERPRINT}']" in patterns
    assert "[email-addr:value = 'greywolf@example.com']" in patterns
    # per case, one watch only, since a date
    result = export(es_node, indexed, tmp_path, "stix", "-o", str(bundle_file), "--per", "case", "--watch-tag",
                    "fraud", "--since", "2026-12-06T18:30:00Z", "--state", "new,acknowledged,dismissed")
    assert result.returncode == 0, result.stderr
    reports = [o for o in json.loads(bundle_file.read_text())["objects"] if o["type"] == "report"]
    assert len(reports) == 1 and reports[0]["name"].startswith("darkcrawl watch 'Fraud kits' (term): 2 alert(s)")
    assert "2 alert(s) exported as 1 STIX report(s)" in result.stdout
    check_nothing_matched_and_missing_index(es_node, indexed, tmp_path, monkeypatch, capsys)


def test_misp_feed_and_push_twice_updates_not_duplicates(es_node, indexed, tmp_path, monkeypatch, capsys):
    feed = tmp_path / "feed"
    files = make_server(tmp_path / "tls")
    misp = start_misp_double(API_KEY, server_context(str(files.cert), str(files.key)))
    key_file = tmp_path / "misp.key"
    key_file.write_text(API_KEY + "\n")
    try:
        args = ["misp", "--out", str(feed), "--push", misp.url, "--api-key-file", str(key_file), "--misp-ca-certs",
                str(files.ca)]
        first = export(es_node, indexed, tmp_path, *args)
        assert first.returncode == 0, first.stderr
        assert "4 alert(s) exported as 4 MISP event(s)" in first.stdout
        assert "4 event(s) added, 0 updated" in first.stdout
        events = assert_consistent_feed(feed)
        assert len(events) == 4 and set(misp.events) == set(events)
        before = {p.name: p.read_bytes() for p in feed.iterdir()}
        second = export(es_node, indexed, tmp_path, *args, "--json")
        assert second.returncode == 0, second.stderr
        answer = json.loads(second.stdout)
        assert answer["push"] == {"url": misp.url, "added": 0, "updated": 4, "refused": []}
        assert len(misp.events) == 4 and len(misp.paths("POST")) == 8
        assert {p.name: p.read_bytes() for p in feed.iterdir()} == before  # same alerts, same feed
        wallet = misp.events[next(u for u, e in events.items() if "Laundering wallet" in e["Event"]["info"])]
        assert {o["name"] for o in wallet["Object"]} >= {"coin-address", "pgp-meta", "url", "tor-hiddenservice"}
        for output in (first.stdout + first.stderr, second.stdout + second.stderr):
            assert API_KEY not in output
        # per watch, to a fresh feed: 3 events
        code, _out, err = export_in_process(es_node, indexed, tmp_path, monkeypatch, capsys, "misp", "--out",
                                            str(tmp_path / "per-case"), "--per", "case")
        assert code == 0, err
        assert len(assert_consistent_feed(tmp_path / "per-case")) == 3
    finally:
        misp.stop()


def check_nothing_matched_and_missing_index(es_node, indexed, tmp_path, monkeypatch, capsys):
    """No alert matched: 0 exported, exit 0, an empty feed and bundle; no alerts index: one line, exit 3."""
    def run(prefix, *args):
        return export_in_process(es_node, prefix, tmp_path, monkeypatch, capsys, *args)

    code, out, err = run(indexed, "misp", "--out", str(tmp_path / "feed"), "--watch", "w-none")
    assert code == 0, err
    assert "0 exported" in err and "0 alert(s) exported as 0 MISP event(s)" in out
    assert json.loads((tmp_path / "feed" / "manifest.json").read_text()) == {}
    code, out, err = run(indexed, "stix", "-o", "-", "--watch", "w-none")
    assert code == 0 and "0 exported" in err
    assert {o["type"] for o in json.loads(out)["objects"]} == {"identity", "marking-definition", "extension-definition"}
    code, out, err = run(indexed + "-none", "stix", "-o", str(tmp_path / "b.json"))
    assert code == 3
    assert err.startswith("darkcrawl: error: no index") and err.count("\n") == 1
    assert not (tmp_path / "b.json").exists()
