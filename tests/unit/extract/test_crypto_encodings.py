"""The encoding layers under the crypto extractor: Base58 (Bitcoin and Monero), Bech32 bit regrouping, CashAddr,
Keccak-256 vs SHA3-256, EIP-55 and Zcash F4Jumble."""

from __future__ import annotations

import hashlib

from pipelines.extract.crypto.base58 import ALPHABET, b58decode, b58decode_check, monero_b58decode
from pipelines.extract.crypto.bech32 import convert_bits, decode_segwit
from pipelines.extract.crypto.cashaddr import cashaddr_decode
from pipelines.extract.crypto.chains import _VERSION_1, _VERSION_2, BASE58CHECK_HEADS
from pipelines.extract.crypto.ethereum import classify_eth, eip55_checksum
from pipelines.extract.crypto.keccak import keccak256
from pipelines.extract.crypto.zcash import f4jumble_inverse, unified_payload_ok


def test_b58decode_keeps_leading_zero_bytes_and_rejects_bad_characters() -> None:
    assert b58decode("1") == b"\x00"
    assert b58decode("11") == b"\x00\x00"
    assert b58decode("2g") == b"a"
    assert b58decode("1" * 32) == bytes(32)
    for bad in ("", "0abc", "Oabc", "Iabc", "labc", "ab+c", "ab c"):
        assert b58decode(bad) is None


def test_b58decode_check_returns_version_and_payload() -> None:
    body = b58decode_check("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")
    assert body is not None and len(body) == 21 and body[0] == 0
    assert b58decode_check("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3") is None
    assert b58decode_check("1111") is None


def test_monero_block_base58_sizes_and_overflow() -> None:
    assert monero_b58decode("11111111111") == bytes(8)
    assert monero_b58decode("11") == b"\x00"
    # 8 bytes of 0xff encode as "jpXCZedGfVQ"; one more step overflows 64 bits and must be rejected.
    assert monero_b58decode("jpXCZedGfVQ") == b"\xff" * 8
    assert monero_b58decode("jpXCZedGfVR") is None
    assert monero_b58decode("1") is None  # a 1-character final block encodes no byte count
    assert monero_b58decode("1111") is None


def test_convert_bits_padding_rules() -> None:
    assert convert_bits([0, 0, 0, 0, 0, 0, 0, 0], 5, 8, pad=False) == bytes(5)
    assert convert_bits([31], 5, 8, pad=False) is None  # 5 leftover bits with a non-zero value
    assert convert_bits([0, 1], 5, 8, pad=False) is None  # non-zero padding
    assert convert_bits([255], 8, 5, pad=True) == [31, 28]
    assert convert_bits([32], 5, 8, pad=True) is None


