
from crawler.tor.control import (
    bootstrap_progress,
    check_endpoint,
    parse_bootstrap_phase,
    request_new_identity,
    socks_answers,
)
from tests.unit.tor_support import returns_within


def test_bootstrap_phase_with_and_without_summary():
    done = 'NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"'
    assert parse_bootstrap_phase(done) == (100, "Done")
    assert parse_bootstrap_phase("NOTICE BOOTSTRAP PROGRESS=30 TAG=loading_status") == (30, "")
    assert parse_bootstrap_phase("garbage") is None


# The timeouts bound whole calls: a port that accepts and never answers costs the timeout, not more. (Before, stem's
# controller waited for ever there: these tests would hang, and returns_within fails them instead.)
MARGIN = 1.5  # seconds of slack on a loaded 2-core machine; the calls under test would otherwise never return



def test_a_control_session_answers_through_the_fake_tor(fake_tor):
    tor = fake_tor()
    assert bootstrap_progress(tor.endpoint(), timeout=5) == 100
    assert "PROTOCOLINFO 1" in tor.received and "GETINFO status/bootstrap-phase" in tor.received
    assert request_new_identity(tor.endpoint(), timeout=5) is True


def test_a_silent_control_port_costs_the_timeout_not_more(fake_tor):
    tor = fake_tor(silent=True)
    error, elapsed = returns_within(1.0 + MARGIN, lambda: bootstrap_progress(tor.endpoint(), timeout=1.0))
    assert isinstance(error, TimeoutError) and "control port 127.0.0.1" in str(error)
    assert elapsed >= 0.9
    error, _ = returns_within(1.0 + MARGIN, lambda: request_new_identity(tor.endpoint(), timeout=1.0))
    assert isinstance(error, TimeoutError)


def test_a_control_port_hanging_after_authentication_costs_the_timeout_not_more(fake_tor):
    tor = fake_tor(hang_on="GETINFO")  # connect and authenticate are quick: the one request hangs
    error, _ = returns_within(1.0 + MARGIN, lambda: bootstrap_progress(tor.endpoint(), timeout=1.0))
    assert isinstance(error, TimeoutError)
    assert "AUTHENTICATE" in tor.received


def test_check_endpoint_is_bounded_in_total(fake_tor):
    socks = fake_tor(silent=True)  # the SOCKS negotiation never gets an answer either
    control = fake_tor(silent=True)
    status, elapsed = returns_within(2.0 + MARGIN, lambda: check_endpoint(control.endpoint(socks.port), timeout=2.0))
    assert elapsed < 2.0 + MARGIN
    assert not status.ready and not status.socks_ok
    assert status.error.startswith("TimeoutError")


def test_socks_answers_is_bounded_in_total(fake_tor):
    socks = fake_tor(silent=True)
    answered, elapsed = returns_within(1.0 + MARGIN, lambda: socks_answers("127.0.0.1", socks.port, timeout=1.0))
    assert answered is False and elapsed >= 0.9
