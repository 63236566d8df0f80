"""The crypto extractor against the official vectors (tests/fixtures/vectors): every valid mainnet address is found
and classified inside realistic page text and payment links, every invalid one and every testnet one is not
reported as its chain, and the look-alikes are rejected."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pipelines.extract.crypto import CryptoAddress, find_crypto_addresses, validate_address
from pipelines.extract.crypto.bech32 import Encoding, bech32_decode
from tests.vectors import load_vectors

CHAINS = {
    "bitcoin": "BTC",
    "litecoin": "LTC",
    "dogecoin": "DOGE",
    "dash": "DASH",
    "bitcoincash": "BCH",
    "monero": "XMR",
    "ethereum": "ETH",
    "tron": "TRX",
    "zcash": "ZEC",
    "solana": "SOL",
}
# BIP-21 style URI schemes for the payment-link template.
SCHEMES = {
    "BTC": "bitcoin",
    "LTC": "litecoin",
    "DOGE": "dogecoin",
    "DASH": "dash",
    "BCH": "bitcoincash",
    "XMR": "monero",
    "ETH": "ethereum",
    "TRX": "tron",
    "ZEC": "zcash",
    "SOL": "solana",
}
# Plain sentences as an HTML-to-text stage produces them; "{a}" is the address.
SENTENCES = [
    "Send payment to {a} within 24h",
    "BTC/XMR accepted.\n\nWallet:\t{a}.\nOrders ship in 2 days",
    "(donations: {a})",
    "|{a}|",
    "{a}",
]


def _values(file: str, key: str) -> list[str]:
    return [v if isinstance(v, str) else v["value"] for v in load_vectors(file).get(key, [])]


def _cases(key: str) -> list[Any]:
    return [pytest.param(file, value, id=f"{file}:{value[:40]}") for file in CHAINS for value in _values(file, key)]


def canonical(currency: str, address: str) -> str:
    """The spelling the extractor must report: Bech32 and CashAddr lowercased, CashAddr always prefixed."""
    if currency == "BCH":
        payload = address.split(":", 1)[-1]
        return "bitcoincash:" + payload.lower()
    if re.match(r"(?i)(bc|ltc|zs|tex|u)1", address) and currency in ("BTC", "LTC", "ZEC"):
        return address.lower()
    return address


def expected_kind(currency: str, address: str) -> str:
    """The kind by the chains' documented prefixes and lengths (independent of the decoder)."""
    low = address.lower()
    if currency in ("BTC", "LTC"):
        hrp = "bc1" if currency == "BTC" else "ltc1"
        if low.startswith(hrp):
            program = low[len(hrp) :]
            if program.startswith("q"):
                return "p2wpkh" if len(program) == 39 else "p2wsh"
            return "p2tr" if program.startswith("p") and len(program) == 59 else "segwit_v1+"
        return "p2pkh" if address[0] in "1L" else "p2sh"
    if currency == "DOGE":
        return "p2pkh" if address[0] == "D" else "p2sh"
    if currency == "DASH":
        return "p2pkh" if address[0] == "X" else "p2sh"
    if currency == "BCH":
        return "cashaddr_p2pkh" if low.split(":")[-1][0] == "q" else "cashaddr_p2sh"
    if currency == "XMR":
        if address[0] == "8":
            return "monero_subaddress"
        return "monero_standard" if len(address) == 95 else "monero_integrated"
    if currency == "ETH":
        digits = address[2:]
        return "eth_unchecked" if digits in (digits.lower(), digits.upper()) else "eip55"
    if currency == "ZEC":
        for prefix, kind in (("t1", "transparent_p2pkh"), ("t3", "transparent_p2sh"), ("zs1", "sapling"),
                             ("tex1", "tex"), ("u1", "unified")):
            if low.startswith(prefix):
                return "zcash_" + kind
    return {"TRX": "tron", "SOL": "solana"}[currency]


def _only(found: list[CryptoAddress]) -> CryptoAddress:
    assert len(found) == 1, found
    return found[0]


def _check(result: CryptoAddress, currency: str, address: str) -> None:
    assert currency == result.currency or currency in result.ambiguous_with
    assert result.address == canonical(currency, address)
    assert result.kind == expected_kind(currency, address)
    single_case_eth = currency == "ETH" and result.kind == "eth_unchecked"
    assert result.checksum == ("none" if currency == "SOL" or single_case_eth else "verified")


@pytest.mark.parametrize(("file", "address"), _cases("valid"))
def test_valid_vector_found_in_sentences(file: str, address: str) -> None:
    currency = CHAINS[file]
    for sentence in SENTENCES:
        text = sentence.format(a=address)
        if currency == "SOL":
            # No checksum: never reported without a Solana word nearby, reported with one.
            assert find_crypto_addresses(text) == []
            text = "Pay with Solana (SOL) - " + text
        result = _only(find_crypto_addresses(text))
        _check(result, currency, address)
        assert canonical(currency, address).split(":")[-1].lower() in result.context.lower()


