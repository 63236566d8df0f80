"""PGP key finding and packet parsing, against published vectors and keys made by gpg on the spot."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipelines.extract import extract_signals
from pipelines.extract.pgp import PgpError, crc24, find_pgp_keys, parse_armored, parse_packets
from tests.vectors import load_vectors

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "extract"
# RFC 9580 Appendix A.3, "Sample Version 6 Certificate": fingerprint as published in the RFC.
V6_FINGERPRINT = "CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9"


def alice() -> dict[str, Any]:
    return load_vectors("pgp")["valid"][0]


def test_published_v4_certificate() -> None:
    vector = alice()
    keys = find_pgp_keys(vector["armored"])
    assert len(keys) == 1
    key = keys[0].to_dict()
    expected = vector["expected"]
    assert key["fingerprint"] == expected["fingerprint"]
    assert key["key_id"] == expected["keyid"]
    assert key["uids"] == expected["uids"]
    assert key["version"] == 4
    assert key["algorithm"] == "EdDSA"
    assert key["created"] == "2019-01-22T11:56:25Z"  # created_unix 1548158185
    assert keys[0].subkeys == expected["subkey_fingerprints"]
    assert set(key) == {"fingerprint", "key_id", "version", "algorithm", "bits", "created", "uids"}


def test_published_v6_certificate() -> None:
    keys = find_pgp_keys((FIXTURES / "rfc9580_v6_sample.asc").read_text())
    assert [k.fingerprint for k in keys] == [V6_FINGERPRINT]
    assert keys[0].key_id == V6_FINGERPRINT[:16]
    assert keys[0].version == 6
    assert keys[0].algorithm == "Ed25519"


@pytest.mark.parametrize("index", [0, 1])
def test_invalid_blocks_are_skipped(index: int) -> None:
    broken = load_vectors("pgp")["invalid"][index]["armored"]
    assert find_pgp_keys(broken) == []
    with pytest.raises(PgpError):
        parse_armored(broken.split("-----", 3)[2])


def test_crc24_of_the_published_block() -> None:
    import base64

    lines = alice()["armored"].strip().splitlines()
    body = "".join(line for line in lines[4:-2])
    assert crc24(base64.b64decode(body)) == int.from_bytes(base64.b64decode("iIGO"), "big")


def test_two_blocks_on_one_page_are_read_separately() -> None:
    page = load_vectors("pgp")["multi_block_page"]["text"]
    v6 = (FIXTURES / "rfc9580_v6_sample.asc").read_text()
    keys = find_pgp_keys(page + "\n\nand another one:\n" + v6)
    assert [k.fingerprint for k in keys] == [alice()["expected"]["fingerprint"], V6_FINGERPRINT]


def mangled_forms(armored: str) -> dict[str, str]:
    lines = armored.strip().splitlines()
    return {
        "html_br": "<html><body><div class=pgp>"
        + "<br>".join(html.escape(line) for line in lines)
        + "</div></body></html>",
        "html_br_entities_everywhere": "<p>"
        + "<br />\n".join("".join(f"&#{ord(ch)};" if ch in "+/=" else ch for ch in line) for line in lines)
        + "</p>",
        "one_line_spaces": " ".join(lines),
        "one_line_glued": "".join(lines),
        "indented": "\n".join("        " + line for line in lines),
        "crlf_and_trailing_spaces": "\r\n".join(line + "   " for line in lines),
        "forum_quote": "<blockquote>Here is my key:<br>" + "<br>".join(lines) + "<br>Contact me on jabber</blockquote>",
    }


@pytest.mark.parametrize("form", list(mangled_forms("a\nb")))
def test_mangled_published_key_still_found(form: str) -> None:
    page = mangled_forms(alice()["armored"])[form]
    signals = extract_signals(page, "http://example.onion/")
    assert [k["fingerprint"] for k in signals.pgp_keys] == [alice()["expected"]["fingerprint"]]


def test_truncated_packet_stream_raises() -> None:
    with pytest.raises(PgpError):
        parse_packets(b"\x99\x01\x0d\x04")  # old-format public key claiming 269 bytes, 1 present
    with pytest.raises(PgpError):
        parse_packets(b"\x00\x01")  # not a packet header
    with pytest.raises(PgpError):
        parse_packets(b"\xb4\x03abc")  # a user id before any key


def test_text_without_blocks() -> None:
    assert (
        find_pgp_keys("PGP is mentioned, no key here. -----BEGIN PGP SIGNATURE----- x -----END PGP SIGNATURE-----")
        == []
    )


# --- keys made by gpg, fingerprints checked against gpg's own listing -------------------------------------------------

GPG = shutil.which("gpg")


@pytest.fixture(scope="module")
def gpg_keys(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Generate keys with gpg (RSA 3072, Ed25519 with a Curve25519 subkey, a NIST P-256 key) and return, for each,
    its armored export and what gpg says about it (fingerprint, algorithm id, bits, creation time, uids)."""
    if GPG is None:
        pytest.skip("gpg is not installed")
    home = tmp_path_factory.mktemp("gnupg")
    os.chmod(home, 0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    specs = [
        ("Rsa Vendor <rsa@vendor.example>", "rsa3072", "sign,cert"),
        ("Édouard Vendeur (boutique) <edouard@vendeur.example>", "ed25519", "sign,cert"),
        ("Nist User <nist@example.org>", "nistp256", "sign,cert"),
    ]
    keys = []
    for uid, algo, usage in specs:
        subprocess.run(
            [GPG, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", uid, algo, usage,
             "2y"],
            env=env, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        listing = subprocess.run(
            [GPG, "--batch", "--with-colons", "--fixed-list-mode", "--list-keys", uid.split("<")[1].rstrip(">")],
            env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        records = [line.split(":") for line in listing.splitlines()]
        pub = next(r for r in records if r[0] == "pub")
        fpr = next(r for r in records if r[0] == "fpr")[9]
        if algo == "ed25519":
            subprocess.run(
                [GPG, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-add-key", fpr, "cv25519",
                 "encr", "2y"],
                env=env, check=True, capture_output=True, timeout=120,
            )  # fmt: skip
        armored = subprocess.run(
            [GPG, "--batch", "--armor", "--export", fpr], env=env, check=True, capture_output=True, text=True
        ).stdout
        keys.append(
            {"armored": armored, "fingerprint": fpr, "algo_id": int(pub[3]), "bits": int(pub[2]),
             "created": int(pub[5]), "uid": uid}
        )  # fmt: skip
    return keys


ALGORITHM_NAMES = {1: "RSA", 19: "ECDSA", 22: "EdDSA"}


def test_gpg_keys_match_gpg(gpg_keys: list[dict[str, Any]]) -> None:
    from datetime import UTC, datetime

    for made in gpg_keys:
        keys = find_pgp_keys(made["armored"])
        assert len(keys) == 1, made["uid"]
        key = keys[0]
        assert key.fingerprint == made["fingerprint"]
        assert key.key_id == made["fingerprint"][-16:]
        assert key.algorithm == ALGORITHM_NAMES[made["algo_id"]]
        assert key.bits == made["bits"]
        assert key.created == datetime.fromtimestamp(made["created"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert key.uids == [made["uid"]]


def test_gpg_keys_on_one_mangled_page(gpg_keys: list[dict[str, Any]]) -> None:
    page = (
        "<html><body>"
        + "".join(
            f"<h2>Key {n}</h2><p>" + "<br>".join(html.escape(line) for line in made["armored"].splitlines()) + "</p>"
            for n, made in enumerate(gpg_keys)
        )
        + "</body></html>"
    )
    found = extract_signals(page).pgp_keys
    assert [k["fingerprint"] for k in found] == [made["fingerprint"] for made in gpg_keys]
    assert found[1]["uids"] == ["Édouard Vendeur (boutique) <edouard@vendeur.example>"]


def test_gpg_subkey_fingerprints(gpg_keys: list[dict[str, Any]]) -> None:
    ed = gpg_keys[1]
    listing = subprocess.run(
        [GPG or "gpg", "--batch", "--with-colons", "--show-keys"], input=ed["armored"], capture_output=True,
        text=True, check=True,
    ).stdout  # fmt: skip
    fingerprints = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
    assert find_pgp_keys(ed["armored"])[0].subkeys == fingerprints[1:]


def test_broken_block_is_logged_and_the_next_one_still_read(caplog: pytest.LogCaptureFixture) -> None:
    broken = load_vectors("pgp")["invalid"][0]["armored"]
    v6 = (FIXTURES / "rfc9580_v6_sample.asc").read_text()
    with caplog.at_level("DEBUG", logger="pipelines.extract.pgp"):
        keys = find_pgp_keys(broken + "\nnext key:\n" + v6)
    assert [k.fingerprint for k in keys] == [V6_FINGERPRINT]
    assert any("CRC-24 mismatch" in record.getMessage() for record in caplog.records)
