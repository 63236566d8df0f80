"""The alert document and its id (crawler/alerts/documents.py): one id per watch, page and content; every field the
document carries is in the alerts mapping; the watching stage's choice of watches for unchanged pages."""

from __future__ import annotations

import hashlib

import pytest

from crawler.alerts.documents import alert_document, alert_id
from crawler.alerts.evaluation import changed_since
from crawler.es.templates import mapped_fields, mappings_for
from crawler.watch.model import Watch, WatchMatch

PAGE_ID = "a" * 64
PAGE = {
    "url": "http://example.onion/p/1", "site": "example.onion", "title": "Listing", "content_sha256": "c" * 64,
    "language": "en", "crawl_id": "crawl-1", "text": "escrow bitcoin",
}


def watch(watch_id: str = "w-000001", created_at: str = "2026-12-01T00:00:00.000Z", kind: str = "term") -> Watch:
    return Watch(watch_id, f"name {watch_id}", kind, {"terms": ["escrow"]}, owner="ana", severity="high",
                 tags=["fraud"], created_at=created_at)


def test_alert_id_is_sha256_of_watch_page_and_content():
    expected = hashlib.sha256(b"w-000001\0" + PAGE_ID.encode() + b"\0" + b"c" * 64).hexdigest()
    assert alert_id("w-000001", PAGE_ID, "c" * 64) == expected


@pytest.mark.parametrize("other", [("w-000002", PAGE_ID, "c" * 64), ("w-000001", "b" * 64, "c" * 64),
                                   ("w-000001", PAGE_ID, "d" * 64)])
def test_alert_id_changes_with_each_part(other):
    assert alert_id(*other) != alert_id("w-000001", PAGE_ID, "c" * 64)


def test_alert_id_parts_cannot_run_together():
    assert alert_id("w-1", "ab", "c") != alert_id("w-1a", "b", "c")


def test_document_shape():
    match = WatchMatch(watch(), [{"kind": "term", "value": "escrow", "entity_kind": None, "context": "escrow bitcoin",
                                  "rule": None}])
    document = alert_document(match, PAGE, PAGE_ID, "crawl", "2026-12-06T18:00:00.000Z", crawl_id="crawl-1")
    assert document["alert_id"] == alert_id("w-000001", PAGE_ID, "c" * 64)
    assert document["watch"] == {"id": "w-000001", "name": "name w-000001", "kind": "term", "severity": "high",
                                 "owner": "ana", "tags": ["fraud"]}
    assert document["page"]["id"] == PAGE_ID and document["page"]["url"] == PAGE["url"]
    assert document["state"] == "new" and document["first_seen"] == document["last_seen"]
    assert document["history"] == [{"state": "new", "by": "darkcrawl", "at": "2026-12-06T18:00:00.000Z",
                                    "note": None}]
    assert "clone" not in document and "text" not in document["page"]


def test_hunt_and_crawl_documents_share_the_id():
    match = WatchMatch(watch(), [{"kind": "term", "value": "escrow"}])
    crawl = alert_document(match, PAGE, PAGE_ID, "crawl", "2026-12-06T18:00:00.000Z", crawl_id="x")
    hunt = alert_document(match, PAGE, PAGE_ID, "hunt", "2026-12-07T18:00:00.000Z")
    assert crawl["alert_id"] == hunt["alert_id"]
    assert hunt["source"] == "hunt" and hunt["crawl_id"] is None


def test_bad_source_is_refused():
    with pytest.raises(ValueError, match="crawl, hunt"):
        alert_document(WatchMatch(watch(), []), PAGE, PAGE_ID, "cron", "2026-12-06T18:00:00.000Z")


def paths(value, prefix=""):
    """Every field path of a JSON document (objects and lists of objects walked)."""
    found = set()
    if isinstance(value, list):
        for item in value:
            found |= paths(item, prefix)
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}{key}"
            found.add(path)
            found |= paths(item, path + ".")
    return found


def test_every_field_of_a_clone_alert_is_mapped():
    clone = {"of_site": "m.onion", "of_url": "http://m.onion/", "distance": 3,
             "addresses": {"this": ["1FjL87pn8ky6Vbavd1ZHeChRXtoxwRGCRd"],
                           "watched": ["1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo"]}}
    match = WatchMatch(watch(kind="clone"), [{"kind": "clone", "value": "m.onion", "entity_kind": None,
                                              "context": "", "rule": None}], clone)
    document = alert_document(match, PAGE, PAGE_ID, "crawl", "2026-12-06T18:00:00.000Z")
    mapped = mapped_fields(mappings_for("alerts"))
    assert paths(document) - set(mapped) == set()
    assert document["clone"] == clone


def test_unchanged_pages_meet_only_watches_added_since_their_last_fetch():
    old, new = watch("w-000001", "2026-12-01T00:00:00.000Z"), watch("w-000002", "2026-12-05T00:00:00.000Z")
    assert changed_since([old, new], "2026-12-03T00:00:00.000Z") == [new]
    assert changed_since([old, new], "2026-12-06T00:00:00.000Z") == []
    assert changed_since([old, new], None) == [old, new]
