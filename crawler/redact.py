"""Keeping secrets out of what darkcrawl prints, logs and records (README, "Configuration").

A password can reach output by several roads: a URL setting with userinfo (``http://elastic:PW@es:9200``), a token
in a query string, a key echoed by an error message. Every output path masks with the functions here, so one rule
decides what a secret looks like.

Offers: :data:`MASK`, :func:`is_secret_setting`, :func:`mask_url`, :func:`mask_text`, :func:`mask_data`,
:func:`secret_values`, :func:`masked_settings`, :class:`MaskingFormatter`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

MASK = "***"
# A setting whose name holds one of these is a secret as a whole (DARKCRAWL_ES_PASSWORD, DARKCRAWL_ES_API_KEY ...).
SECRET_MARKERS = ("PASSWORD", "API_KEY", "SECRET", "TOKEN")
# scheme://userinfo@ : the userinfo goes, whatever it holds (a user name alone can be a token).
_USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s@'\"<>]*@")
# a secret in a query string or a header written into a message
_QUERY_SECRET = re.compile(
    r"([?&;](?:api[_-]?key|apikey|access[_-]?token|token|password|passwd|pwd|secret|auth)=)[^&#\s'\"<>]+",
    re.IGNORECASE,
)
_AUTH_HEADER = re.compile(r"\b((?:Authorization|X-Api-Key)[\"']?\s*[:=]\s*[\"']?(?:(?:Basic|Bearer|ApiKey)\s+)?)"
                          r"[^\s'\",}]+", re.IGNORECASE)
_URL_USERINFO = re.compile(r"://([^/?#\s@]*)@")
MIN_SECRET_LENGTH = 4  # shorter configured values are not searched for in text (they would mask ordinary words)


def is_secret_setting(name: str) -> bool:
    """Whether the setting *name* holds a secret as a whole (its value is never shown)."""
    return any(marker in name.upper() for marker in SECRET_MARKERS)


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """*text* with URL userinfo, query-string secrets, authorization headers and each of *secrets* replaced by
    :data:`MASK`."""
    text = _USERINFO.sub(lambda match: f"{match.group(1)}{MASK}@", text)
    text = _QUERY_SECRET.sub(lambda match: f"{match.group(1)}{MASK}", text)
    text = _AUTH_HEADER.sub(lambda match: f"{match.group(1)}{MASK}", text)
    for secret in sorted({value for value in secrets if len(value) >= MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def mask_url(url: str) -> str:
    """*url* fit to show: its userinfo (``user:password@``) and query-string secrets replaced by :data:`MASK`."""
    return mask_text(url)


def secret_values(settings: BaseSettings | Mapping[str, Any]) -> list[str]:
    """The configured secret values in *settings* (a Scrapy ``Settings`` or a mapping): secret settings, and the
    userinfo of URL settings, so that text echoing one of them can be masked."""
    names = settings.attributes if hasattr(settings, "attributes") else settings
    values: list[str] = []
    for name in names:
        if not name.startswith("DARKCRAWL_"):
            continue
        value = settings.get(name)
        if not isinstance(value, str) or not value:
            continue
        if is_secret_setting(name):
            values.append(value)
        elif userinfo := _URL_USERINFO.search(value):
            user, colon, password = userinfo.group(1).partition(":")
            values.append(password if colon else user)  # a user name alone may be a token; with a password, not
    return [value for value in values if value]


def mask_data(value: Any, secrets: Iterable[str] = ()) -> Any:
    """*value* (JSON-like: dicts, lists, strings) with every string passed through :func:`mask_text`."""
    if isinstance(value, str):
        return mask_text(value, secrets)
    if isinstance(value, dict):
        return {key: mask_data(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(item, secrets) for item in value]
    return value


def masked_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """*values* (setting name -> value) without secret settings, and with every string value masked."""
    return {
        name: mask_text(value) if isinstance(value, str) else value
        for name, value in values.items()
        if not is_secret_setting(name)
    }


class MaskingFormatter(logging.Formatter):
    """A log formatter whose lines (tracebacks included) pass through :func:`mask_text`, with the configured secret
    values of :attr:`secrets` (set once the settings are read)."""

    secrets: tuple[str, ...] = ()

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record), self.secrets)
