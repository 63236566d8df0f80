"""Property tests of the crypto extractor: random text, Base58 and hex yield no checksum-verified address, single
character mutations of valid addresses are rejected, and nothing raises on any str."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.extract.crypto import find_crypto_addresses, validate_address
from pipelines.extract.crypto.base58 import ALPHABET
from tests.vectors import load_vectors

# 32-bit (Base58Check, Monero), 30-bit (Bech32) and 40-bit (CashAddr) checksums: a mutation passing is ~1e-9.
STRONG_CHECKSUM_FILES = ("bitcoin", "litecoin", "dogecoin", "dash", "bitcoincash", "monero", "tron", "zcash")
VALID = [a for f in STRONG_CHECKSUM_FILES for a in load_vectors(f)["valid"]]
ETH_VALID = load_vectors("ethereum")["valid"]
SOLANA = load_vectors("solana")["valid"]
MUTATION_CHARS = string.ascii_letters + string.digits
SEPARATORS = [" ", "\n", "+", "/", "=", ":", "?", "&", "bitcoincash:", "?address=", "Solana ", "0x", "1"]
SEPARATORS += ["%", "%3A", "%3D", "%2F", "%3Faddress%3D"]  # URL-encoded links


def _verified(results: list) -> list:
    return [r for r in results if r is not None and r.checksum == "verified"]


@given(st.text())
def test_random_text_yields_no_verified_address(text: str) -> None:
    assert _verified(find_crypto_addresses(text)) == []


@given(st.text(alphabet=ALPHABET, min_size=14, max_size=120))
def test_random_base58_is_no_checksummed_address(token: str) -> None:
    assert find_crypto_addresses(f"Send payment to {token} within 24h") == []
    result = validate_address(token)
    # Only the checksum-less Solana reading (any 32-byte Base58) can accept a random string.
    assert result is None or (result.currency, result.checksum) == ("SOL", "none")


@given(st.binary(min_size=32, max_size=32), st.booleans())
def test_hashes_and_txids_are_no_address(digest: bytes, upper: bool) -> None:
    hexed = digest.hex().upper() if upper else digest.hex()
    text = f"txid {hexed} tx 0x{hexed} sha1 {hexed[:40]} trailing 0x{hexed[:41]} tron 41{hexed[:40]}"
    assert find_crypto_addresses(text) == []


@given(st.binary(min_size=20, max_size=20))
def test_lowercase_hex_with_0x_is_unchecked_eth(raw: bytes) -> None:
    results = find_crypto_addresses(f"send to 0x{raw.hex()} now")
    assert [(r.currency, r.kind, r.checksum) for r in results] == [("ETH", "eth_unchecked", "none")]


@settings(max_examples=300)
@given(st.sampled_from(VALID), st.data())
def test_single_character_mutation_is_rejected(address: str, data: st.DataObject) -> None:
    original = validate_address(address)
    assert original is not None
    index = data.draw(st.integers(min_value=0, max_value=len(address) - 1))
    replacement = data.draw(st.sampled_from(MUTATION_CHARS).filter(lambda c: c != address[index]))
    mutated = data.draw(
        st.sampled_from([address[:index] + replacement + address[index + 1 :], address[:index] + address[index + 1 :]])
    )
    result = validate_address(mutated)
    # A single-case Ethereum spelling has no checksum to break; everything else must fail its checksum.
    assert result is None or (result.checksum == "none" and result.address != original.address)
    assert _verified(find_crypto_addresses(f"pay to {mutated} today")) == []


def test_eip55_rejects_nearly_all_single_character_mutations() -> None:
    # EIP-55 carries one check bit per hex letter (~15 per address), so a mutation slips through with probability
    # about 2**-letters: measured exhaustively over every mutation of the vectors instead of sampled.
    mutations = accepted = 0
    for address in ETH_VALID:
        for i in range(2, len(address)):
            for c in "0123456789abcdefABCDEF":
                if c == address[i]:
                    continue
                mutated = address[:i] + c + address[i + 1 :]
                result = validate_address(mutated)
                mutations += 1
                if result is not None and result.checksum == "verified":
                    assert result.kind == "eip55"
                    accepted += 1
    assert mutations > 10_000
    assert accepted / mutations < 1e-3


@given(
    st.lists(
        st.one_of(
            st.sampled_from([*VALID, *ETH_VALID, *SOLANA]),
            st.sampled_from(SEPARATORS),
            st.text(max_size=20),
        ),
        max_size=30,
    ).map("".join)
)
def test_finder_never_raises_and_agrees_with_validate(text: str) -> None:
    for result in find_crypto_addresses(text):
        assert result.address.split(":")[-1].lower() in text.lower()
        as_written = result.address
        if result.currency == "BCH" and not as_written.startswith("bitcoincash:"):
            as_written = "bitcoincash:" + as_written  # a legacy-format address inside a bitcoincash: link
        alone = validate_address(as_written)
        assert alone is not None
        assert (alone.currency, alone.kind, alone.checksum) == (result.currency, result.kind, result.checksum)


@given(st.text(alphabet=st.characters(), max_size=200))
def test_validate_address_never_raises(text: str) -> None:
    validate_address(text)
