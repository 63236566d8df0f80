"""``darkcrawl status``'s checks are bounded in total by their timeouts: a tor whose control port hangs on one request,
an Elasticsearch URL that accepts and never answers, cost the check's timeout and are reported as down."""


from crawler.config import load_settings
from crawler.scheduling import health
from tests.unit.tor_support import FakeTor, returns_within

MARGIN = 1.5  # seconds of slack on a loaded 2-core machine



def tor_settings(socks: FakeTor, control: FakeTor, tmp_path):
    return load_settings(environ={}, overrides={
        "DARKCRAWL_DATA_DIR": str(tmp_path),
        "DARKCRAWL_TOR_SOCKS": f"127.0.0.1:{socks.port}",
        "DARKCRAWL_TOR_CONTROL": f"127.0.0.1:{control.port}",
    })


def test_a_healthy_fake_tor_reports_its_circuits(fake_tor, tmp_path):
    report = health.tor_report(tor_settings(fake_tor(socks=True), fake_tor(), tmp_path), [])
    assert report[0]["ok"] is True, report
    assert report[0]["circuits"] == {"BUILT": 2, "LAUNCHED": 1}


def test_a_tor_hanging_on_circuit_status_costs_the_check_timeout_in_total(fake_tor, tmp_path, monkeypatch):
    monkeypatch.setattr(health, "TOR_CHECK_TIMEOUT", 1.5)
    settings = tor_settings(fake_tor(socks=True), fake_tor(hang_on="GETINFO circuit-status"), tmp_path)
    report, elapsed = returns_within(1.5 + MARGIN, lambda: health.tor_report(settings, []))
    assert elapsed < 1.5 + MARGIN
    assert report[0]["bootstrap"] == 100 and report[0]["ok"] is False
    assert "TimeoutError" in report[0]["message"]


def test_an_elasticsearch_that_never_answers_costs_the_check_timeout_in_total(fake_tor, tmp_path, monkeypatch):
    monkeypatch.setattr(health, "ES_CHECK_TIMEOUT", 1.5)
    silent = fake_tor(silent=True)
    settings = load_settings(environ={}, overrides={
        "DARKCRAWL_DATA_DIR": str(tmp_path), "DARKCRAWL_ES_URL": f"http://127.0.0.1:{silent.port}",
    })
    report, _ = returns_within(1.5 + MARGIN, lambda: health.es_report(settings))
    assert report["healthy"] is False and "Elasticsearch: no answer within 1.5 s" in report["message"]
