"""Security of the service, the parts that need no running service: protected torrc options, the private umask of a
crawl, loopback defaults."""

import os
import stat

import pytest

from crawler.config import darkcrawl_defaults, load_settings
from crawler.errors import UsageError
from crawler.lab.torrc import LOOPBACK
from crawler.tor.launcher import parse_extra_config


@pytest.mark.parametrize(
    "line",
    ["ControlPort 0.0.0.0:9051", "controlport 9051", "CookieAuthentication 0", "SocksPort 0.0.0.0:9050",
     "HashedControlPassword 16:ABC", "CookieAuthFileGroupReadable 1", "DataDirectory /tmp/x", "DNSPort 53"],
)
def test_extra_torrc_lines_cannot_weaken_the_launched_tor(line):
    with pytest.raises(UsageError, match="may not set"):
        parse_extra_config(["TestingTorNetwork 1", line])


def test_extra_torrc_lines_that_join_a_network_are_accepted():
    config = parse_extra_config(["TestingTorNetwork 1", "DirAuthority a 127.0.0.1:1 X", "DirAuthority b 127.0.0.1:2 Y"])
    assert config["DirAuthority"] == ["a 127.0.0.1:1 X", "b 127.0.0.1:2 Y"]


def test_crawl_makes_the_data_directory_and_its_files_private(tmp_path):
    from crawler.crawl import private_files

    data = tmp_path / "data"
    previous = os.umask(0o022)
    try:
        private_files(load_settings(environ={}, overrides={"DARKCRAWL_DATA_DIR": str(data)}))
        (data / "spool").mkdir()
        (data / "spool" / "x.jsonl").write_text("{}")
    finally:
        os.umask(previous)
    for path in (data, data / "spool", data / "spool" / "x.jsonl"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_listening_defaults_are_loopback():
    defaults = darkcrawl_defaults()
    assert LOOPBACK == "127.0.0.1"
    assert defaults["DARKCRAWL_METRICS_HOST"] == "127.0.0.1"  # the scheduler's Prometheus endpoint
