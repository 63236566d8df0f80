"""What a watch is, and what a watch firing on a page says. The kinds and their syntax are in docs/watch.md.

Offers :class:`Watch` (one stored watch, with :meth:`Watch.to_json` / :meth:`Watch.from_json`), :class:`WatchMatch`
(a watch that fired on one page), :func:`new_watch_id`, :func:`mask_target` (an Apprise URL with its secrets hidden,
for every output) and the vocabularies :data:`KINDS`, :data:`SEVERITIES`, :data:`STATES`.

Pure data: no I/O, no Elasticsearch, so the crawl, the retro-hunt, the notifier and the exporters share it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass, field, fields
from typing import Any

TERM = "term"
REGEX = "regex"
YARA = "yara"
ENTITY = "entity"
CLONE = "clone"
NEW_SITE = "new-site"
KINDS = (TERM, REGEX, YARA, ENTITY, CLONE, NEW_SITE)
SEVERITIES = ("low", "medium", "high", "critical")
ACTIVE = "active"
PAUSED = "paused"
STATES = (ACTIVE, PAUSED)

ID_PATTERN = re.compile(r"w-[0-9a-f]{6,}")
CONTEXT_CHARS = 300  # the longest context a match carries
# a host name worth showing: dotted (example.org, 10.0.0.1) or localhost; anything else in the host place is a token
_HOST_NAME = re.compile(r"localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def new_watch_id() -> str:
    """A short random id (``w-3f9c2a``): what the CLI shows and takes."""
    return f"w-{secrets.token_hex(3)}"


@dataclass
class Watch:
    """One watch: what to look for (``kind`` and ``spec``), whose it is, how bad a hit is and whom to tell.

    ``spec`` by kind: term ``{"terms": [...], "languages": [...]}`` (no languages: any); regex ``{"pattern"}``;
    yara ``{"rules_path", "rules_sha256", "rules_copy"}``; entity ``{"entity_kind", "value"}`` (normalised as
    ``pivot`` does); clone ``{"site", "max_distance"}``; new-site ``{"category"}``. ``targets`` are Apprise URLs or
    names of targets in the settings: they may hold secrets, so show them only through :func:`mask_target`."""

    id: str
    name: str
    kind: str
    spec: dict[str, Any]
    owner: str = ""
    severity: str = "medium"
    tags: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    realert_seconds: int = 0
    digest_seconds: int = 0
    state: str = ACTIVE
    created_at: str = ""

    @property
    def active(self) -> bool:
        return self.state == ACTIVE

    def to_json(self) -> dict[str, Any]:
        """Every field, JSON-ready (targets as stored: mask them before showing them to anyone)."""
        return asdict(self)

    def to_public_json(self) -> dict[str, Any]:
        """Every field with the targets' secrets masked: what the CLI prints and logs may show."""
        return self.to_json() | {"targets": [mask_target(target) for target in self.targets]}

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> Watch:
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

    def summary(self) -> dict[str, Any]:
        """The fields an alert copies (``watch`` in the alert document)."""
        return {"id": self.id, "name": self.name, "kind": self.kind, "severity": self.severity, "owner": self.owner,
                "tags": list(self.tags)}


@dataclass
class WatchMatch:
    """A watch that fired on one page. ``matches``: ``[{"kind", "value", "entity_kind", "context", "rule"}]``;
    ``clone`` (clone watches only): ``{"of_site", "of_url", "distance", "addresses": {"this", "watched"}}``."""

    watch: Watch
    matches: list[dict[str, Any]]
    clone: dict[str, Any] | None = None


def mask_target(target: str) -> str:
    """*target* with its secrets replaced by ``***``: the password of ``user:pass@`` (and a user without a password,
    which may be a token: ``matrix://TOKEN@host``), a host that is no host name
    (``slack://TOKEN_A/...``, ``discord://WEBHOOK_ID/...`` carry tokens there), and every path segment and query value
    (webhook tokens: ``json://host/hook/TOKEN``). A target name (no ``://``) is returned as it is."""
    if "://" not in target:
        return target
    scheme, rest = target.split("://", 1)
    netloc, slash, tail = rest.partition("/")
    tail, _, query = (slash + tail).partition("?") if slash else ("", "", rest.partition("?")[2])
    netloc = netloc.partition("?")[0]
    userinfo, at, host = netloc.rpartition("@")
    if at:  # a login with its password: the login shown; a user alone may be a token (matrix://TOKEN@host)
        userinfo = f"{userinfo.split(':', 1)[0]}:***@" if ":" in userinfo else "***@"
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if not (_HOST_NAME.fullmatch(name) or name.startswith("[")):
        host = "***"
    path = "/".join("***" if segment else "" for segment in tail.split("/"))
    masked_query = "&".join(f"{pair.split('=', 1)[0]}=***" for pair in query.split("&") if pair)
    return f"{scheme}://{userinfo}{host}{path}" + (f"?{masked_query}" if masked_query else "")
