"""Notification targets carry secrets (SMTP passwords, webhook tokens in the path, API keys in headers): this module
keeps them out of every log line and every message darkcrawl prints. Documentation: docs/notify.md, "Secrets".

Apprise's own privacy mode is not enough: it shows a generic webhook's path (``json://host/hook/<token>``) and its
header values, and at DEBUG level Apprise and urllib3 log the full POST URL. So darkcrawl shows targets only
through :func:`crawler.watch.model.mask_target` (shared with the watch CLI) and installs one :class:`SecretFilter`
on the loggers Apprise sends through, which replaces every registered secret by ``***`` before any handler sees it.

Offers: :func:`secrets_of`, :func:`register_secrets`, :func:`scrub`, :func:`install_log_masking`.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MIN_SECRET = 4  # shorter parts are not treated as secrets (masking "a" everywhere would garble every log line)
# Loggers Apprise writes through (its own, and the HTTP stack under its webhook plugins).
APPRISE_LOGGERS = ("apprise", "urllib3", "urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry",
                   "requests")
_HOSTLIKE = re.compile(r"^(localhost|[\d.]+|\[[0-9a-fA-F:]+\]|.*\..*)$")


def secrets_of(url: str) -> set[str]:
    """Every part of *url* that may be a secret: user and password, each path segment, every query value, a host
    that is not a host name; raw and URL-encoded."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return {url} if len(url) >= MIN_SECRET else set()
    found: set[str] = set()
    userinfo, _, host = parts.netloc.rpartition("@")  # as written: hostname would lower-case a token
    host = host if host.startswith("[") else host.rsplit(":", 1)[0]
    for piece in userinfo.split(":"):
        found.add(unquote(piece))
    if host and not _HOSTLIKE.match(host):
        found.add(host)
    for segment in parts.path.split("/"):
        found.add(unquote(segment))
    for _, value in parse_qsl(parts.query, keep_blank_values=True):
        found.add(value)
    if parts.fragment:
        found.add(unquote(parts.fragment))
    found = {item for item in found if len(item) >= MIN_SECRET}
    return found | {quote(item, safe="") for item in found}


class SecretFilter(logging.Filter):
    """Replaces registered secrets in a record's message (and its traceback) by ``***``."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, secrets: set[str]) -> None:
        with self._lock:
            if secrets - self.secrets:
                self.secrets |= secrets
                ordered = sorted(self.secrets, key=len, reverse=True)  # longest first: no half-masked token
                self._pattern = re.compile("|".join(re.escape(item) for item in ordered))

    def scrub(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub("***", text) if pattern is not None and text else text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._pattern is None:
            return True
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = self.scrub(message)
        record.args = None
        return True


_FILTER = SecretFilter()


def install_log_masking() -> SecretFilter:
    """Attach the one :class:`SecretFilter` to Apprise's loggers (idempotent) and return it."""
    for name in APPRISE_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    return _FILTER


def register_secrets(url: str) -> None:
    """Mask the secrets of *url* in Apprise's logs from now on."""
    install_log_masking().add(secrets_of(url))


def scrub(text: str) -> str:
    """*text* with every registered secret masked (error messages read from Apprise)."""
    return _FILTER.scrub(text)