@pytest.mark.parametrize(("file", "address"), _cases("valid"))
def test_valid_vector_found_in_payment_link(file: str, address: str) -> None:
    currency = CHAINS[file]
    target = address if ":" in address else f"{SCHEMES[currency]}:{address}"
    html = f'<p>Checkout</p><a class="btn" href="{target}?amount=0.1&label=order%2042">Pay now</a>'
    _check(_only(find_crypto_addresses(html)), currency, address)
    query = f"<a href='http://shopxyz.onion/checkout?coin={currency.lower()}&address={address}'>QR</a>"
    if currency == "SOL":
        query = "solana " + query
    _check(_only(find_crypto_addresses(query)), currency, address)


@pytest.mark.parametrize(("file", "address"), _cases("valid"))
def test_valid_vector_validates_alone(file: str, address: str) -> None:
    result = validate_address(address)
    assert result is not None
    _check(result, CHAINS[file], address)
    assert result.context == ""


@pytest.mark.parametrize(("file", "value"), _cases("invalid"))
def test_invalid_vector_not_reported_as_its_chain(file: str, value: str) -> None:
    currency = CHAINS[file]
    found = find_crypto_addresses(f"Send payment to {value} within 24h. Solana SOL accepted.")
    single = validate_address(value)
    results = [*found, *([single] if single else [])]
    if currency == "ETH" and re.fullmatch(r"0x([0-9a-f]{40}|[0-9A-F]{40})", value):
        # A single-case spelling carries no checksum: reported, but never as checksum-verified.
        assert [(r.currency, r.kind, r.checksum) for r in results] == [("ETH", "eth_unchecked", "none")] * 2
        return
    assert not [r for r in results if r.currency == currency or currency in r.ambiguous_with]


@pytest.mark.parametrize(("file", "value"), _cases("valid_other_networks"))
def test_other_network_address_not_reported(file: str, value: str) -> None:
    currency = CHAINS[file]
    results = find_crypto_addresses(f"testnet faucet: {value} (do not send mainnet coins)")
    single = validate_address(value)
    assert not [r for r in [*results, single] if r is not None and r.currency == currency]


def test_cross_chain_invalid_entries_are_classified_as_their_real_chain() -> None:
    # The vectors list some addresses as invalid for one chain because they belong to another one.
    assert _only(find_crypto_addresses("pay MPmoY6RX3Y3HFjGEnFxyuLPCQdjvHwMEny")).currency == "LTC"
    assert _only(find_crypto_addresses("pay TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC")).currency == "TRX"
    assert validate_address("ecash:pqx578nanz2h2estzmkr53zqdg6qt8xyqvh683mrz0") is None
    assert validate_address("bcash:pqx578nanz2h2estzmkr53zqdg6qt8xyqvwhn6qeyc") is None


def test_p2sh_three_is_bitcoin_ambiguous_with_litecoin() -> None:
    result = _only(find_crypto_addresses("escrow 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"))
    assert (result.currency, result.kind, result.ambiguous_with) == ("BTC", "p2sh", ("LTC",))


@pytest.mark.parametrize("entry", load_vectors("lookalikes")["entries"], ids=lambda e: e["text"][:40])
def test_lookalikes(entry: dict[str, Any]) -> None:
    text = entry["text"]
    found = find_crypto_addresses(f"Payment details: {text} - thanks. solana")
    if text == "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4":
        assert [(r.address, r.kind) for r in found] == [(text.lower(), "p2wpkh")]
    else:
        assert found == []
        assert validate_address(text) is None


def test_pgp_armor_yields_no_address() -> None:
    pgp = load_vectors("pgp")
    blocks = [pgp["valid"][0]["armored"], *(e["armored"] for e in pgp["invalid"]), pgp["multi_block_page"]["text"]]
    for block in blocks:
        # The same certificate is published in Solana's security-txt README: the Solana gate must not help it.
        assert find_crypto_addresses("Solana security contact, SOL bounty:\n" + block) == []


def test_naive_regex_matches_inside_armor_are_rejected() -> None:
    armor = load_vectors("pgp")["valid"][0]["armored"]
    for naive in re.findall(r"[13][a-km-zA-HJ-NP-Z1-9]{25,34}", armor):
        assert validate_address(naive) is None


@pytest.mark.parametrize("value", load_vectors("bech32_generic")["valid"])
def test_bech32_generic_valid(value: str) -> None:
    decoded = bech32_decode(value)
    assert decoded is not None
    note = {e["value"]: e["note"] for e in load_vectors("bech32_generic")["entries"]["valid"]}[value]
    assert decoded[2] is (Encoding.BECH32M if note.startswith("bech32m") else Encoding.BECH32)


@pytest.mark.parametrize("value", load_vectors("bech32_generic")["invalid"])
def test_bech32_generic_invalid(value: str) -> None:
    assert bech32_decode(value) is None


def test_sapling_is_longer_than_bip173_limit_only_with_limit_lifted() -> None:
    unified = next(v for v in _values("zcash", "valid") if v.startswith("u1"))
    assert len(unified) > 90
    assert bech32_decode(unified) is None
    assert bech32_decode(unified, max_length=None) is not None
