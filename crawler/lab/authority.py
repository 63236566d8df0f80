"""Identities of the lab's directory authorities: v3 keys from ``tor-gencert``, relay fingerprints from tor itself.

Documentation: docs/lab.md. Keys are made once and kept in the lab directory; they are remade only when missing, when
the certificate names another DirPort, or when it expires within a week.

Offers: :func:`ensure_authority_keys`, :func:`read_certificate`, :func:`relay_fingerprint`.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.errors import ServiceError
from crawler.lab.torrc import LOOPBACK

CERT_LIFETIME_MONTHS = 12
RENEW_BEFORE = timedelta(days=7)
CERTIFICATE = "authority_certificate"


@dataclass(frozen=True)
class Certificate:
    v3ident: str
    dir_address: str
    expires: datetime


def read_certificate(path: Path) -> Certificate | None:
    """Return the fields the lab needs from an authority certificate, or None if it is missing or unreadable."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields: dict[str, str] = {}
    for line in text.splitlines():
        keyword, _, value = line.partition(" ")
        if keyword in ("fingerprint", "dir-address", "dir-key-expires") and keyword not in fields:
            fields[keyword] = value.strip()
    try:
        expires = datetime.strptime(fields["dir-key-expires"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        return Certificate(fields["fingerprint"], fields.get("dir-address", ""), expires)
    except (KeyError, ValueError):
        return None


def ensure_authority_keys(tor_gencert: str, keys_dir: Path, dir_port: int, now: datetime | None = None) -> str:
    """Make (or keep) the v3 authority keys in *keys_dir* and return the authority's v3ident.

    Raises :class:`ServiceError` when tor-gencert fails.
    """
    now = now or datetime.now(UTC)
    address = f"{LOOPBACK}:{dir_port}"
    current = read_certificate(keys_dir / CERTIFICATE)
    if current and current.dir_address == address and current.expires - now > RENEW_BEFORE:
        return current.v3ident
    keys_dir.mkdir(parents=True, exist_ok=True)
    keys_dir.chmod(0o700)  # tor insists
    for name in (CERTIFICATE, "authority_identity_key", "authority_signing_key"):
        (keys_dir / name).unlink(missing_ok=True)
    command = [
        tor_gencert, "--create-identity-key", "-m", str(CERT_LIFETIME_MONTHS), "-a", address, "--passphrase-fd", "0",
    ]
    try:
        result = subprocess.run(
            command, cwd=keys_dir, input="\n", capture_output=True, text=True, timeout=60, check=False
        )
    except OSError as exc:
        raise ServiceError(f"cannot run {tor_gencert} ({exc.strerror}): install Debian's tor package") from None
    made = read_certificate(keys_dir / CERTIFICATE)
    if result.returncode != 0 or made is None:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ServiceError(
            f"tor-gencert failed in {keys_dir} ({detail[-1] if detail else f'exit {result.returncode}'}); "
            "check the directory is writable"
        )
    return made.v3ident


def relay_fingerprint(tor_binary: str, data_dir: Path, nickname: str) -> str:
    """Return the relay identity fingerprint of the node whose keys live in *data_dir*, creating keys if needed.

    Uses ``tor --list-fingerprint`` with an empty configuration, so neither the system torrc nor the lab's (which names
    authorities not known yet) is read. Raises :class:`ServiceError` when tor fails.
    """
    empty = data_dir / "fingerprint.torrc"  # tor refuses /dev/null as a config file
    empty.write_text("", encoding="ascii")
    command = [
        tor_binary, "--list-fingerprint", "-f", str(empty), "--defaults-torrc", str(empty),
        "--DataDirectory", str(data_dir), "--ORPort", f"{LOOPBACK}:1", "--Nickname", nickname,
        "--ContactInfo", "lab@darkcrawl.invalid", "--Log", "err stderr",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        raise ServiceError(f"cannot run {tor_binary} ({exc.strerror}): install Debian's tor package") from None
    try:
        _nickname, fingerprint = (data_dir / "fingerprint").read_text(encoding="ascii").split()
    except (OSError, ValueError):
        detail = result.stderr.strip().splitlines()
        raise ServiceError(
            f"tor --list-fingerprint failed for {nickname} ({detail[-1] if detail else f'exit {result.returncode}'})"
        ) from None
    return fingerprint
