import pytest

from crawler.errors import UsageError
from crawler.seeds import parse_seeds, read_seed_file
from tests.vectors import load_vectors

VECTORS = load_vectors("onion")
VALID = VECTORS["valid"]
INVALID = VECTORS["invalid"]


def test_valid_onions_become_seeds_with_their_line_numbers():
    lines = ["# a comment", "", f"http://{VALID[0]}/index.php", f"  {VALID[1]}  # bare host, trailing comment"]
    seeds = parse_seeds(lines)
    assert [(seed.url, seed.line) for seed in seeds.seeds] == [
        (f"http://{VALID[0]}/index.php", 3),
        (f"http://{VALID[1]}/", 4),
    ]
    assert seeds.problems == []
    assert seeds.sites == sorted([VALID[0], VALID[1]])


def test_bad_lines_are_reported_with_line_numbers_and_skipped():
    lines = [
        f"http://{VALID[0]}/",
        f"http://{INVALID[0]}/",  # checksum fails
        "http://expyuzz4wqqyqhjn.onion/",  # v2: gone from the network
        "https://example.com/",  # clearnet, not allowed
        "ftp://" + VALID[1] + "/",
        "not a url at all",
        "http://" + "a" * 3000 + ".onion/",
    ]
    seeds = parse_seeds(lines)
    assert [seed.url for seed in seeds.seeds] == [f"http://{VALID[0]}/"]
    reasons = {problem.line: problem.reason for problem in seeds.problems}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert "checksum" in reasons[2]
    assert "v2" in reasons[3]
    assert "clearnet" in reasons[4]
    assert "scheme" in reasons[5]
    assert "line 2" in str(seeds.problems[0])


def test_clearnet_seed_accepted_only_when_allowed():
    assert parse_seeds(["https://example.com/x"], allow_clearnet=True).seeds[0].url == "https://example.com/x"
    assert parse_seeds(["https://example.com/x"]).seeds == []


def test_hostnames_are_lowercased_fragments_dropped_duplicates_merged():
    upper = VALID[2].upper()
    seeds = parse_seeds([f"http://{upper}/a#frag", f"http://{VALID[2]}/a"])
    assert [seed.url for seed in seeds.seeds] == [f"http://{VALID[2]}/a"]


@pytest.mark.parametrize("onion", INVALID)
def test_every_invalid_vector_is_refused(onion):
    assert parse_seeds([f"http://{onion}/"]).seeds == []


def test_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        read_seed_file(tmp_path / "nope.txt")


def test_file_with_junk_bytes_still_yields_its_good_lines(tmp_path):
    path = tmp_path / "seeds.txt"
    path.write_bytes(b"\xff\xfe garbage\n" + f"{VALID[3]}\n".encode())
    seeds = read_seed_file(path)
    assert [seed.site for seed in seeds.seeds] == [VALID[3]]
    assert seeds.problems and seeds.problems[0].line == 1


def test_render_option_after_the_url():
    lines = [f"http://{VALID[0]}/ render=1", f"{VALID[1]} render=no  # plain", f"http://{VALID[2]}/ colour=red",
             f"http://{VALID[3]}/ render=maybe"]
    seeds = parse_seeds(lines)
    assert [(seed.site, seed.render) for seed in seeds.seeds] == [(VALID[0], True), (VALID[1], False)]
    assert [(problem.line, problem.reason) for problem in seeds.problems] == [
        (3, "unknown seed option 'colour=red' (known: render=1)"),
        (4, "render='maybe' is not 1/0, true/false, yes/no or on/off"),
    ]


def test_a_byte_order_mark_keeps_line_one(tmp_path):
    path = tmp_path / "seeds.txt"
    path.write_bytes(b"\xef\xbb\xbf" + f"http://{VALID[0]}/\n{VALID[1]}\n".encode())
    seeds = read_seed_file(path)
    assert [(seed.url, seed.line) for seed in seeds.seeds] == [(f"http://{VALID[0]}/", 1), (f"http://{VALID[1]}/", 2)]
    assert parse_seeds(["\ufeff" + VALID[0]]).seeds[0].line == 1  # stdin and other readers alike


def test_ipv6_seeds_keep_their_brackets():
    assert parse_seeds(["http://[2606:4700::1]:8080/x"], allow_clearnet=True).seeds[0].url == (
        "http://[2606:4700::1]:8080/x"
    )
