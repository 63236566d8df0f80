"""Which hosts and URLs a crawl may never reach, in whatever spelling: the one check behind seeds, links and redirects.

A crawl goes out through Tor only, but a Tor exit (the lab's, or a careless one) may connect to its own loopback or
private network, and a name such as ``localhost`` is resolved there. So a host that denotes a loopback, private,
link-local, multicast or reserved address, or a local name, is refused, even with clearnet crawling allowed. Hosts
are read the way browsers and curl read them (the WHATWG URL standard): ``2130706433``, ``0x7f000001``,
``0177.0.0.1``, ``127.1`` and ``127.0.0.1.`` all are 127.0.0.1; a trailing dot, percent-encoding, case and
full-width characters change nothing; IPv6 addresses embedding an IPv4 one (``::ffff:127.0.0.1``, 6to4, NAT64) are
judged by it.

Offers: :func:`normalise_host`, :func:`host_address`, :func:`local_host_reason`, :func:`url_text_problem`.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import unquote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that mean this machine or its local network wherever they are resolved.
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "broadcasthost"})
LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".home.arpa")
# Full stops other scripts use, which the IDNA mapping of browsers turns into "." (UTS 46).
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# C0 controls, space, DEL and C1 controls: never part of a URL darkcrawl requests (a NUL cuts a string short in C code).
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")


def normalise_host(host: str) -> str:
    """*host* as a browser would resolve it: percent-decoded, NFKC (full-width digits), lower case, no trailing dot."""
    host = unicodedata.normalize("NFKC", unquote(host)).translate(_DOTS).lower()
    return host.rstrip(".") if host.strip(".") else host


def _ipv4_part(part: str) -> int:
    """One dotted part: ``0x`` hexadecimal, a leading ``0`` octal, else decimal. Raises ValueError."""
    if part[:2] in ("0x", "0X"):
        digits, base = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    allowed = "0123456789abcdef"[:base]
    if not all(char in allowed for char in digits.lower()):
        raise ValueError(f"{part!r} is not a number")
    return int(digits, base) if digits else 0


def _ends_in_number(parts: list[str]) -> bool:
    """WHATWG's test: a host whose last label is a number (decimal, or 0x hex) is an IPv4 address or invalid."""
    last = parts[-1]
    if last[:2] in ("0x", "0X"):
        return all(char in "0123456789abcdef" for char in last[2:].lower())
    return last.isascii() and last.isdigit()


def host_address(host: str) -> IPAddress | None:
    """The IP address *host* denotes, read like a browser (IPv4 in 1 to 4 parts of decimal, octal or hex; IPv6 with
    or without brackets), or None when it is a name. Raises ValueError for a host that ends in a number but is not a
    valid IPv4 address (browsers refuse it too)."""
    host = normalise_host(host).strip("[]")
    if ":" in host:
        return ipaddress.ip_address(host)
    parts = host.split(".")
    if not _ends_in_number(parts):
        return None
    if len(parts) > 4:
        raise ValueError(f"{host!r} ends in a number but is not an IPv4 address")
    numbers = [_ipv4_part(part) if part else -1 for part in parts]
    if any(number < 0 or number > 255 for number in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(f"{host!r} is not a valid IPv4 address")
    value = numbers[-1] + sum(number << (8 * (3 - index)) for index, number in enumerate(numbers[:-1]))
    return ipaddress.IPv4Address(value)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _not_public(address: IPAddress) -> bool:
    return not address.is_global or address.is_multicast or address.is_reserved or address.is_unspecified


def local_host_reason(host: str) -> str | None:
    """Why *host* must never be fetched (it names this machine or a private network), or None for a public host."""
    name = normalise_host(host)
    if name in LOCAL_NAMES or name.endswith(LOCAL_SUFFIXES):
        return f"{host} is a local name"
    try:
        address = host_address(name)
    except ValueError as exc:
        return f"{exc}"
    if address is None:
        return None
    embedded = _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    if _not_public(address) or (embedded is not None and _not_public(embedded)):
        kind = "loopback" if address.is_loopback or (embedded and embedded.is_loopback) else "non-public"
        return f"{host} is a {kind} address ({embedded or address})"
    return None


def url_text_problem(url: str) -> str | None:
    """What makes *url* unfit to request whatever its host: a control character or space (a NUL above all), or a
    port of 0 or beyond 65535. None when there is nothing."""
    control = _CONTROL.search(url)
    if control:
        return f"control character or space {control.group()!r} at position {control.start()}"
    try:
        port = urlsplit(url).port
    except ValueError:
        return "not a valid port (1-65535)"
    if port == 0:
        return "port 0 is not a port a server listens on"
    return None
