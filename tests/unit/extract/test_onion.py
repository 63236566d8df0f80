"""v3 onion validation and discovery, against the rend-spec-v3 vectors and obfuscated forms."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.identity import is_valid_onion_v3, onion_host
from pipelines.extract.onion import find_onions
from tests.vectors import load_vectors

VALID = load_vectors("onion")["valid"]
INVALID = load_vectors("onion")["invalid"]
SPEC = VALID[0]  # pg6mmjiy...scryd.onion, the spec's example
LABEL = SPEC[: -len(".onion")]


def make_onion(pubkey: bytes, version: int = 3) -> str:
    """An onion hostname per rend-spec-v3, written independently of the code under test."""
    checksum = hashlib.sha3_256(b".onion checksum" + pubkey + bytes([version])).digest()[:2]
    return base64.b32encode(pubkey + checksum + bytes([version])).decode().lower() + ".onion"


@pytest.mark.parametrize("host", VALID)
def test_valid_vectors(host: str) -> None:
    assert is_valid_onion_v3(host)
    assert is_valid_onion_v3(host.upper())
    assert is_valid_onion_v3("www." + host + ".")
    assert onion_host(f"http://{host.upper()}:8080/path?q=1") == host


@pytest.mark.parametrize("host", INVALID)
def test_invalid_vectors(host: str) -> None:
    assert not is_valid_onion_v3(host)
    assert onion_host(f"http://{host}/") is None
    assert find_onions(f"visit {host} today") == []


def test_constructed_addresses() -> None:
    for seed in range(20):
        pubkey = hashlib.sha256(bytes([seed])).digest()
        assert is_valid_onion_v3(make_onion(pubkey))
        assert not is_valid_onion_v3(make_onion(pubkey, version=2))


def test_onion_host_rejects_non_onions() -> None:
    assert onion_host("https://example.com/") is None
    assert onion_host("http://[::1") is None
    assert onion_host("") is None
    assert onion_host(LABEL) is None
    assert onion_host(SPEC) == SPEC


@pytest.mark.parametrize(
    "text",
    [
        f"mirror: http://{SPEC}/market",
        f"new address {LABEL.upper()}.ONION (case does not matter)",
        f"{LABEL}[.]onion",
        f"{LABEL} [.] onion",
        f"{LABEL}(.)onion",
        f"{LABEL} [dot] onion",
        f"{LABEL}(dot)onion",
        f"{LABEL} dot onion",
        f"{LABEL} . onion",
        f"{LABEL[:20]} {LABEL[20:40]} {LABEL[40:]}.onion",
        f"{LABEL[:28]}\n{LABEL[28:]} . onion",
        f"sub.domain.{SPEC}",
    ],
)
def test_obfuscated_forms(text: str) -> None:
    assert find_onions(text) == [SPEC]


def test_many_onions_in_order_without_duplicates() -> None:
    text = " ".join(f"{host} and {host}" for host in VALID)
    assert find_onions(text) == VALID


def test_link_hosts_first() -> None:
    assert find_onions(f"text names {VALID[1]}", extra_hosts=[VALID[0], "bad.onion"]) == [VALID[0], VALID[1]]


def test_bases_onion_neighbours_are_not_taken() -> None:
    # 57 base32 characters: the last 56 are not an address on their own word boundary, and the checksum fails.
    assert find_onions("a" + SPEC) in ([], [SPEC])
    assert find_onions(f"onion routing, .onion sites, {LABEL[:-1]}.onion") == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567 .[]", max_size=400))
def test_random_text_yields_no_onion(text: str) -> None:
    assert find_onions(text + " .onion " + text) == []


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_every_constructed_address_is_found(pubkey: bytes) -> None:
    host = make_onion(pubkey)
    assert find_onions(f"go to {host}/x") == [host]
