"""OpenPGP public keys in a page: armored blocks found and their packets parsed here, without a PGP library.
Contract in docs/signals.md (``pgp_keys``).

Offers :func:`find_pgp_keys` (text -> list of :class:`PgpKey`), :func:`parse_armored` (one armored block -> keys)
and :func:`parse_packets` (binary certificate -> keys). Raises :class:`PgpError` only from the last two.

Pages mangle armor: ``<br>`` instead of newlines, entities, indentation, lines joined with spaces or with nothing.
The finder therefore treats the text between ``BEGIN``/``END PGP PUBLIC KEY BLOCK`` as tokens, drops armor
headers (``Comment: ...``), takes the base64 that follows, and accepts it only if the CRC-24 (when present) holds
and the packets parse. A block that fails is skipped with a debug log; the rest of the page is still read.

Packets (RFC 9580 / RFC 4880): old and new format headers; public-key and public-subkey packets v4 (fingerprint
SHA-1 over 0x99 | 2-byte length | body, key id its last 8 bytes), v5 (SHA-256 over 0x9A | 4-byte length | body) and
v6 (SHA-256 over 0x9B | 4-byte length | body, key id its first 8 bytes); user ID packets. Signatures are not
verified: the fingerprint identifies the key whether or not its self-signatures are sound.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .caps import Capped, Distinct
from .casing import lower_same_length

log = logging.getLogger(__name__)

MAX_BLOCKS = 50  # armored blocks read per page
MAX_UIDS = 20  # user ids kept per key

TAG_PUBLIC_KEY = 6
TAG_PUBLIC_SUBKEY = 14
TAG_USER_ID = 13

ALGORITHMS = {
    1: "RSA",
    2: "RSA (encrypt only)",
    3: "RSA (sign only)",
    16: "ElGamal",
    17: "DSA",
    18: "ECDH",
    19: "ECDSA",
    20: "ElGamal (sign and encrypt)",
    21: "Diffie-Hellman",
    22: "EdDSA",
    25: "X25519",
    26: "X448",
    27: "Ed25519",
    28: "Ed448",
}
# Curve OIDs (DER body, without tag and length) of ECDH/ECDSA/EdDSA keys -> (name, bits).
CURVES = {
    bytes.fromhex("2a8648ce3d030107"): ("NIST P-256", 256),
    bytes.fromhex("2b81040022"): ("NIST P-384", 384),
    bytes.fromhex("2b81040023"): ("NIST P-521", 521),
    bytes.fromhex("2b2403030208010107"): ("brainpoolP256r1", 256),
    bytes.fromhex("2b240303020801010b"): ("brainpoolP384r1", 384),
    bytes.fromhex("2b240303020801010d"): ("brainpoolP512r1", 512),
    bytes.fromhex("2b06010401da470f01"): ("Ed25519", 255),
    bytes.fromhex("2b060104019755010501"): ("Curve25519", 255),
    bytes.fromhex("2b6570"): ("Ed25519", 255),
    bytes.fromhex("2b6571"): ("Ed448", 448),
    bytes.fromhex("2b656e"): ("X25519", 255),
    bytes.fromhex("2b656f"): ("X448", 448),
}
FIXED_BITS = {25: ("X25519", 255), 26: ("X448", 448), 27: ("Ed25519", 255), 28: ("Ed448", 448)}

# Blocks are found from the word "pgp" (str.find on the lowered text), never from the dashes around them: a pattern
# that opened on a dash run would be tried at every dash of a long rule and give up at its end (quadratic). The words
# and dashes around each "pgp" are checked by hand; each END line is paired with the nearest BEGIN line before it in
# one pass over both lists.
_MARKER_TAIL = re.compile(r"\s++public\s++key\s++block")  # after "pgp", on the lowered text
_DASHES_AFTER = re.compile(r"\s*+-{3,}+")
_END_DASHES_AFTER = re.compile(r"\s*+--")
_DASHES_BEFORE = 3
MAX_MARKER_GAP = 64  # whitespace between a marker's dashes and its word
_BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/=]+")
_HEADER_KEY = re.compile(r"^(?:Version|Comment|Hash|Charset|MessageID|[A-Za-z][A-Za-z0-9-]{1,30})\s*:")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=\s]*+")  # matched on the reversed block: the base64 at its end
_WHITESPACE = re.compile(r"\s+")
MAX_HEADER_GLUE = 200  # base64-looking characters of header text that may precede the payload
_CRC_TAIL = re.compile(r"=([A-Za-z0-9+/]{4})$")


class PgpError(ValueError):
    """An armored block or packet stream is malformed; the message says what was wrong."""


@dataclass
class PgpKey:
    """One OpenPGP certificate's primary key: what investigators match on (fingerprint, key id, user ids)."""

    fingerprint: str
    key_id: str
    version: int
    algorithm: str
    bits: int | None
    created: str
    uids: list[str] = field(default_factory=list)
    curve: str | None = None
    subkeys: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of docs/signals.md: fingerprint, key_id, version, algorithm, bits, created, uids.
        (``curve`` and ``subkeys`` stay on the object: the index mapping is strict and does not hold them.)"""
        return {
            "fingerprint": self.fingerprint,
            "key_id": self.key_id,
            "version": self.version,
            "algorithm": self.algorithm,
            "bits": self.bits,
            "created": self.created,
            "uids": list(self.uids),
        }


def _crc24_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
        table.append(crc & 0xFFFFFF)
    return table


_CRC24_TABLE = _crc24_table()


def crc24(data: bytes) -> int:
    """The armor checksum of RFC 4880 section 6.1 (init 0xB704CE, polynomial 0x1864CFB), table-driven."""
    crc = 0xB704CE
    table = _CRC24_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ table[((crc >> 16) ^ byte) & 0xFF]
    return crc


def _read_packets(data: bytes) -> list[tuple[int, bytes]]:
    """Split *data* into ``(tag, body)`` pairs. Raises :class:`PgpError` on a bad header or a length overrun."""
    packets: list[tuple[int, bytes]] = []
    pos, end = 0, len(data)
    while pos < end:
        header = data[pos]
        pos += 1
        if not header & 0x80:
            raise PgpError(f"byte {pos - 1}: not a packet header (0x{header:02x})")
        if header & 0x40:  # new format
            tag = header & 0x3F
            body = bytearray()
            while True:
                if pos >= end:
                    raise PgpError("truncated packet length")
                first = data[pos]
                if first < 192:
                    length, pos = first, pos + 1
                elif first < 224:
                    if pos + 1 >= end:
                        raise PgpError("truncated packet length")
                    length, pos = ((first - 192) << 8) + data[pos + 1] + 192, pos + 2
                elif first == 255:
                    if pos + 4 >= end:
                        raise PgpError("truncated packet length")
                    length, pos = int.from_bytes(data[pos + 1 : pos + 5], "big"), pos + 5
                else:  # partial body length: a chunk, then another length follows
                    chunk = 1 << (first & 0x1F)
                    pos += 1
                    if pos + chunk > end:
                        raise PgpError(f"packet tag {tag}: partial body overruns the data")
                    body += data[pos : pos + chunk]
                    pos += chunk
                    continue
                if pos + length > end:
                    raise PgpError(f"packet tag {tag}: length {length} overruns the data")
                body += data[pos : pos + length]
                pos += length
                break
            packets.append((tag, bytes(body)))
        else:  # old format
            tag = (header >> 2) & 0x0F
            length_type = header & 0x03
            if length_type == 3:
                length = end - pos
            else:
                size = 1 << length_type
                if pos + size > end:
                    raise PgpError("truncated packet length")
                length = int.from_bytes(data[pos : pos + size], "big")
                pos += size
            if pos + length > end:
                raise PgpError(f"packet tag {tag}: length {length} overruns the data")
            packets.append((tag, data[pos : pos + length]))
            pos += length
    return packets


def _mpi_bits(material: bytes) -> int | None:
    """Bit length of the first MPI in *material* (RSA n, DSA/ElGamal p), counted from its bytes."""
    if len(material) < 2:
        return None
    declared = int.from_bytes(material[:2], "big")
    value = material[2 : 2 + (declared + 7) // 8]
    return int.from_bytes(value, "big").bit_length() or None


def _key_from_packet(body: bytes) -> PgpKey:
    """Describe the public-key (or subkey) packet *body*. Raises :class:`PgpError` for unknown versions or short
    bodies."""
    if len(body) < 6:
        raise PgpError("public-key packet too short")
    version = body[0]
    created_unix = int.from_bytes(body[1:5], "big")
    if version == 4:
        algorithm_id = body[5]
        material = body[6:]
        fingerprint = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()
        key_id = fingerprint[-16:]
    elif version in (5, 6):
        if len(body) < 10:
            raise PgpError(f"v{version} public-key packet too short")
        algorithm_id = body[5]
        material = body[10:]
        prefix = b"\x9a" if version == 5 else b"\x9b"
        fingerprint = hashlib.sha256(prefix + len(body).to_bytes(4, "big") + body).hexdigest().upper()
        key_id = fingerprint[:16]
    elif version in (2, 3):
        raise PgpError(f"v{version} keys (PGP 2.x, MD5 fingerprints) are not supported")
    else:
        raise PgpError(f"unknown public-key packet version {version}")
    algorithm = ALGORITHMS.get(algorithm_id, f"unknown ({algorithm_id})")
    bits: int | None = None
    curve: str | None = None
    if algorithm_id in (1, 2, 3, 16, 17, 20, 21):
        bits = _mpi_bits(material)
    elif algorithm_id in (18, 19, 22) and material:
        oid_length = material[0]
        oid = material[1 : 1 + oid_length]
        curve, bits = CURVES.get(oid, (f"OID {oid.hex()}", None))
    elif algorithm_id in FIXED_BITS:
        curve, bits = FIXED_BITS[algorithm_id]
    created = datetime.fromtimestamp(created_unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return PgpKey(fingerprint, key_id, version, algorithm, bits, created, curve=curve)


def parse_packets(data: bytes) -> list[PgpKey]:
    """Return the certificates (primary keys with their user ids and subkey fingerprints) in the binary packet
    stream *data*. Raises :class:`PgpError` when it is malformed or holds no public key."""
    keys: list[PgpKey] = []
    for tag, body in _read_packets(data):
        if tag == TAG_PUBLIC_KEY:
            keys.append(_key_from_packet(body))
        elif not keys:
            raise PgpError(f"packet tag {tag} before any public-key packet: not a public key block")
        elif tag == TAG_USER_ID and len(keys[-1].uids) < MAX_UIDS:
            keys[-1].uids.append(body.decode("utf-8", errors="replace"))
        elif tag == TAG_PUBLIC_SUBKEY:
            try:
                keys[-1].subkeys.append(_key_from_packet(body).fingerprint)
            except PgpError:
                log.debug("skipped an unreadable subkey of %s", keys[-1].fingerprint)
    if not keys:
        raise PgpError("no public-key packet")
    return keys


def _decode_base64(payload: str) -> bytes:
    try:
        return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PgpError(f"bad base64: {exc}") from None


def _payload_candidates(body: str) -> list[str]:
    """Possible base64 payloads (with their CRC) of an armored block's inside, best guess first."""
    lines = [line.strip() for line in body.replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    candidates: list[str] = []
    # Well-formed or merely indented: header lines ("Key: value") then base64 lines.
    index = 0
    while index < len(lines) and _HEADER_KEY.match(lines[index]) and not _BASE64_TOKEN.fullmatch(lines[index]):
        index += 1
    if index < len(lines) and all(_BASE64_TOKEN.fullmatch(line) for line in lines[index:]):
        candidates.append("".join(lines[index:]))
    # Newlines lost (lines joined with spaces, or with nothing): the payload is the base64 at the end of the block,
    # after the last character base64 cannot hold. A header's last words can look like base64 too, so each place
    # where a key packet could begin ("m" old-style, "x"/"w" new-style, once base64-encoded) is tried, earliest first.
    tail_run = _BASE64_RUN.match(body[::-1])
    tail = _WHITESPACE.sub("", body[len(body) - tail_run.end() :]) if tail_run else ""
    tried = 0
    for start, char in enumerate(tail[:MAX_HEADER_GLUE]):
        if char in "mxw":
            candidate = tail[start:]
            if candidate not in candidates:
                candidates.append(candidate)
            tried += 1
            if tried >= 16:
                break
    return candidates


def _split_crc(payload: str) -> tuple[str, int | None]:
    """Separate the ``=XXXX`` CRC-24 from *payload*'s base64 (also when the newline before it was lost)."""
    match = _CRC_TAIL.search(payload)
    if match and len(payload[: match.start()]) % 4 == 0:
        crc_bytes = _decode_base64(match.group(1))
        return payload[: match.start()], int.from_bytes(crc_bytes, "big")
    return payload, None


def parse_armored(body: str) -> list[PgpKey]:
    """Parse the inside of one armored public key block (between the BEGIN and END lines), however mangled.
    Return its keys. Raises :class:`PgpError` naming the problem of the first (most likely) reading when none
    works."""
    problem = ""
    for candidate in _payload_candidates(body):
        try:
            data_b64, crc = _split_crc(candidate)
            data = _decode_base64(data_b64)
            keys = parse_packets(data)  # before the CRC: garbage fails at its first byte, the CRC reads them all
            if crc is not None and crc24(data) != crc:
                raise PgpError("armor CRC-24 mismatch")
            return keys
        except PgpError as exc:
            problem = problem or str(exc)
    raise PgpError(problem or "no base64 payload")


def _dashes_before(text: str, position: int) -> int | None:
    """Where the dash run ending (whitespace aside) at *position* starts, if it has at least three dashes."""
    end = _spaces_before(text, position)
    start = end
    while start > 0 and text[start - 1] == "-":
        start -= 1
    return start if end - start >= _DASHES_BEFORE else None


def _markers(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The ``(start, end)`` of every ``BEGIN PGP PUBLIC KEY BLOCK`` and every ``END PGP PUBLIC KEY BLOCK`` in
    *text* (any case, any whitespace between the words), dashes not checked."""
    lowered = lower_same_length(text)
    begins: list[tuple[int, int]] = []
    ends: list[tuple[int, int]] = []
    position = lowered.find("pgp")
    while position != -1:
        tail = _MARKER_TAIL.match(lowered, position + 3)
        word_end = _spaces_before(lowered, position) if tail else position
        if tail and word_end < position:
            if word_end >= 5 and lowered.startswith("begin", word_end - 5):
                begins.append((word_end - 5, tail.end()))
            elif word_end >= 3 and lowered.startswith("end", word_end - 3):
                ends.append((word_end - 3, tail.end()))
        position = lowered.find("pgp", tail.end() if tail else position + 3)
    return begins, ends


def _spaces_before(text: str, position: int) -> int:
    """*position* moved back over the whitespace before it (at most :data:`MAX_MARKER_GAP` characters)."""
    floor = max(0, position - MAX_MARKER_GAP)
    while position > floor and text[position - 1].isspace():
        position -= 1
    return position


def armored_blocks(text: str) -> Iterator[tuple[int, int, int]]:
    """Yield ``(block start, body start, body end)`` of each armored public key block in *text*, in order: a BEGIN
    line, then the text up to the first END line after it. Linear in the length of *text*."""
    begins, end_markers = _markers(text)
    ends: list[tuple[int, int]] = []  # (body end, block end) of each well-formed END line
    for marker_start, marker_end in end_markers:
        body_end = _dashes_before(text, marker_start)
        if body_end is not None and _END_DASHES_AFTER.match(text, marker_end):
            ends.append((body_end, marker_end))
    if not ends:
        return
    next_end = 0
    resume = 0  # text before this belongs to the previous block
    for marker_start, marker_end in begins:
        if marker_start < resume:
            continue
        start = _dashes_before(text, marker_start)
        after = _DASHES_AFTER.match(text, marker_end)
        if start is None or after is None:
            continue
        while next_end < len(ends) and ends[next_end][0] < after.end():
            next_end += 1
        if next_end == len(ends):
            return  # no END after this BEGIN, so none after any later one
        body_end, resume = ends[next_end]
        yield start, after.end(), body_end


def find_pgp_keys(text: str, *, limit: int | None = None) -> Capped[PgpKey]:
    """Return every public key in the armored blocks of *text*, distinct by fingerprint, in page order: at most
    *limit* of them, the distinct keys past it counted in ``beyond`` with the blocks left unread past the
    :data:`MAX_BLOCKS` th. Broken blocks are skipped (debug log). Never raises; linear time."""
    keys: Distinct[str, PgpKey] = Distinct(limit)
    if "PGP" not in text and "pgp" not in text:
        return keys.result()
    unread = 0
    for number, (start, body_start, body_end) in enumerate(armored_blocks(text)):
        if number >= MAX_BLOCKS:
            unread += 1
            continue
        try:
            for key in parse_armored(text[body_start:body_end]):
                keys.put(key.fingerprint, key)
        except PgpError as exc:
            log.debug("skipped a PGP public key block at offset %d: %s", start, exc)
        except Exception:  # hostile input must cost this block only
            log.debug("skipped a PGP public key block at offset %d", start, exc_info=True)
    found = keys.result()
    found.beyond += unread
    return found
