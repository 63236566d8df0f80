"""The fixture sites' PGP public keys: real keys made once with ``gpg --batch --quick-gen-key`` (ed25519 and rsa3072,
``--faked-system-time`` for tidy creation dates) and stored armored in ``data/<name>.asc``.

Offers :data:`KEYS` (name -> :class:`PgpKey`, with the full v4 fingerprint gpg printed when the key was made) and
:func:`key`. The unit tests check every file against its recorded fingerprint with ``gpg --show-keys``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class PgpKey:
    """One fixture key: file stem, algorithm, full fingerprint (40 upper-case hex) and user id."""

    name: str
    algorithm: str
    fingerprint: str
    uid: str

    @property
    def armored(self) -> str:
        """The armored public key block, exactly as stored (LF line ends, trailing newline)."""
        return _read(self.name)


@cache
def _read(name: str) -> str:
    return (DATA_DIR / f"{name}.asc").read_text(encoding="ascii")


KEYS: dict[str, PgpKey] = {
    key.name: key
    for key in (
        PgpKey("greywolf", "ed25519", "B24620D1E9D22EADDD55B4D0EE29673CD6B385A7", "greywolf <greywolf@example.com>"),
        PgpKey("dutchdirect", "rsa3072", "5A1EEEA5D5CDD1B1F9D8CE1B8A57D5A7BA56E82F",
               "DutchDirect <dutchdirect@example.org>"),
        PgpKey("lechimiste", "ed25519", "72854019E5CA7680558B241D8BC832C1AB17A735",
               "LeChimiste <lechimiste@example.net>"),
        PgpKey("alpenkraft", "rsa3072", "3D38B444C033F6A2F9991E479B7AD11FD8B895BF",
               "Alpenkraft Versand <alpenkraft@example.com>"),
        PgpKey("quietstorm", "ed25519", "34C2681A1A8EA4205E36E7026B5BD27090407D5B",
               "quietstorm <quietstorm@example.org>"),
        PgpKey("nocturne-market", "rsa3072", "1AF01427702692921CA9A61D6EF40112DD9A2FAA",
               "Nocturne Market Staff <staff@nocturne.example.org>"),
        PgpKey("cipherpunk", "ed25519", "FAABA01D641A364B7A6E7269009805EAD8E2AE5E",
               "cipherpunk <cipherpunk@example.net>"),
    )
}


def key(name: str) -> PgpKey:
    """Return the fixture key called *name*. Raises KeyError for an unknown name."""
    return KEYS[name]
