"""New-site watches: a site not seen before showing a watch-list category, once per watch and site."""

from __future__ import annotations

import pytest

from crawler.errors import UsageError
from crawler.watch.matchers import WatchSet
from crawler.watch.model import NEW_SITE
from crawler.watch.newsite import KnownSites, known_sites_query, new_site_spec
from tests.unit.watch_support import page_doc, watch

OLD = "jrnzwp6h2bk7icvkox6txld4void7iviijha6xcnpo2trscoav3zf4ad.onion"
NEW = "gqbg6k7ni45jysi7bwqb4thxgyeumtgxee5k2kwdrjeipftollrizyqd.onion"
CARDING = "<p>Fresh CVV and fullz, dumps with pin, best cashout.</p>"
HARMLESS = "<p>Welcome to our forum about gardening.</p>"


def fired(watch_set, html, site, path="/"):
    return [match.watch.id for match in watch_set.evaluate(page_doc(html, f"http://{site}{path}"))]


def test_fires_once_per_new_site_on_its_first_page_with_the_category():
    new_site = watch(NEW_SITE, new_site_spec("fraud/carding"))
    watch_set = WatchSet.compile([new_site], known_sites=KnownSites([OLD]))
    assert fired(watch_set, CARDING, OLD) == []  # known before
    assert fired(watch_set, HARMLESS, NEW, "/") == []  # new, but nothing of the category yet
    assert fired(watch_set, CARDING, NEW, "/shop") == [new_site.id]
    assert fired(watch_set, CARDING, NEW, "/shop2") == []  # once per site


def test_matches_name_the_terms_of_the_category():
    new_site = watch(NEW_SITE, new_site_spec("fraud/carding"))
    found = WatchSet.compile([new_site], known_sites=KnownSites()).evaluate(page_doc(CARDING, f"http://{NEW}/"))
    values = {match["value"] for match in found[0].matches}
    assert {"cvv", "fullz"} <= values
    assert all(match["kind"] == NEW_SITE for match in found[0].matches)
    assert "CVV" in next(m for m in found[0].matches if m["value"] == "cvv")["context"]


def test_a_parent_category_covers_its_sub_categories_and_others_do_not():
    parent, other = watch(NEW_SITE, new_site_spec("fraud")), watch(NEW_SITE, new_site_spec("drugs"))
    watch_set = WatchSet.compile([parent, other], known_sites=KnownSites())
    assert fired(watch_set, CARDING, NEW) == [parent.id]


def test_without_known_sites_new_site_watches_are_left_out(caplog):
    watch_set = WatchSet.compile([watch(NEW_SITE, new_site_spec("fraud"))])
    assert len(watch_set) == 0 and "left out" in caplog.text


def test_unknown_categories_are_refused_with_the_known_ones():
    with pytest.raises(UsageError, match="drugs, fraud/carding"):
        new_site_spec("fruad", ["drugs", "fraud/carding"])
    assert new_site_spec("fraud", ["drugs", "fraud/carding"]) == {"category": "fraud"}
    with pytest.raises(UsageError):
        new_site_spec("  ")


def test_known_sites_query_pages_through_sites_first_seen_before():
    query = known_sites_query("2026-12-01", {"site": "a.onion"})
    assert query["query"] == {"range": {"first_seen": {"lt": "2026-12-01"}}}
    assert query["aggs"]["sites"]["composite"]["after"] == {"site": "a.onion"} and query["size"] == 0
    assert known_sites_query()["query"] == {"match_all": {}}
