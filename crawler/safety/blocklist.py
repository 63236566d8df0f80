"""Blocklists of sites darkcrawl must never request: plain hostnames and hashed hostnames.

Public onion indexes publish the sites they banned (child-abuse material, mostly) as hashes, so that the list is not
itself a directory of such sites: Ahmia's ``/blacklist/banned/`` is the MD5 hex digest of each hostname
(``md5("<56 chars>.onion")``), one a line. darkcrawl reads files holding any mix of:

* a plain hostname (``xxxx.onion``, ``bad.example``) or a URL naming it: that host and its subdomains;
* a hex digest of a hostname: 32 characters (MD5), 40 (SHA-1) or 64 (SHA-256), optionally prefixed ``md5:``,
  ``sha1:`` or ``sha256:``. A host matches when the digest of its lowercased name -- with or without the ``.onion``
  suffix, and for an onion subdomain also of the onion itself -- is listed;
* ``#`` comments and blank lines; anything after the first whitespace-separated word of a line is ignored.

Offers :class:`Blocklist` (:meth:`Blocklist.match`), :func:`parse_blocklist` (lines -> entries, errors naming the
line) and :func:`load_blocklists` (files and inline entries -> :class:`Blocklist`, raising
:class:`crawler.errors.UsageError` that names the file and line).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from crawler.errors import UsageError

DIGEST_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256"}
_HEX = re.compile(r"[0-9a-f]+")
_HOST = re.compile(r"(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*")


@dataclass
class Blocklist:
    """Blocked hostnames and hostname digests; build with :func:`load_blocklists`, ask with :meth:`match`."""

    hosts: dict[str, str] = field(default_factory=dict)  # hostname -> where it was listed ("file:line")
    digests: dict[str, dict[str, str]] = field(default_factory=dict)  # algorithm -> hex digest -> where

    def __len__(self) -> int:
        return len(self.hosts) + sum(len(values) for values in self.digests.values())

    def match(self, host: str) -> str | None:
        """Return where the entry blocking *host* came from (``"file:line"``), or None when *host* may be fetched."""
        host = host.strip().lower().rstrip(".")
        if not host:
            return None
        labels = host.split(".")
        # the host and each parent domain (a blocked site's subdomains are the same site)
        for start in range(len(labels) - 1 if len(labels) > 1 else 1):
            candidate = ".".join(labels[start:])
            if candidate in self.hosts:
                return self.hosts[candidate]
        if not self.digests:
            return None
        for name in hashed_names(host):
            for algorithm, values in self.digests.items():
                source = values.get(hashlib.new(algorithm, name.encode("utf-8")).hexdigest())
                if source is not None:
                    return source
        return None


def hashed_names(host: str) -> list[str]:
    """The names whose digests may list *host*: itself, and for an onion its bare address and its onion domain."""
    names = [host]
    if host.endswith(".onion"):
        labels = host.split(".")
        onion = ".".join(labels[-2:])
        names += [onion, onion.removesuffix(".onion")] if onion != host else [host.removesuffix(".onion")]
    return list(dict.fromkeys(names))


def parse_entry(word: str) -> tuple[str, str]:
    """Return ``("host", name)`` or ``(algorithm, hex digest)`` for one blocklist word. Raises ValueError."""
    word = word.strip().lower()
    if "://" in word:  # a URL: its host is meant
        from urllib.parse import urlsplit

        word = urlsplit(word).hostname or ""
    algorithm = ""
    if ":" in word:
        algorithm, word = word.split(":", 1)
        if algorithm not in DIGEST_LENGTHS.values():
            raise ValueError(f"unknown digest prefix {algorithm!r} (use md5:, sha1: or sha256:)")
    if _HEX.fullmatch(word) and len(word) in DIGEST_LENGTHS:
        expected = DIGEST_LENGTHS[len(word)]
        if algorithm and algorithm != expected:
            raise ValueError(f"{algorithm} digest must have {2 * hashlib.new(algorithm).digest_size} hex digits")
        return expected, word
    if algorithm:
        raise ValueError(f"{algorithm} digest must have {2 * hashlib.new(algorithm).digest_size} hex digits")
    word = word.rstrip(".")
    if not _HOST.fullmatch(word):
        raise ValueError(f"{word!r} is neither a hostname nor an MD5/SHA-1/SHA-256 hex digest")
    return "host", word


def parse_blocklist(lines: Iterable[str], source: str, into: Blocklist | None = None) -> Blocklist:
    """Add the entries of *lines* (from *source*, for messages) to *into* (or a new list) and return it.
    Raises :class:`UsageError` naming ``source:line`` for an entry that is neither a hostname nor a digest."""
    blocklist = into if into is not None else Blocklist()
    for number, line in enumerate(lines, start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        try:
            kind, value = parse_entry(words[0])
        except ValueError as exc:
            raise UsageError(f"blocklist {source}:{number}: {exc}; fix or remove the line") from None
        where = f"{source}:{number}"
        if kind == "host":
            blocklist.hosts.setdefault(value, where)
        else:
            blocklist.digests.setdefault(kind, {}).setdefault(value, where)
    return blocklist


def load_blocklists(paths: Iterable[str | Path] = (), entries: Iterable[str] = ()) -> Blocklist:
    """Read the blocklist files at *paths* and the inline *entries* into one :class:`Blocklist`.
    Raises :class:`UsageError` for a file that cannot be read or a bad entry (naming the file and line)."""
    blocklist = Blocklist()
    for path in (Path(p) for p in paths):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"blocklist {path}: cannot read it ({exc.strerror or exc}); fix DARKCRAWL_BLOCKLIST_FILES"
            ) from None
        except UnicodeDecodeError:
            raise UsageError(f"blocklist {path}: not UTF-8 text; save it as UTF-8") from None
        parse_blocklist(text.splitlines(), str(path), blocklist)
    parse_blocklist(list(entries), "DARKCRAWL_BLOCKLIST_HOSTS", blocklist)
    return blocklist
