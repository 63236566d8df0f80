"""Seed lists: one URL a line, ``#`` comments, blank lines ignored.

Bad lines are reported with their line number and skipped, never fatal on their own: an operator's list of a thousand
onions should not fail on one typo. A bare onion hostname is accepted as ``http://<host>/``. Options may follow the URL
on its line as ``key=value`` words; the one known today is ``render=1`` (render the site's pages in the browser when
rendering is on, docs/rendering.md).

Offers: :class:`Seed`, :class:`SeedProblem`, :class:`SeedList`, :func:`parse_seeds`, :func:`read_seed_file`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from crawler.errors import UsageError
from crawler.hosts import local_host_reason, normalise_host, url_text_problem
from crawler.identity import is_valid_onion_v3

MAX_URL_LENGTH = 2048
BOM = "\ufeff"


@dataclass(frozen=True)
class Seed:
    url: str
    site: str
    line: int  # 0 for seeds given on the command line
    render: bool = False  # render=1: the site's pages are rendered in the browser (with DARKCRAWL_RENDER on)


@dataclass(frozen=True)
class SeedProblem:
    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "argument"
        return f"{where}: {self.reason}: {self.text[:100]!r}"


@dataclass
class SeedList:
    seeds: list[Seed] = field(default_factory=list)
    problems: list[SeedProblem] = field(default_factory=list)

    @property
    def sites(self) -> list[str]:
        return sorted({seed.site for seed in self.seeds})


def normalise_seed(text: str, allow_clearnet: bool) -> tuple[str, str]:
    """Return ``(url, site)`` for one seed, or raise ValueError with the reason it is refused.

    Refused like a link would be (:func:`crawler.identity.refusal_reason`): a local host in any spelling, even
    with clearnet allowed; a control character (a NUL above all) or port 0."""
    candidate = text.strip()
    if len(candidate) > MAX_URL_LENGTH:
        raise ValueError(f"longer than {MAX_URL_LENGTH} characters")
    if "://" not in candidate:
        candidate = "http://" + candidate
    problem = url_text_problem(candidate)
    if problem:
        raise ValueError(problem)
    try:
        parts = urlsplit(candidate)
        host = normalise_host(parts.hostname or "")
    except ValueError as exc:
        raise ValueError(f"not a URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"scheme {parts.scheme!r} is not http or https")
    if not host:
        raise ValueError("not a URL")
    if host.endswith(".onion"):
        if not is_valid_onion_v3(host):
            label = host[: -len(".onion")].rsplit(".", 1)[-1]
            if len(label) == 16:
                raise ValueError("v2 onion addresses no longer exist on the Tor network")
            raise ValueError("not a valid v3 onion address (bad length, alphabet or checksum)")
    else:
        local = local_host_reason(host)
        if local:
            raise ValueError(f"{local}: never crawled, not even with --allow-clearnet")
        if not allow_clearnet:
            raise ValueError("clearnet URL, and clearnet crawling is off (--allow-clearnet / DARKCRAWL_ALLOW_CLEARNET)")
    shown = f"[{host}]" if ":" in host else host
    netloc = shown if parts.port is None else f"{shown}:{parts.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return url, host


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def seed_options(words: list[str]) -> dict[str, bool]:
    """Parse the ``key=value`` words after a seed URL; raise ValueError naming an unknown or malformed one."""
    options: dict[str, bool] = {}
    for word in words:
        key, equals, value = word.partition("=")
        if key != "render" or not equals:
            raise ValueError(f"unknown seed option {word!r} (known: render=1)")
        if value.lower() not in TRUE_WORDS | FALSE_WORDS:
            raise ValueError(f"render={value!r} is not 1/0, true/false, yes/no or on/off")
        options["render"] = value.lower() in TRUE_WORDS
    return options


def parse_seeds(lines: Iterable[str], allow_clearnet: bool = False, first_line: int = 1) -> SeedList:
    """Parse seed lines; duplicates are dropped silently, bad lines become :class:`SeedProblem` entries."""
    result = SeedList()
    seen: set[str] = set()
    for number, raw in enumerate(lines, start=first_line):
        if number == first_line:
            raw = raw.removeprefix(BOM)  # a file saved by an editor that marks UTF-8: line 1 is a seed like any other
        text = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not text:
            continue
        words = text.split()
        try:
            url, site = normalise_seed(words[0], allow_clearnet)
            options = seed_options(words[1:])
        except ValueError as exc:
            result.problems.append(SeedProblem(number if first_line else 0, text, str(exc)))
            continue
        if url not in seen:
            seen.add(url)
            result.seeds.append(Seed(url, site, number if first_line else 0, **options))
    return result


def read_seed_file(path: str | Path, allow_clearnet: bool = False) -> SeedList:
    """Read a seeds file (``-`` is not accepted here; the CLI reads stdin itself). Raises :class:`UsageError`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"seeds file {path} does not exist") from None
    except OSError as exc:
        raise UsageError(f"cannot read seeds file {path}: {exc.strerror}") from None
    text = data.decode("utf-8-sig", errors="replace")
    return parse_seeds(text.splitlines(), allow_clearnet)
