"""The adaptive recrawl policy: live and changing sites often, dead ones backed off (floor, cap), retired, revived."""

from __future__ import annotations

from crawler.scheduling.recrawl import RecrawlPolicy, SiteState, is_due, observe

POLICY = RecrawlPolicy(
    interval=86400, min_interval=3600, max_interval=7 * 86400, backoff=2.0, retire_after=30 * 86400, retired_probe=0
)
SITE = "x.onion"


def test_changing_site_is_visited_more_often_down_to_the_floor():
    state = None
    intervals = []
    now = 0.0
    for _ in range(8):
        state = observe(state, SITE, answered=True, changed=True, now=now, policy=POLICY)
        intervals.append(state.interval_seconds)
        now = state.next_due or now
    assert intervals[:3] == [43200, 21600, 10800]
    assert intervals[-1] == POLICY.min_interval
    assert state is not None and state.change_rate > 0.9


def test_static_live_site_settles_at_the_interval():
    state = observe(None, SITE, True, True, 0.0, POLICY)
    for step in range(1, 6):
        state = observe(state, SITE, True, False, step * 1e5, POLICY)
    assert state.interval_seconds == POLICY.interval
    assert state.change_rate < 0.05
    assert state.consecutive_failures == 0 and not state.retired


def test_dead_site_backs_off_exponentially_up_to_the_cap_then_retires():
    state = observe(None, SITE, True, True, 0.0, POLICY)
    now = 1000.0
    intervals = []
    while not state.retired:
        state = observe(state, SITE, answered=False, changed=False, now=now, policy=POLICY)
        intervals.append(state.interval_seconds)
        now = state.next_due if state.next_due is not None else now
    assert intervals[:4] == [3600, 7200, 14400, 28800]
    assert max(intervals) == POLICY.max_interval
    assert state.retired and state.retired_at is not None
    assert state.retired_at - (state.last_success or 0) >= POLICY.retire_after
    assert state.next_due is None and not is_due(state, 1e12)  # probes off: never visited again


def test_retired_site_is_probed_when_configured_and_revived_when_it_answers():
    policy = RecrawlPolicy(10, 1, 8, 2.0, retire_after=20, retired_probe=100)
    state = observe(None, SITE, False, False, 0.0, policy)
    state = observe(state, SITE, False, False, 25.0, policy)
    assert state.retired and state.next_due == 125.0
    assert not is_due(state, 124.0) and is_due(state, 125.0)
    revived = observe(state, SITE, True, True, 125.0, policy)
    assert not revived.retired and revived.consecutive_failures == 0 and revived.retired_at is None
    assert revived.next_due is not None and revived.next_due <= 125.0 + policy.interval


def test_a_site_never_seen_answering_retires_counting_from_its_first_sight():
    policy = RecrawlPolicy(10, 1, 8, 2.0, retire_after=20, retired_probe=0)
    state = observe(None, SITE, False, False, 100.0, policy)
    state = observe(state, SITE, False, False, 110.0, policy)
    assert not state.retired
    state = observe(state, SITE, False, False, 120.0, policy)
    assert state.retired


def test_document_round_trip_uses_iso_dates():
    state = observe(None, SITE, True, True, 1_700_000_000.5, POLICY, crawl_id="c1")
    document = state.to_document()
    assert document["last_success"] == "2023-11-14T22:13:20.500Z"
    assert document["schema_version"] >= 1
    document.pop("schema_version")
    assert SiteState.from_document(document) == state


def test_observe_does_not_change_its_input():
    first = observe(None, SITE, True, True, 0.0, POLICY)
    copy = SiteState(**vars(first))
    observe(first, SITE, False, False, 10.0, POLICY)
    assert first == copy
