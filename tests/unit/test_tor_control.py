from crawler.tor.control import parse_bootstrap_phase


def test_bootstrap_phase_with_and_without_summary():
    done = 'NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"'
    assert parse_bootstrap_phase(done) == (100, "Done")
    assert parse_bootstrap_phase("NOTICE BOOTSTRAP PROGRESS=30 TAG=loading_status") == (30, "")
    assert parse_bootstrap_phase("garbage") is None
