import hashlib

import pytest

from crawler.errors import UsageError
from crawler.safety.blocklist import load_blocklists, parse_blocklist

ONION = "darkcrawlblockxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion"  # 56 chars + .onion
OTHER = "darkcrawlotherxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion"


def test_plain_hosts_block_the_host_and_its_subdomains_only():
    blocklist = parse_blocklist([f"{ONION}  # a comment", "", "# only a comment", "Bad.Example."], "list.txt")
    assert blocklist.match(ONION) == "list.txt:1"
    assert blocklist.match(f"www.{ONION}") == "list.txt:1"
    assert blocklist.match(ONION.upper()) == "list.txt:1"
    assert blocklist.match("bad.example") == "list.txt:4"
    assert blocklist.match(OTHER) is None
    assert blocklist.match("notbad.example") is None
    assert blocklist.match("example") is None


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256"])
def test_hashed_hosts_match_like_public_onion_indexes_publish_them(algorithm):
    # Ahmia's banned list: md5 of the full hostname, one a line
    digest = hashlib.new(algorithm, ONION.encode()).hexdigest()
    blocklist = parse_blocklist([digest.upper()], "banned.txt")
    assert blocklist.match(ONION) == "banned.txt:1"
    assert blocklist.match(f"sub.{ONION}") == "banned.txt:1"
    assert blocklist.match(OTHER) is None


def test_digest_of_the_bare_address_and_prefixed_digests():
    bare = hashlib.sha256(ONION.removesuffix(".onion").encode()).hexdigest()
    blocklist = parse_blocklist([f"sha256:{bare}"], "x")
    assert blocklist.match(ONION) == "x:1"


@pytest.mark.parametrize(
    "line, message",
    [
        ("md5:abcd", "md5 digest must have 32 hex digits"),
        ("crc32:" + "a" * 8, "unknown digest prefix"),
        ("bad!host", "neither a hostname"),
        ("sha256:" + "a" * 32, "sha256 digest must have 64 hex digits"),
    ],
)
def test_bad_lines_are_errors_naming_file_and_line(line, message):
    with pytest.raises(UsageError) as error:
        parse_blocklist(["# header", line], "lists/ban.txt")
    assert "lists/ban.txt:2" in str(error.value) and message in str(error.value)


def test_files_and_inline_entries_combine(tmp_path):
    path = tmp_path / "ban.txt"
    path.write_text(hashlib.md5(ONION.encode()).hexdigest() + "\n")
    blocklist = load_blocklists([path], ["http://bad.example/some/page"])
    assert blocklist.match(ONION) == f"{path}:1"
    assert blocklist.match("bad.example") == "DARKCRAWL_BLOCKLIST_HOSTS:1"
    assert len(blocklist) == 2


def test_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="cannot read it"):
        load_blocklists([tmp_path / "nope.txt"])
