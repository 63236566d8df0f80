"""How the crypto finder treats page text: boundaries (Base64, URLs, hashes, glued addresses), payment links,
context, order and uniqueness, the Solana gate, and the JSON form."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from pipelines.extract.crypto import CryptoAddress, find_crypto_addresses, validate_address
from pipelines.extract.crypto.finder import _MASK, _runs

BTC = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
P2SH = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
SEGWIT = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
ETH = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
XMR = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
SOL = "2gVkYWexTHR5Hb2aLeQN3tnngvWzisFKXDUPrgMHpdST"
BCH = "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"


def addresses(text: str) -> list[str]:
    return [r.address for r in find_crypto_addresses(text)]


def test_order_of_first_appearance_and_unique() -> None:
    text = f"XMR {XMR}\nBTC {BTC}\nagain {BTC} and {SEGWIT.upper()} and {SEGWIT}\nETH {ETH}"
    assert addresses(text) == [XMR, BTC, SEGWIT, ETH]


def test_first_context_is_kept_and_whitespace_collapsed() -> None:
    text = f"Vendor   wallet\n\n\tfor escrow:  {BTC}\n   send within 24h.  " + "x" * 200 + f" {BTC} later"
    (result,) = find_crypto_addresses(text)
    # About 30 characters either side, cut at word boundaries, whitespace runs collapsed to one space.
    assert result.context == f"wallet for escrow: {BTC} send within 24h."


def test_to_dict_is_json_ready() -> None:
    (result,) = find_crypto_addresses(f"pay {P2SH}")
    data = result.to_dict()
    assert data == {
        "currency": "BTC",
        "address": P2SH,
        "kind": "p2sh",
        "context": f"pay {P2SH}",
        "ambiguous_with": ["LTC"],
        "checksum": "verified",
    }
    assert json.loads(json.dumps(data)) == data


def test_payment_uri_and_query_value_are_reported() -> None:
    html = (
        f'<a href="bitcoin:{BTC}?amount=0.1&amp;label=x">a</a> <a href="{BCH}?amount=1">b</a> '
        f'<a href="ethereum:{ETH}@1?value=1e18">c</a> <img src="/qr?size=200&amp;address={SEGWIT}">'
        f'<a href="/pay?addr={P2SH}&coin=btc">d</a>'
    )
    assert addresses(html) == [BTC, BCH, ETH, SEGWIT, P2SH]


def test_url_path_segments_are_not_reported() -> None:
    text = (
        f"http://market4xyz.onion/listing/{BTC}/reviews https://explorer.invalid/address/{SEGWIT} "
        f"http://a.onion/u/{ETH}"
    )
    assert addresses(text) == []


def test_base64_neighbours_exclude_a_candidate() -> None:
    for glued in (f"+{BTC}", f"{BTC}+", f"/{BTC}", f"{BTC}/", f"{BTC}=", f"=={BTC}", f"A{BTC}", f"{BTC}9"):
        assert addresses(f"blob {glued} end") == [], glued


def test_equals_sign_only_counts_after_a_parameter_name() -> None:
    assert addresses(f"?address={BTC}") == [BTC]
    assert addresses(f"wallet={BTC}") == [BTC]
    assert addresses(f"QUJD+={BTC}") == []
    assert addresses(f"\n={BTC}") == []


def test_glued_addresses_are_not_reported() -> None:
    assert addresses(BTC + P2SH) == []
    assert addresses(SEGWIT + SEGWIT) == []
    assert addresses(ETH + ETH[2:]) == []


def test_hex_hashes_are_not_addresses() -> None:
    tx = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
    sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert addresses(f"tx {tx} commit {sha1} sha256 {tx[2:]} tron 41a614f803b6fd780986a42c78ec9c7f77e6ded13c") == []


def test_eth_single_case_is_unchecked_and_mixed_case_typo_is_dropped() -> None:
    lower = ETH.lower()
    (result,) = find_crypto_addresses(f"send to {lower}")
    assert (result.kind, result.checksum) == ("eth_unchecked", "none")
    typo = ETH[:3] + ETH[3].swapcase() + ETH[4:]
    assert addresses(f"send to {typo}") == []


def test_solana_needs_a_solana_word_nearby() -> None:
    assert addresses(f"Send payment to {SOL} within 24h") == []
    assert addresses(f"Send SOL to {SOL}") == [SOL]
    assert addresses(f"Phantom wallet: {SOL}") == [SOL]
    assert addresses(f"{SOL} (USDT-SPL)") == [SOL]
    assert addresses(f"solana:{SOL}?amount=1") == [SOL]
    far = f"Solana accepted. {'Lorem ipsum dolor sit amet. ' * 4}Wallet: {SOL}"
    assert addresses(far) == []
    assert addresses(f"el sol brilla {SOL}") == []


def test_single_case_strings_are_not_solana_keys() -> None:
    # 44 hex digits without a zero decode to 32 bytes (this one does): shape alone would make it a Solana key.
    digest = "9f86d081884c7d659a2feaa5c55ad015a3bf4f1b2b5b822cd15d6c15b6f1f2a9"[:44].replace("0", "e")
    alone = validate_address(digest)
    assert alone is not None and (alone.currency, alone.checksum) == ("SOL", "none")
    assert addresses(f"Solana tx {digest}") == []
    assert addresses(f"Solana tx {digest.upper()}") == []
    # Program ids made of digits only are kept (the System Program is 32 ones).
    assert addresses("Solana system program 11111111111111111111111111111111") == ["1" * 32]


def test_cashaddr_prefix_rules() -> None:
    payload = BCH.split(":")[1]
    assert addresses(f"BCH: {payload}") == [BCH]
    assert addresses(f"BCH: {BCH.upper()}") == [BCH]
    assert addresses(f"BCH: BitCoinCash:{payload.upper()}") == []
    assert addresses(f"bchtest:{payload}") == []
    assert addresses(f"0itcoincash:{payload}") == []
    assert addresses(f"BCH:{payload}") == []  # a glued word is read as the network prefix
    # Legacy-format addresses in a bitcoincash: link are Bitcoin Cash (the same strings are valid on BTC).
    (legacy,) = find_crypto_addresses(f'<a href="bitcoincash:{P2SH}?amount=1">BCH</a>')
    assert (legacy.currency, legacy.address, legacy.kind) == ("BCH", P2SH, "p2sh")
    assert legacy.ambiguous_with == ("BTC", "LTC")


def test_validate_address_single_strings() -> None:
    result = validate_address(f"  {BTC}\n")
    assert result == CryptoAddress("BTC", BTC, "p2pkh", "")
    assert validate_address(f"{BTC} {BTC}") is None
    assert validate_address(f"bitcoin:{BTC}?amount=1") is None
    assert validate_address(f"bitcoin:{BTC}") == CryptoAddress("BTC", BTC, "p2pkh", "")
    assert validate_address("") is None
    assert validate_address(SOL) == CryptoAddress("SOL", SOL, "solana", "", (), "none")
    # A failed Bech32 string never falls back to the checksum-less Solana reading.
    assert validate_address("LTC1Q3ME3JU4NWKE72UUETHLKLZMWQAVTDG4AG8FXSK") is None


def test_non_ascii_text_keeps_positions() -> None:
    text = f"Оплата: {BTC} — срок 24 ч. 支付地址\uff1a{SEGWIT}\u3002 \U0001f4b0 {ETH}\udcff"
    found = find_crypto_addresses(text)
    assert [r.address for r in found] == [BTC, SEGWIT, ETH]
    assert all(r.address in r.context for r in found)


def test_long_runs_are_dismissed() -> None:
    assert addresses("u1" + "q" * 100_000) == []
    assert addresses("A" * 1_000_000 + " " + BTC) == [BTC]


def test_url_encoded_payment_links_are_reported() -> None:
    # QR-code image links carry the payment URI URL-encoded: the escapes stand for ":" and "=".
    qr = (
        f'<img src="https://qr.invalid/chart?cht=qr&chl=bitcoin%3A{BTC}%3Famount%3D0.1">'
        f'<img src="/qr?data=bitcoincash%3A{BCH.split(":")[1]}%26x%3D1">'
        f'<a href="/go?to=https%3A%2F%2Fpay.invalid%2Fcheckout%3Faddress%3D{SEGWIT}%26coin%3Dbtc">pay</a>'
        f"<img src='/qr?d=solana%3A{SOL}'>"
        "<img src='/qr?d=bitcoin%3Abc1z2rksukkjr8'>"
    )
    assert addresses(qr) == [BTC, BCH, SEGWIT, SOL, "bc1z2rksukkjr8"]
    (bch,) = find_crypto_addresses(f"chl%3Dbitcoincash%3A{BCH.split(':')[1]}")
    assert (bch.currency, bch.address) == ("BCH", BCH)


def test_double_slash_scheme_links_are_reported() -> None:
    html = f'<a href="bitcoin://{BTC}?amount=1">a</a> <a href="bitcoin://bc1z2rksukkjr8">b</a> bitcoincash://{BCH[12:]}'
    assert addresses(html) == [BTC, "bc1z2rksukkjr8", BCH]
    # Still no path segments: a second slash or a host before the address.
    assert addresses(f"bitcoin:///{BTC} http://host/{BTC} bitcoin://{BTC}/x") == []


def test_url_encoded_glue_still_excludes() -> None:
    # Escaped "/", "+" and "=" glue a run to a path or a Base64 blob as the characters themselves do.
    for glued in (f"%2F{BTC}", f"{BTC}%2F", f"%2B{BTC}", f"{BTC}%2b", f"{BTC}%3D", f"%3D{BTC}", f"x%3A{BTC}"):
        found = addresses(f"blob {glued} end")
        assert found == ([] if "x%3A" not in glued else [BTC]), glued
    assert addresses(f"ecash%3A{BCH.split(':')[1]}") == []
    # A literal "%" before a P2SH address that starts like an escape ("3D" = "=") keeps the address as written.
    # Constructed here: Base58Check of version 5 and a 20-byte hash.
    p2sh_3d = "3DWUBaBrcoLN3mriH5DQvuNEmufzfRp3Dw"
    assert validate_address(p2sh_3d) == CryptoAddress("BTC", p2sh_3d, "p2sh", "", ("LTC",))
    assert addresses(f"fee 100%{p2sh_3d}") == [p2sh_3d]


def test_long_words_are_not_addresses() -> None:
    text = "Versandkostenfrei Zahlungsbestätigung Kundenzufriedenheitsgarantie internationalization " * 50
    assert addresses(text) == []
    assert addresses(f"{text} bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs {text}") == ["bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"]


def test_short_segwit_addresses_only_at_a_run_start() -> None:
    short = "bc1z2rksukkjr8"  # 14 characters: the shortest address there is
    assert addresses(f"v2 {short} and {short.upper()[:-1]}J") == [short]
    assert addresses(f"x{short} {short}x 9{short} ltc1zjwls6j8c4uq") == []
    assert addresses(f"ltc1zjwls6j8c4u,{short}") == ["ltc1zjwls6j8c4u", short]


PIECES = ["bc1", "BC1", "ltc1", "LTC1", "%", "%3A", "3A", "q", "Z9", " ", "/", "+", "=", "\u00e9", "\u4e2d"]
PIECES += ["x" * 11, "k" * 20, ":", "://", "bitcoin://"]


@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_candidate_runs_match_a_plain_scan(text: str) -> None:
    # The finder skips runs of 14-24 characters unless a short SegWit head opens them (directly, after an escape or
    # after "://");
    # compare its run list with a plain enumeration of every run.
    encoded = text.encode("latin-1", "replace")
    mask = encoded.translate(_MASK)
    expected = []
    for match in re.finditer(rb"a+", mask):
        start, end = match.span()
        heads = (b"bc1", b"ltc1")
        opens = encoded[start : start + 4].lower().startswith(heads)
        after_escape = encoded[start + 2 : start + 6].lower().startswith(heads)
        opener = start > 0 and (encoded[start - 1] == ord("%") or encoded[start - 1 : start + 2] == b"://")
        escaped = opener and after_escape
        if end - start >= 25 or (end - start >= 14 and (opens or escaped)):
            expected.append((start, end))
    assert _runs(encoded, mask) == expected