def test_segwit_rejects_other_networks_and_wrong_variant() -> None:
    assert decode_segwit("bc", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4") is not None
    assert decode_segwit("ltc", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4") is None
    assert decode_segwit("bc", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx") is None
    # v1 with a Bech32 (not Bech32m) checksum: valid under BIP-173, invalid since BIP-350.
    assert decode_segwit("bc", "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx") is None


def test_cashaddr_types_sizes_and_prefix_coverage() -> None:
    p2pkh = cashaddr_decode("bitcoincash", "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a")
    p2sh = cashaddr_decode("bitcoincash", "ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq")
    assert p2pkh is not None and p2sh is not None
    assert (p2pkh[0], p2sh[0]) == (0, 1)
    assert p2pkh[1] == p2sh[1] and len(p2pkh[1]) == 20
    long_hash = cashaddr_decode("bitcoincash", "qvch8mmxy0rtfrlarg7ucrxxfzds5pamg73h7370aa87d80gyhqxq5nlegake")
    assert long_hash is not None and len(long_hash[1]) == 32
    # The checksum covers the prefix: the same payload under another prefix fails.
    assert cashaddr_decode("bchtest", "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a") is None
    assert cashaddr_decode("BITCOINCASH", "QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A") is not None
    assert cashaddr_decode("bitcoincash", "QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A") is None
    # Checksum-only vector: right checksum, but 19 bytes after the version byte is no valid hash size.
    assert cashaddr_decode("bitcoincash", "qpzry9x8gf2tvdw0s3jn54khce6mua7lcw20ayyn") is None


def test_keccak_is_not_sha3() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"") != hashlib.sha3_256(b"").digest()


def test_eip55_spelling() -> None:
    assert eip55_checksum("0xd3cda913deb6f67967b99d67acdfa1712c293601") == "0xd3CdA913deB6f67967B99D67aCDFa1712C293601"
    # Upper-case input spells the same address: the hash is over the lowercase hex.
    assert eip55_checksum("0xDE709F2102306220921060314715629080E2FB77") == "0xde709f2102306220921060314715629080e2fb77"
    assert classify_eth("0x" + "0" * 40) == "eth_unchecked"
    assert classify_eth("0x" + "g" * 40) is None


def _f4jumble_forward(message: bytes) -> bytes:
    # F4Jumble forward (ZIP-316), written out independently of the module's inverse for a round trip.
    left = min(64, len(message) // 2)
    right = len(message) - left

    def h(i: int, data: bytes) -> bytes:
        return hashlib.blake2b(data, digest_size=left, person=b"UA_F4Jumble_H" + bytes((i, 0, 0))).digest()

    def g(i: int, data: bytes) -> bytes:
        blocks = b"".join(
            hashlib.blake2b(data, digest_size=64, person=b"UA_F4Jumble_G" + bytes((i,)) + j.to_bytes(2, "little"))
            .digest()
            for j in range((right + 63) // 64)
        )
        return blocks[:right]

    def xor(a: bytes, b: bytes) -> bytes:
        return bytes(x ^ y for x, y in zip(a, b, strict=True))

    a, b = message[:left], message[left:]
    x = xor(b, g(0, a))
    y = xor(a, h(0, x))
    d = xor(x, g(1, y))
    c = xor(y, h(1, d))
    return c + d


def test_f4jumble_inverse_round_trip_and_padding() -> None:
    for size in (48, 64, 65, 129, 200):
        message = bytes(range(size - 16)) + b"u".ljust(16, b"\x00")
        jumbled = _f4jumble_forward(message)
        assert f4jumble_inverse(jumbled) == message
        assert unified_payload_ok("u", jumbled)
        assert not unified_payload_ok("u", jumbled[:-1] + bytes((jumbled[-1] ^ 1,)))
    assert not unified_payload_ok("u", bytes(40))


def _first_characters(version: bytes, size: int) -> set[str]:
    """Every first character of the Base58 encodings of ``size``-byte strings that open with ``version``."""
    if version[0] == 0:
        return {"1"}  # a leading zero byte is written "1"
    low = int.from_bytes(version.ljust(size, b"\x00"), "big")
    high = int.from_bytes(version.ljust(size, b"\xff"), "big")
    chars: set[str] = set()
    for length in range(1, 2 * size):
        unit = 58 ** (length - 1)
        first, last = max(low, unit), min(high, 58 * unit - 1)
        if first <= last:
            chars.update(ALPHABET[digit] for digit in range(first // unit, last // unit + 1))
    return chars


def test_base58check_heads_cover_every_version() -> None:
    heads: set[str] = set()
    for version in _VERSION_1:
        heads |= _first_characters(bytes((version,)), 25)
    for prefix in _VERSION_2:
        heads |= _first_characters(prefix, 26)
    assert heads == BASE58CHECK_HEADS
    # Documented cases: P2SH is always "3", Dogecoin P2SH "9" or "A", Zcash transparent "t".
    assert _first_characters(b"\x05", 25) == {"3"}
    assert _first_characters(b"\x16", 25) == {"9", "A"}
    assert _first_characters(b"\x1c\xb8", 26) == _first_characters(b"\x1c\xbd", 26) == {"t"}
